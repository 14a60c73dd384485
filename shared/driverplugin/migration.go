package driverplugin

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/internal/fromproto"
	"github.com/mogan-manage/mogan-manage/shared/internal/toproto"
)

// The migration capabilities over gRPC (driver.Enroller, Exporter,
// Releaser): the plugin's side first, then the host's.

func (s *grpcServer) EnrollNode(ctx context.Context, req *driverv1.EnrollNodeRequest) (*driverv1.EnrollNodeResponse, error) {
	e, ok := s.impl.(driver.Enroller)
	if !ok {
		return nil, toStatus(driver.NotImplemented("enrolling a node"))
	}
	st, err := e.EnrollNode(ctx, fromproto.EnrollRequest(req))
	if err != nil {
		return nil, toStatus(scrubSecrets(err, req.GetSecrets()))
	}
	return toproto.EnrollNodeResponse(st), nil
}

func (s *grpcServer) CheckEnroll(ctx context.Context, req *driverv1.EnrollNodeRequest) (*driverv1.CheckEnrollResponse, error) {
	e, ok := s.impl.(driver.EnrollChecker)
	if !ok {
		return nil, toStatus(driver.NotImplemented("checking an enrollment"))
	}
	if err := e.CheckEnroll(ctx, fromproto.EnrollRequest(req)); err != nil {
		return nil, toStatus(scrubSecrets(err, req.GetSecrets()))
	}
	return &driverv1.CheckEnrollResponse{}, nil
}

func (s *grpcServer) DeleteEnrolled(ctx context.Context, req *driverv1.DeleteEnrolledRequest) (*driverv1.DeleteEnrolledResponse, error) {
	e, ok := s.impl.(driver.Enroller)
	if !ok {
		return nil, toStatus(driver.NotImplemented("deleting an enrolled node"))
	}
	if err := e.DeleteEnrolled(ctx, req.GetMigrationId(), req.GetNodeUuid()); err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.DeleteEnrolledResponse{}, nil
}

func (s *grpcServer) ExportNode(ctx context.Context, req *driverv1.ExportNodeRequest) (*driverv1.ExportNodeResponse, error) {
	e, ok := s.impl.(driver.Exporter)
	if !ok {
		return nil, toStatus(driver.NotImplemented("exporting a node"))
	}
	exp, err := e.ExportNode(ctx, req.GetNodeUuid())
	if err != nil {
		return nil, toStatus(err)
	}
	resp, err := toproto.ExportNodeResponse(exp)
	if err != nil {
		return nil, toStatus(driver.InvalidArgument("exporting node %s: %v", req.GetNodeUuid(), err))
	}
	return resp, nil
}

// releaser answers for the three calls of the release capability.
func (s *grpcServer) releaser(what string) (driver.Releaser, error) {
	r, ok := s.impl.(driver.Releaser)
	if !ok {
		return nil, toStatus(driver.NotImplemented(what))
	}
	return r, nil
}

func (s *grpcServer) HoldNode(ctx context.Context, req *driverv1.HoldNodeRequest) (*driverv1.HoldNodeResponse, error) {
	r, err := s.releaser("holding a node")
	if err != nil {
		return nil, err
	}
	if err := r.HoldNode(ctx, req.GetMigrationId(), req.GetNodeUuid()); err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.HoldNodeResponse{}, nil
}

func (s *grpcServer) UnholdNode(ctx context.Context, req *driverv1.UnholdNodeRequest) (*driverv1.UnholdNodeResponse, error) {
	r, err := s.releaser("unholding a node")
	if err != nil {
		return nil, err
	}
	if err := r.UnholdNode(ctx, req.GetMigrationId(), req.GetNodeUuid()); err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.UnholdNodeResponse{}, nil
}

func (s *grpcServer) ReleaseNode(ctx context.Context, req *driverv1.ReleaseNodeRequest) (*driverv1.ReleaseNodeResponse, error) {
	r, err := s.releaser("releasing a node")
	if err != nil {
		return nil, err
	}
	if err := r.ReleaseNode(ctx, req.GetMigrationId(), req.GetNodeUuid()); err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.ReleaseNodeResponse{}, nil
}

// scrubbed stands for a secret's value in an error that quoted it.
const scrubbed = "***"

// scrubSecrets returns err with every secret value replaced, in its
// message and its reason, keeping its kind and option: whatever a driver
// or its backend put in an error, no secret leaves the plugin in one.
// Longer values are replaced first, so that a secret containing another
// is replaced whole.
func scrubSecrets(err error, secrets map[string]string) error {
	values := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if v != "" {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return err
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, scrubbed)
	}
	r := strings.NewReplacer(pairs...)
	msg := r.Replace(err.Error())
	i := kindIndex(err)
	if i < 0 {
		return errors.New(msg)
	}
	return &driver.Error{
		Kind:    kindCodes[i].kind,
		Message: msg,
		Reason:  r.Replace(driver.ReasonOf(err)),
		Option:  driver.OptionOf(err),
	}
}

func (c *grpcClient) EnrollNode(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
	in, err := toproto.EnrollNodeRequest(req)
	if err != nil {
		return driver.EnrollState{}, driver.InvalidArgument("enrolling node %s: %v", req.NodeUUID, err)
	}
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.EnrollNodeResponse, error) {
		return c.rpc.EnrollNode(ctx, in)
	})
	if err != nil {
		return driver.EnrollState{}, err
	}
	return fromproto.EnrollState(resp), nil
}

func (c *grpcClient) CheckEnroll(ctx context.Context, req driver.EnrollRequest) error {
	in, err := toproto.EnrollNodeRequest(req)
	if err != nil {
		return driver.InvalidArgument("checking node %s: %v", req.NodeUUID, err)
	}
	_, err = call(ctx, func(ctx context.Context) (*driverv1.CheckEnrollResponse, error) {
		return c.rpc.CheckEnroll(ctx, in)
	})
	return err
}

func (c *grpcClient) DeleteEnrolled(ctx context.Context, migrationID, nodeUUID string) error {
	_, err := call(ctx, func(ctx context.Context) (*driverv1.DeleteEnrolledResponse, error) {
		return c.rpc.DeleteEnrolled(ctx, &driverv1.DeleteEnrolledRequest{MigrationId: migrationID, NodeUuid: nodeUUID})
	})
	return err
}

func (c *grpcClient) ExportNode(ctx context.Context, nodeUUID string) (driver.Export, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.ExportNodeResponse, error) {
		return c.rpc.ExportNode(ctx, &driverv1.ExportNodeRequest{NodeUuid: nodeUUID})
	})
	if err != nil {
		return driver.Export{}, err
	}
	return fromproto.Export(resp), nil
}

func (c *grpcClient) HoldNode(ctx context.Context, migrationID, nodeUUID string) error {
	_, err := call(ctx, func(ctx context.Context) (*driverv1.HoldNodeResponse, error) {
		return c.rpc.HoldNode(ctx, &driverv1.HoldNodeRequest{MigrationId: migrationID, NodeUuid: nodeUUID})
	})
	return err
}

func (c *grpcClient) UnholdNode(ctx context.Context, migrationID, nodeUUID string) error {
	_, err := call(ctx, func(ctx context.Context) (*driverv1.UnholdNodeResponse, error) {
		return c.rpc.UnholdNode(ctx, &driverv1.UnholdNodeRequest{MigrationId: migrationID, NodeUuid: nodeUUID})
	})
	return err
}

func (c *grpcClient) ReleaseNode(ctx context.Context, migrationID, nodeUUID string) error {
	_, err := call(ctx, func(ctx context.Context) (*driverv1.ReleaseNodeResponse, error) {
		return c.rpc.ReleaseNode(ctx, &driverv1.ReleaseNodeRequest{MigrationId: migrationID, NodeUuid: nodeUUID})
	})
	return err
}
