package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// enrichBatch is how many listed nodes share one round of Glance and
// Neutron lookups: the lookups are batched per chunk, never per node.
const enrichBatch = 200

// ListOptions filter a listing of manageable nodes.
type ListOptions struct {
	driver.ListOptions
	// Backend keeps one backend's nodes; "" lists every backend's.
	Backend string
}

// ListManageable streams the manageable nodes of every backend listed (in
// their configured order, each backend's in its driver's order) to send,
// with the backend's name. Limit and Marker work across backends: a page
// may end in one backend and the next begin in the following one. With
// several backends each is checked first: one that is down is a 503
// naming it, never a silently partial listing.
//
// With Glance configured, a node's image_source is kept only when it names
// an image Glance knows (a URL or an unknown id becomes empty, shown
// null); with Neutron, each port's and portgroup's neutron_port_id
// likewise. Either unreachable fails the listing (503 naming it) rather
// than answering nulls it could not check.
func (s *Service) ListManageable(ctx context.Context, opts ListOptions, send func(backend string, n Node) error) error {
	bs, err := s.listed(ctx, opts.Backend)
	if err != nil {
		return err
	}
	if len(bs) > 1 {
		if err := checkAll(ctx, bs); err != nil {
			return err
		}
	}
	// Nodes migrations hold are not manageable: left out, reading as many
	// more as there are such nodes so that a page stays full.
	claims, err := s.store.MigrationClaims(ctx)
	if err != nil {
		return storeError(err)
	}
	start := 0
	if opts.Marker != "" && len(bs) > 1 {
		if start, err = s.markerBackend(ctx, bs, opts.Marker); err != nil {
			return err
		}
	}
	remaining := opts.Limit
	for i := start; i < len(bs); i++ {
		b := bs[i]
		page := opts.ListOptions
		if i != start {
			page.Marker = ""
		}
		page.Limit = remaining
		if remaining > 0 {
			page.Limit += claims
		}
		sent, last := 0, ""
		err := s.listBackend(ctx, b.Driver, page, claims > 0, func(n Node) error {
			if opts.Limit > 0 && sent == remaining {
				return errPageFull
			}
			sent, last = sent+1, n.UUID
			return send(b.Name, n)
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return err
		}
		if opts.Limit > 0 {
			if remaining -= sent; remaining == 0 {
				s.backends.cursors.remember(last, b.Name)
				return nil
			}
		}
	}
	return nil
}

// markerBackend is the index in bs of the backend holding a listing's
// marker: the one the previous page ended in, as remembered, else the
// first whose driver knows the node.
func (s *Service) markerBackend(ctx context.Context, bs []Backend, marker string) (int, error) {
	if name, ok := s.backends.cursors.lookup(marker); ok {
		if i := slices.IndexFunc(bs, func(b Backend) bool { return b.Name == name }); i >= 0 {
			return i, nil
		}
	}
	holds := make([]bool, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Go(func() {
			states, err := b.Driver.GetNodeStates(ctx, []string{marker})
			holds[i] = err == nil && slices.ContainsFunc(states, func(st driver.NodeState) bool { return st.NodeUUID == marker && st.Exists })
		})
	}
	wg.Wait()
	if i := slices.Index(holds, true); i >= 0 {
		return i, nil
	}
	return 0, &refusal{kind: ErrInvalidArgument, msg: fmt.Sprintf("Marker %s is not a node of any backend listed.", marker)}
}

// errPageFull stops a backend's listing that read beyond the page (to
// make up for nodes migrations hold).
var errPageFull = errors.New("the page is full")

// listBackend streams one backend's nodes, enriched, without those
// migrations hold (withClaims: some may).
func (s *Service) listBackend(ctx context.Context, drv driver.Full, opts driver.ListOptions, withClaims bool, send func(Node) error) error {
	if s.images == nil && s.networks == nil && !withClaims {
		return drv.ListManageableNodes(ctx, opts, send)
	}
	chunk := make([]Node, 0, enrichBatch)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := s.enrich(ctx, chunk); err != nil {
			return err
		}
		claimed := map[string]string{}
		if withClaims {
			ids := make([]string, len(chunk))
			for i, n := range chunk {
				ids[i] = n.UUID
			}
			var err error
			if claimed, err = s.store.ClaimedNodes(ctx, ids); err != nil {
				return storeError(err)
			}
		}
		for _, n := range chunk {
			if claimed[n.UUID] != "" {
				continue
			}
			if err := send(n); err != nil {
				return err
			}
		}
		chunk = chunk[:0]
		return nil
	}
	err := drv.ListManageableNodes(ctx, opts, func(n Node) error {
		chunk = append(chunk, n)
		if len(chunk) == enrichBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// enrich checks the chunk's images and Neutron ports in one batched
// lookup each and empties the ids that do not exist.
func (s *Service) enrich(ctx context.Context, nodes []Node) error {
	if s.images != nil {
		var ids []string
		for _, n := range nodes {
			if uuidLike.MatchString(n.ImageSource) {
				ids = append(ids, n.ImageSource)
			}
		}
		found := map[string]bool{}
		if len(ids) > 0 {
			var err error
			if found, err = s.images.Existing(ctx, ids); err != nil {
				return upstreamError(err)
			}
		}
		for i := range nodes {
			if !found[nodes[i].ImageSource] {
				nodes[i].ImageSource = ""
			}
		}
	}
	if s.networks != nil {
		var ids []string
		for _, n := range nodes {
			for _, p := range n.Ports {
				if p.NeutronPortID != "" {
					ids = append(ids, p.NeutronPortID)
				}
			}
			for _, pg := range n.Portgroups {
				if pg.NeutronPortID != "" {
					ids = append(ids, pg.NeutronPortID)
				}
			}
		}
		if len(ids) == 0 {
			return nil
		}
		found, err := s.networks.Ports(ctx, ids)
		if err != nil {
			return upstreamError(err)
		}
		for i := range nodes {
			// The driver's slices may be shared with its caller: copy
			// before changing.
			nodes[i].Ports = append([]Port(nil), nodes[i].Ports...)
			for j, p := range nodes[i].Ports {
				if _, ok := found[p.NeutronPortID]; !ok {
					nodes[i].Ports[j].NeutronPortID = ""
				}
			}
			nodes[i].Portgroups = append([]Portgroup(nil), nodes[i].Portgroups...)
			for j, pg := range nodes[i].Portgroups {
				if _, ok := found[pg.NeutronPortID]; !ok {
					nodes[i].Portgroups[j].NeutronPortID = ""
				}
			}
		}
	}
	return nil
}
