package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Backend is one backend of the host ([DEFAULT] enabled_backends, or the
// one [driver] name implies): its name and its driver plugin. Servers,
// intents and tombstones record the backend of their node, and everything
// after the adoption acts there.
type Backend struct {
	Name   string
	Driver driver.Full
	// Check says whether the backend answers: nil, an error wrapping
	// health.ErrUnknown when it cannot tell (counted as up), or why it is
	// down. Nil: always up.
	Check func(ctx context.Context) error
}

// backendSet is the backends in their configured order.
type backendSet struct {
	list   []Backend
	byName map[string]Backend
	// cursors remembers in which backend recent listing pages ended, so
	// that the next page finds its marker's backend without asking.
	cursors *cursorCache
}

func newBackendSet(list []Backend) backendSet {
	set := backendSet{list: list, byName: map[string]Backend{}, cursors: newCursorCache(cursorCacheSize)}
	for _, b := range list {
		set.byName[b.Name] = b
	}
	return set
}

func (bs backendSet) names() string {
	names := make([]string, len(bs.list))
	for i, b := range bs.list {
		names[i] = b.Name
	}
	return strings.Join(names, ", ")
}

// driverOf is the driver of a backend a server, an intent or a tombstone
// recorded: a 409 naming it when it is no longer configured (what it holds
// keeps showing; acting on it waits until it is configured again).
func (s *Service) driverOf(backend string) (driver.Full, error) {
	if b, ok := s.backends.byName[backend]; ok {
		return b.Driver, nil
	}
	return nil, &refusal{kind: ErrConflict, msg: fmt.Sprintf(
		"Backend %q is not configured ([DEFAULT] enabled_backends: %s): configure it again to act on what it holds.",
		backend, s.backends.names())}
}

// Backends are the host's backends, in their configured order.
func (s *Service) Backends() []Backend { return slices.Clone(s.backends.list) }

// BackendStatus is what GET /v1/backends shows of a backend.
type BackendStatus struct {
	Name string
	// Info is the driver's own description (empty when its plugin is
	// down).
	Info driver.Info
	// Err is why the backend (or its plugin) is down; nil when up.
	Err error
}

// BackendStatuses asks every backend, concurrently, for its driver's
// info and whether it answers.
func (s *Service) BackendStatuses(ctx context.Context) []BackendStatus {
	out := make([]BackendStatus, len(s.backends.list))
	var wg sync.WaitGroup
	for i, b := range s.backends.list {
		wg.Go(func() {
			out[i] = BackendStatus{Name: b.Name}
			info, err := b.Driver.Info(ctx)
			if err != nil {
				out[i].Err = err
				return
			}
			out[i].Info = info
			out[i].Err = checkBackend(ctx, b)
		})
	}
	wg.Wait()
	return out
}

// checkBackend is nil when b answers or cannot tell.
func checkBackend(ctx context.Context, b Backend) error {
	if b.Check == nil {
		return nil
	}
	if err := b.Check(ctx); err != nil && !errors.Is(err, health.ErrUnknown) {
		return err
	}
	return nil
}

// listed are the backends a listing (or an adoption's search) includes:
// the one named, or every backend — with several, only those whose driver
// says it can discover nodes (a noop backend beside Ironics is left out;
// alone, it answers 501 as its driver does).
func (s *Service) listed(ctx context.Context, name string) ([]Backend, error) {
	if name != "" {
		b, ok := s.backends.byName[name]
		if !ok {
			return nil, &refusal{kind: ErrInvalidArgument, msg: fmt.Sprintf(
				"Unknown backend %q: the backends are %s.", name, s.backends.names())}
		}
		return []Backend{b}, nil
	}
	if len(s.backends.list) == 1 {
		return s.backends.list, nil
	}
	var out []Backend
	for _, b := range s.backends.list {
		info, err := b.Driver.Info(ctx)
		if err == nil && !slices.Contains(info.Capabilities, driver.CapabilityDiscover) {
			continue // cannot list nodes
		}
		out = append(out, b) // a plugin that does not answer is checked, and named, below
	}
	if len(out) == 0 {
		return nil, driver.NotImplemented("listing nodes (no backend can: " + s.backends.names() + ")")
	}
	return out, nil
}

// checkAll asks each backend whether it answers, concurrently: a 503
// naming every one that is down, so that a listing is never silently
// partial.
func checkAll(ctx context.Context, bs []Backend) error {
	errs := make([]error, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Go(func() {
			if err := checkBackend(ctx, b); err != nil {
				errs[i] = fmt.Errorf("backend %q: %w", b.Name, err)
			}
		})
	}
	wg.Wait()
	var down []string
	for _, err := range errs {
		if err != nil {
			down = append(down, err.Error())
		}
	}
	if len(down) > 0 {
		return &refusal{kind: ErrUnavailable, msg: fmt.Sprintf(
			"A backend of the listing is down, so the listing would be partial (select the others with ?backend=): %s",
			strings.Join(down, "; "))}
	}
	return nil
}

// findNode is the backend holding a node an adoption names without
// "backend": looked up on every backend that can discover, concurrently.
// Found on exactly one: that one (a backend that could not be asked is
// logged and does not block it); on none: 404, or 503 naming those that
// could not be asked; on several: 409 naming them.
func (s *Service) findNode(ctx context.Context, nodeUUID string) (Backend, error) {
	bs, err := s.listed(ctx, "")
	if err != nil || len(bs) == 1 {
		if err != nil {
			return Backend{}, err
		}
		return bs[0], nil
	}
	found := make([]bool, len(bs))
	errs := make([]error, len(bs))
	g, gctx := errgroup.WithContext(ctx)
	for i, b := range bs {
		g.Go(func() error {
			_, err := b.Driver.GetManageableNode(gctx, nodeUUID)
			switch {
			case err == nil || errors.Is(err, driver.ErrNotManageable):
				found[i] = true
			case !errors.Is(err, driver.ErrNodeNotFound):
				errs[i] = err
			}
			return nil
		})
	}
	_ = g.Wait() // results and errors per backend
	var holders, unasked []string
	var holder Backend
	for i, b := range bs {
		switch {
		case found[i]:
			holders, holder = append(holders, b.Name), b
		case errs[i] != nil:
			unasked = append(unasked, fmt.Sprintf("%s (%v)", b.Name, errs[i]))
		}
	}
	switch {
	case len(holders) > 1:
		return Backend{}, &refusal{kind: ErrConflict, msg: fmt.Sprintf(
			"Node %s is in several backends (%s): say which with \"backend\" in the request.", nodeUUID, strings.Join(holders, ", "))}
	case len(holders) == 1:
		if len(unasked) > 0 {
			s.log.Warn("adopting a node found on one backend while others could not be asked",
				"node_uuid", nodeUUID, "backend", holder.Name, "not_asked", strings.Join(unasked, "; "))
		}
		return holder, nil
	case len(unasked) > 0:
		return Backend{}, &refusal{kind: ErrUnavailable, msg: fmt.Sprintf(
			"Node %s was not found, but these backends could not be asked: %s.", nodeUUID, strings.Join(unasked, "; "))}
	}
	return Backend{}, driver.NotFound("node %s was not found in any backend (%s)", nodeUUID, s.backends.names())
}

// cursorCacheSize bounds the listing cursors remembered.
const cursorCacheSize = 4096

// cursorCache maps the last node of a listing page to its backend,
// forgetting the oldest first.
type cursorCache struct {
	mu    sync.Mutex
	m     map[string]string
	order []string
	max   int
}

func newCursorCache(size int) *cursorCache { return &cursorCache{m: map[string]string{}, max: size} }

func (c *cursorCache) remember(node, backend string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[node]; !ok {
		c.order = append(c.order, node)
		if len(c.order) > c.max {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.m[node] = backend
}

func (c *cursorCache) lookup(node string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[node]
	return b, ok
}
