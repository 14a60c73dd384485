package driverplugin

import (
	"context"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/internal/fromproto"
	"github.com/mogan-manage/mogan-manage/shared/internal/toproto"
)

// streamBatch is how many nodes travel in one stream message: large enough
// that a 100,000-node listing is not 100,000 round trips of framing, small
// enough (a few hundred KiB at most) to stay far below gRPC's 4 MB limit.
// A batch that fills slowly leaves early (batch.go).
const streamBatch = 128

// grpcServer serves one driver.Driver on the plugin side.
type grpcServer struct {
	driverv1.UnimplementedDriverServer
	impl driver.Driver
}

func (s *grpcServer) GetInfo(ctx context.Context, _ *driverv1.GetInfoRequest) (*driverv1.GetInfoResponse, error) {
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	if len(info.Capabilities) == 0 {
		info.Capabilities = driver.CapabilitiesOf(s.impl)
	}
	return toproto.GetInfoResponse(info), nil
}

func (s *grpcServer) Configure(ctx context.Context, req *driverv1.ConfigureRequest) (*driverv1.ConfigureResponse, error) {
	if err := s.impl.Configure(ctx, req.GetOptions()); err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.ConfigureResponse{}, nil
}

func (s *grpcServer) ListManageableNodes(req *driverv1.ListManageableNodesRequest, stream driverv1.Driver_ListManageableNodesServer) error {
	d, ok := s.impl.(driver.Discoverer)
	if !ok {
		return toStatus(driver.NotImplemented("listing manageable nodes"))
	}
	b := newBatcher(stream.Send)
	err := d.ListManageableNodes(stream.Context(), fromproto.ListOptions(req), func(n driver.Node) error {
		return b.add(toproto.Node(n))
	})
	if cerr := b.close(); err == nil {
		err = cerr
	}
	return toStatus(err)
}

func (s *grpcServer) GetManageableNode(ctx context.Context, req *driverv1.GetManageableNodeRequest) (*driverv1.GetManageableNodeResponse, error) {
	d, ok := s.impl.(driver.Discoverer)
	if !ok {
		return nil, toStatus(driver.NotImplemented("getting a manageable node"))
	}
	n, err := d.GetManageableNode(ctx, req.GetNodeUuid())
	if err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.GetManageableNodeResponse{Node: toproto.Node(n)}, nil
}

func (s *grpcServer) Manage(ctx context.Context, req *driverv1.ManageRequest) (*driverv1.ManageResponse, error) {
	a, ok := s.impl.(driver.Adopter)
	if !ok {
		return nil, toStatus(driver.NotImplemented("managing a node"))
	}
	n, err := a.Manage(ctx, fromproto.ManageRequest(req))
	if err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.ManageResponse{Node: toproto.Node(n)}, nil
}

func (s *grpcServer) Unmanage(ctx context.Context, req *driverv1.UnmanageRequest) (*driverv1.UnmanageResponse, error) {
	a, ok := s.impl.(driver.Adopter)
	if !ok {
		return nil, toStatus(driver.NotImplemented("unmanaging a node"))
	}
	if err := a.Unmanage(ctx, fromproto.UnmanageRequest(req)); err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.UnmanageResponse{}, nil
}

func (s *grpcServer) GetNodeStates(ctx context.Context, req *driverv1.GetNodeStatesRequest) (*driverv1.GetNodeStatesResponse, error) {
	r, ok := s.impl.(driver.StateReader)
	if !ok {
		return nil, toStatus(driver.NotImplemented("reading node states"))
	}
	if n := len(req.GetNodeUuids()); n > driver.MaxNodeStates {
		return nil, toStatus(driver.InvalidArgument("%d node uuids in one GetNodeStates call; at most %d", n, driver.MaxNodeStates))
	}
	states, err := r.GetNodeStates(ctx, req.GetNodeUuids())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &driverv1.GetNodeStatesResponse{States: make([]*driverv1.NodeState, len(states))}
	for i, st := range states {
		resp.States[i] = toproto.NodeState(st)
	}
	return resp, nil
}

func (s *grpcServer) GetConfigSchema(ctx context.Context, _ *driverv1.GetConfigSchemaRequest) (*driverv1.GetConfigSchemaResponse, error) {
	d, ok := s.impl.(driver.ConfigDescriber)
	if !ok {
		return nil, toStatus(driver.NotImplemented("describing the driver's options"))
	}
	opts, err := d.ConfigSchema(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return toproto.GetConfigSchemaResponse(opts), nil
}
