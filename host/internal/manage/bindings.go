package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// bindingPage is how many binding tombstones one reconciler batch reads
// (and looks up in Neutron at once).
const bindingPage = 200

// repairBindings puts each tombstoned Neutron port back to its wanted
// binding: bound to its node when a live server records the port, else the
// binding it had before we touched it — but only while it is still bound
// to that node and no instance holds the node, i.e. what is wrong is ours
// (a late PUT of an adoption rolled back, or an undo by a replica that
// lost its intent); a port someone else has bound since is theirs. Ports of a node with an intent
// in progress are left to it, and those of a server in error (its node
// may be another instance's now) are left alone. Only tombstoned ports are
// read, never every port.
func (s *Service) repairBindings(ctx context.Context) (int, error) {
	if s.networks == nil {
		return 0, nil
	}
	since := s.now().Add(-s.retention)
	if _, err := s.store.PurgeBindingTombstones(ctx, since); err != nil {
		return 0, err
	}
	repaired := 0
	after := ""
	for {
		ts, err := s.store.BindingTombstones(ctx, since, after, bindingPage)
		if err != nil || len(ts) == 0 {
			return repaired, err
		}
		n, err := s.repairBindingPage(ctx, ts)
		repaired += n
		if err != nil {
			return repaired, err
		}
		if len(ts) < bindingPage {
			return repaired, nil
		}
		after = ts[len(ts)-1].PortID
	}
}

func (s *Service) repairBindingPage(ctx context.Context, ts []store.BindingTombstone) (int, error) {
	ids := make([]string, len(ts))
	var nodes []string
	for i, t := range ts {
		ids[i] = t.PortID
		nodes = append(nodes, t.NodeUUID)
	}
	busy, err := s.store.NodesInProgress(ctx, nodes)
	if err != nil {
		return 0, err
	}
	ports, err := s.networks.Ports(ctx, ids)
	if err != nil {
		return 0, upstreamError(err)
	}
	type fix struct {
		t          store.BindingTombstone
		port       neutron.Port
		host, vnic string
	}
	var fixes []fix
	var errs []error
	var unbinding []nodeRef // nodes whose ports we would unbind: are they someone's?
	for _, t := range ts {
		port, ok := ports[t.PortID]
		if !ok || busy[t.NodeUUID] {
			continue // deleted, or an intent decides
		}
		wantHost, wantVNIC, ok, err := s.wantedBinding(ctx, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok || (port.HostID == wantHost && vnicOr(port.VNICType) == wantVNIC) {
			continue
		}
		if wantHost != t.NodeUUID && port.HostID != t.NodeUUID {
			continue // bound elsewhere since: not ours to change
		}
		if wantHost != t.NodeUUID {
			unbinding = append(unbinding, nodeRef{t.Backend, t.NodeUUID})
		}
		fixes = append(fixes, fix{t, port, wantHost, wantVNIC})
	}
	states, err := s.nodeStates(ctx, unbinding)
	if err != nil {
		errs = append(errs, err)
	}
	repaired := 0
	for _, f := range fixes {
		if f.host != f.t.NodeUUID {
			st, read := states.lookup(nodeRef{f.t.Backend, f.t.NodeUUID})
			if read && st.Exists && st.InstanceUUID != "" {
				continue // another instance holds the node: its bindings are its owner's
			}
			if !read && !states.cannotRead(f.t.Backend) {
				continue // its backend is down: the next pass
			}
		}
		if _, err := s.networks.Bind(ctx, f.t.PortID, f.host, f.vnic); err != nil {
			errs = append(errs, fmt.Errorf("repairing the binding of Neutron port %s: %w", f.t.PortID, err))
			continue
		}
		repaired++
		s.log.Warn("put a Neutron port back to its wanted binding (a late or fenced-out request had changed it)",
			"port_id", f.t.PortID, "node_uuid", f.t.NodeUUID, "was_host_id", f.port.HostID, "was_vnic_type", f.port.VNICType,
			"host_id", f.host, "vnic_type", f.vnic)
	}
	return repaired, errors.Join(errs...)
}

// wantedBinding is the binding a tombstoned port should have now; ok false
// when it is not ours to decide (a server in error, or being built).
func (s *Service) wantedBinding(ctx context.Context, t store.BindingTombstone) (host, vnic string, ok bool, err error) {
	srv, err := s.store.ServerByNode(ctx, t.NodeUUID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t.PrevHostID, vnicOr(t.PrevVNICType), true, nil
	case err != nil:
		return "", "", false, err
	case srv.Status == store.StatusBuilding || srv.Status == store.StatusError:
		return "", "", false, nil
	}
	for _, b := range srv.Bindings {
		if b.PortID == t.PortID {
			return t.NodeUUID, vnicBaremetal, true, nil
		}
	}
	return t.PrevHostID, vnicOr(t.PrevVNICType), true, nil
}

func vnicOr(v string) string {
	if v == "" {
		return vnicNormal
	}
	return v
}
