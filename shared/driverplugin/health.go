package driverplugin

import (
	"context"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

var _ driver.BackendChecker = (*grpcClient)(nil)

// CheckBackend asks the plugin whether its backend answers:
// driver.ErrNotImplemented from a driver that cannot tell.
func (c *grpcClient) CheckBackend(ctx context.Context) (string, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.CheckBackendResponse, error) {
		return c.rpc.CheckBackend(ctx, &driverv1.CheckBackendRequest{})
	})
	if err != nil {
		return "", err
	}
	return resp.GetBackend(), nil
}

func (s *grpcServer) CheckBackend(ctx context.Context, _ *driverv1.CheckBackendRequest) (*driverv1.CheckBackendResponse, error) {
	c, ok := s.impl.(driver.BackendChecker)
	if !ok {
		return nil, toStatus(driver.NotImplemented("checking the backend"))
	}
	backend, err := c.CheckBackend(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &driverv1.CheckBackendResponse{Backend: backend}, nil
}
