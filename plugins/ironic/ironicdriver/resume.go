package ironicdriver

import (
	lru "container/list"
	"context"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"golang.org/x/sync/errgroup"
)

// Resuming a paged listing. Nodes come in Ironic's node order (its
// internal id), ports and portgroups sorted by node_id, and Ironic pages
// every listing by (sort key, id): a port marker resumes the port stream
// at the first port after it in (node_id, id) order. So page k+1 of a
// listing whose node marker is M needs, as its port marker, the last port
// (highest id) of the last node at or before M that has ports; its ports
// then start exactly where page k's stopped, and page k costs O(page)
// upstream work instead of re-reading every port from the start.
//
// Where the cursor comes from, best first:
//  1. remembered: the listing that ended at M noted the last port and
//     portgroup it consumed (cursors, an LRU in this plugin process);
//  2. looked up: M's own last port and portgroup, one request each;
//  3. none: that stream is read from its start (correct, just slower) —
//     for a portgroup stream, when M has no portgroup and the listing
//     ending at M was served by another process.
//
// Correct when nodes and ports change between pages: a port added to a
// node after M sorts after the cursor and is read; one added to a node
// before M belongs to a page already served; a deleted cursor makes
// Ironic answer 404, and that stream is read from its start.

// cursor is where a listing's port and portgroup streams stopped.
type cursor struct {
	port, portgroup string
}

// cursorCap bounds the remembered cursors (a few scripts paging at once).
const cursorCap = 256

// cursors remembers, by node uuid, the cursor of the listing that ended
// at that node.
type cursors struct {
	mu    sync.Mutex
	order *lru.List // of string, most recent first
	byKey map[string]*lru.Element
	vals  map[string]cursor
}

func newCursors() *cursors {
	return &cursors{order: lru.New(), byKey: map[string]*lru.Element{}, vals: map[string]cursor{}}
}

func (c *cursors) put(node string, cur cursor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[node]; ok {
		c.order.MoveToFront(e)
	} else {
		c.byKey[node] = c.order.PushFront(node)
	}
	c.vals[node] = cur
	for c.order.Len() > cursorCap {
		oldest := c.order.Back()
		key := oldest.Value.(string) //nolint:forcetypeassert // only strings are stored
		c.order.Remove(oldest)
		delete(c.byKey, key)
		delete(c.vals, key)
	}
}

func (c *cursors) get(node string) (cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.vals[node]
	return cur, ok
}

// resumeAt is the cursor of a listing resuming after node marker.
func (d *Driver) resumeAt(ctx context.Context, sc *gophercloud.ServiceClient, marker string) (cursor, error) {
	if cur, ok := d.cursors.get(marker); ok {
		return cur, nil
	}
	var cur cursor
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		page, err := nodeItems(gctx, sc, "ports", marker, []string{"uuid"})
		if err == nil && len(page.Ports) > 0 {
			cur.port = page.Ports[len(page.Ports)-1].UUID
		}
		return err
	})
	g.Go(func() error {
		page, err := nodeItems(gctx, sc, "portgroups", marker, []string{"uuid"})
		if err == nil && len(page.Portgroups) > 0 {
			cur.portgroup = page.Portgroups[len(page.Portgroups)-1].UUID
		}
		return err
	})
	if err := g.Wait(); err != nil {
		if gophercloud.ResponseCodeIs(err, 404) {
			return cursor{}, nil // the node is gone: the node listing says so
		}
		return cursor{}, err
	}
	return cur, nil
}
