package driverplugin

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// The request id travels from the host to the plugin in gRPC metadata
// (requestid.MetadataKey): the host's interceptors put the id of the
// call's context there, the plugin's take it into the context its driver
// gets. A driver logs with requestid.Logger(ctx, log) and its OpenStack
// clients (shared/osclient) send it on as X-OpenStack-Request-ID.

// outgoing adds ctx's request id to the call's metadata.
func outgoing(ctx context.Context) context.Context {
	if id := requestid.From(ctx); id != "" {
		return metadata.AppendToOutgoingContext(ctx, requestid.MetadataKey, id)
	}
	return ctx
}

// clientInterceptors are the host side's dial options.
func clientInterceptors() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
		) error {
			return invoker(outgoing(ctx), method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
			method string, streamer grpc.Streamer, opts ...grpc.CallOption,
		) (grpc.ClientStream, error) {
			return streamer(outgoing(ctx), desc, cc, method, opts...)
		}),
	}
}

// incoming returns ctx carrying the request id the host sent, when it has
// oslo's format (anything else is dropped, as oslo.middleware does).
func incoming(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	if ids := md.Get(requestid.MetadataKey); len(ids) > 0 && requestid.Valid(ids[0]) {
		return requestid.With(ctx, ids[0])
	}
	return ctx
}

// serverInterceptors are the plugin side's server options: the request
// id into the driver's context, and one debug line per call naming it.
func serverInterceptors(log hclog.Logger) []grpc.ServerOption {
	done := func(ctx context.Context, method string, start time.Time, err error) {
		requestid.Logger(ctx, log).Debug("driver call", "method", method, "code", status.Code(err).String(),
			"duration", time.Since(start).String())
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo,
			handler grpc.UnaryHandler,
		) (any, error) {
			ctx = incoming(ctx)
			start := time.Now()
			resp, err := handler(ctx, req)
			done(ctx, info.FullMethod, start, err)
			return resp, err
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
			handler grpc.StreamHandler,
		) error {
			ctx := incoming(ss.Context())
			start := time.Now()
			err := handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
			done(ctx, info.FullMethod, start, err)
			return err
		}),
	}
}

// contextStream is a server stream whose Context carries the request id.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context //nolint:containedctx // the stream's own context, replaced
}

func (s *contextStream) Context() context.Context { return s.ctx }
