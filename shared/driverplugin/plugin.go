package driverplugin

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// grpcPlugin is the go-plugin glue for both sides: on the plugin side it
// registers Impl with the gRPC server, on the host side it wraps the
// connection in a grpcClient.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl driver.Driver
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	driverv1.RegisterDriverServer(s, &grpcServer{impl: p.Impl})
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &grpcClient{rpc: driverv1.NewDriverClient(conn), conn: conn}, nil
}
