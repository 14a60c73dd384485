package driverplugin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/internal/fromproto"
	"github.com/mogan-manage/mogan-manage/shared/internal/toproto"
)

// grpcClient is the host's view of a plugin: a driver.Full whose every
// method is one RPC. Capabilities the plugin lacks come back as
// driver.ErrNotImplemented; a call gRPC itself failed as ErrCallFailed.
type grpcClient struct {
	rpc  driverv1.DriverClient
	conn *grpc.ClientConn
}

// ping asks the plugin's gRPC server whether it serves, as go-plugin's
// GRPCClient.Ping does (the health service every go-plugin server
// registers), but bounded by ctx: go-plugin's own Ping has no deadline and
// would wait forever on a stopped process. The answer comes from the
// plugin's gRPC server, not from the driver, so a driver busy with a slow
// backend still answers.
func (c *grpcClient) ping(ctx context.Context) error {
	resp, err := grpc_health_v1.NewHealthClient(c.conn).Check(ctx,
		&grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return err
	}
	if s := resp.GetStatus(); s != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("the plugin's health service says %s", s)
	}
	return nil
}

var (
	_ driver.Full            = (*grpcClient)(nil)
	_ driver.ConfigDescriber = (*grpcClient)(nil)
)

// call runs one unary RPC and translates its error, the single place where
// a gRPC failure becomes an SDK error.
func call[Resp any](ctx context.Context, rpc func(context.Context) (Resp, error)) (Resp, error) {
	resp, err := rpc(ctx)
	return resp, fromStatus(err)
}

func (c *grpcClient) Info(ctx context.Context) (driver.Info, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.GetInfoResponse, error) {
		return c.rpc.GetInfo(ctx, &driverv1.GetInfoRequest{})
	})
	if err != nil {
		return driver.Info{}, err
	}
	return fromproto.Info(resp), nil
}

func (c *grpcClient) Configure(ctx context.Context, options map[string]string) error {
	_, err := call(ctx, func(ctx context.Context) (*driverv1.ConfigureResponse, error) {
		return c.rpc.Configure(ctx, &driverv1.ConfigureRequest{Options: options})
	})
	return err
}

func (c *grpcClient) ListManageableNodes(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
	// A send error must stop the plugin too: cancel the stream on return.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.ListManageableNodes(ctx, toproto.ListManageableNodesRequest(opts))
	if err != nil {
		return fromStatus(err)
	}
	for {
		// A cancelled caller stops here, even with nodes already received.
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromStatus(err)
		}
		for _, n := range resp.GetNodes() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := send(fromproto.Node(n)); err != nil {
				return err
			}
		}
	}
}

func (c *grpcClient) GetManageableNode(ctx context.Context, nodeUUID string) (driver.Node, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.GetManageableNodeResponse, error) {
		return c.rpc.GetManageableNode(ctx, &driverv1.GetManageableNodeRequest{NodeUuid: nodeUUID})
	})
	if err != nil {
		return driver.Node{}, err
	}
	return fromproto.Node(resp.GetNode()), nil
}

func (c *grpcClient) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.ManageResponse, error) {
		return c.rpc.Manage(ctx, toproto.ManageRequest(req))
	})
	if err != nil {
		return driver.Node{}, err
	}
	return fromproto.Node(resp.GetNode()), nil
}

func (c *grpcClient) Unmanage(ctx context.Context, req driver.ManageRequest) error {
	_, err := call(ctx, func(ctx context.Context) (*driverv1.UnmanageResponse, error) {
		return c.rpc.Unmanage(ctx, toproto.UnmanageRequest(req))
	})
	return err
}

func (c *grpcClient) GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.GetNodeStatesResponse, error) {
		return c.rpc.GetNodeStates(ctx, &driverv1.GetNodeStatesRequest{NodeUuids: nodeUUIDs})
	})
	if err != nil {
		return nil, err
	}
	states := make([]driver.NodeState, len(resp.GetStates()))
	for i, st := range resp.GetStates() {
		states[i] = fromproto.NodeState(st)
	}
	return states, nil
}

// ConfigSchema asks the plugin to describe its options: ErrNotImplemented
// from a driver that does not (its section is then opaque to the host).
func (c *grpcClient) ConfigSchema(ctx context.Context) ([]driver.ConfigOption, error) {
	resp, err := call(ctx, func(ctx context.Context) (*driverv1.GetConfigSchemaResponse, error) {
		return c.rpc.GetConfigSchema(ctx, &driverv1.GetConfigSchemaRequest{})
	})
	if err != nil {
		return nil, err
	}
	return fromproto.ConfigSchema(resp), nil
}
