package manage

import (
	"context"
)

// enrichBatch is how many listed nodes share one round of Glance and
// Neutron lookups: the lookups are batched per chunk, never per node.
const enrichBatch = 200

// ListManageable streams the driver's manageable nodes to send. With
// Glance configured, a node's image_source is kept only when it names an
// image Glance knows (a URL or an unknown id becomes empty, shown null);
// with Neutron, each port's and portgroup's neutron_port_id likewise.
// Either unreachable fails the listing (503 naming it) rather than
// answering nulls it could not check.
func (s *Service) ListManageable(ctx context.Context, opts ListOptions, send func(Node) error) error {
	if s.images == nil && s.networks == nil {
		return s.driver.ListManageableNodes(ctx, opts, send)
	}
	chunk := make([]Node, 0, enrichBatch)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := s.enrich(ctx, chunk); err != nil {
			return err
		}
		for _, n := range chunk {
			if err := send(n); err != nil {
				return err
			}
		}
		chunk = chunk[:0]
		return nil
	}
	err := s.driver.ListManageableNodes(ctx, opts, func(n Node) error {
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
