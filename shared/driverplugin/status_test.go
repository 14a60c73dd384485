package driverplugin

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestErrorsCrossTheBoundary: every kind a driver returns comes back on
// the host as the same kind, with its reason and option, and with the
// status code DESIGN.md's HTTP table expects.
func TestErrorsCrossTheBoundary(t *testing.T) {
	tests := map[string]struct {
		err        error
		code       codes.Code
		kind       error
		reason     string
		option     string
		messageHas string
	}{
		"not implemented": {driver.NotImplemented("listing"), codes.Unimplemented, driver.ErrNotImplemented, "", "", "listing"},
		"not found":       {driver.NotFound("node %s could not be found", "n1"), codes.NotFound, driver.ErrNodeNotFound, "", "", "n1"},
		"not manageable": {driver.NotManageable("n1", "node is in maintenance"), codes.FailedPrecondition, driver.ErrNotManageable,
			"node is in maintenance", "", "maintenance"},
		"conflict":       {driver.Conflict("taken"), codes.Aborted, driver.ErrConflict, "", "", "taken"},
		"node protected": {driver.NodeProtected("node n1 is protected"), codes.FailedPrecondition, driver.ErrNodeProtected, "", "", "protected"},
		"invalid state":  {driver.InvalidState("node n1 is adopting"), codes.FailedPrecondition, driver.ErrInvalidState, "", "", "adopting"},
		"unavailable":    {driver.Unavailable("Ironic at http://x is down"), codes.Unavailable, driver.ErrUnavailable, "", "", "http://x"},
		"invalid option": {driver.InvalidOption("url", "is not a URL"), codes.InvalidArgument, driver.ErrInvalidArgument, "", "url", "is not a URL"},
		"wrapped":        {fmt.Errorf("listing: %w", driver.NotFound("gone")), codes.NotFound, driver.ErrNodeNotFound, "", "", "gone"},
		"deadline":       {fmt.Errorf("ironic: %w", context.DeadlineExceeded), codes.DeadlineExceeded, context.DeadlineExceeded, "", "", "ironic"},
		"canceled":       {context.Canceled, codes.Canceled, context.Canceled, "", "", "canceled"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := toStatus(tc.err)
			if got := status.Code(st); got != tc.code {
				t.Errorf("code = %v; want %v", got, tc.code)
			}
			back := fromStatus(st)
			if !errors.Is(back, tc.kind) {
				t.Errorf("errors.Is(%v, %v) = false", back, tc.kind)
			}
			if errors.Is(back, ErrPluginGone) || errors.Is(back, ErrCallFailed) {
				t.Errorf("a driver's own error reads as a failed call: %v", back)
			}
			if got := driver.ReasonOf(back); got != tc.reason {
				t.Errorf("reason = %q; want %q", got, tc.reason)
			}
			if got := driver.OptionOf(back); got != tc.option {
				t.Errorf("option = %q; want %q", got, tc.option)
			}
			if msg := back.Error(); !strings.Contains(msg, tc.messageHas) {
				t.Errorf("message %q does not contain %q", msg, tc.messageHas)
			}
		})
	}
}

// TestTransportFailuresAreCallFailed: a status without the SDK's detail
// is gRPC's own failure. It never says by itself that the plugin is gone
// (a request the host could not marshal fails the same way): only
// Plugin.Check, which looks at the process, does.
func TestTransportFailuresAreCallFailed(t *testing.T) {
	tests := map[string]struct {
		err        error
		want       error
		connection bool
	}{
		"connection broke": {status.Error(codes.Unavailable, "error reading from server: EOF"), ErrCallFailed, true},
		"marshal":          {status.Error(codes.Internal, "grpc: error while marshaling: string field contains invalid UTF-8"), ErrCallFailed, false},
		"not a status":     {errors.New("boom"), ErrCallFailed, false},
		"deadline":         {status.Error(codes.DeadlineExceeded, "context deadline exceeded"), context.DeadlineExceeded, false},
		"old plugin":       {status.Error(codes.Unimplemented, "unknown method"), driver.ErrNotImplemented, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := fromStatus(tc.err)
			if !errors.Is(got, tc.want) {
				t.Errorf("fromStatus(%v) = %v; want errors.Is %v", tc.err, got, tc.want)
			}
			if errors.Is(got, ErrPluginGone) {
				t.Errorf("fromStatus(%v) = %v: a failed call alone must not say the plugin is gone", tc.err, got)
			}
			if IsConnectionFailure(got) != tc.connection {
				t.Errorf("IsConnectionFailure(%v) = %v; want %v", got, !tc.connection, tc.connection)
			}
		})
	}
	if fromStatus(nil) != nil || toStatus(nil) != nil {
		t.Error("nil errors do not stay nil")
	}
}

// TestEveryKindCrossesTheBoundary: each row of kindCodes, read both ways,
// gives back its own kind exactly, also when it shares its code with
// another; each name is one kind's. Without a name (an older plugin), or
// with a name this host does not know (a later SDK's kind), a code reads
// as its first row.
func TestEveryKindCrossesTheBoundary(t *testing.T) {
	names := map[string]error{}
	for _, kc := range kindCodes {
		t.Run(kc.kind.Error(), func(t *testing.T) {
			if k, dup := names[kc.name]; dup || kc.name == "" {
				t.Errorf("name %q stands for both %q and %q", kc.name, k, kc.kind)
			}
			names[kc.name] = kc.kind
			st := toStatus(fmt.Errorf("wrapped: %w", &driver.Error{Kind: kc.kind, Message: "m"}))
			if got := status.Code(st); got != kc.code {
				t.Errorf("code = %v; want %v", got, kc.code)
			}
			if back := fromStatus(st); !errors.Is(codeKindOf(back), kc.kind) {
				t.Errorf("reads back as %v; want exactly the kind %q", back, kc.kind)
			}
			for _, code := range append([]codes.Code{kc.code}, kc.alsoFrom...) {
				want := codeKinds[code]
				for name, detail := range map[string]*driverv1.ErrorDetail{
					"no name":      {},
					"unknown name": {Kind: "a_later_kind"},
				} {
					if back := fromStatus(withDetail(t, code, detail)); !errors.Is(codeKindOf(back), want) {
						t.Errorf("code %v with %s reads back as %v; want the code's kind %q", code, name, back, want)
					}
				}
			}
		})
	}
	if got := codeKinds[codes.FailedPrecondition]; !errors.Is(got, driver.ErrNotManageable) {
		t.Errorf("FailedPrecondition without a name reads as %v; want driver.ErrNotManageable, as before names", got)
	}
}

// codeKindOf is the kind a driver.Error carries, or nil: the sentinel
// itself, so errors.Is on it tells exactly that kind (sentinels wrap
// nothing).
func codeKindOf(err error) error {
	var de *driver.Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return nil
}

// withDetail is a status as the SDK's server answers it.
func withDetail(t *testing.T, code codes.Code, detail *driverv1.ErrorDetail) error {
	t.Helper()
	st, err := status.New(code, "m").WithDetails(detail)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

// TestEveryDriverKindHasACode: each sentinel shared/driver/errors.go
// declares is a row of kindCodes, so a new kind cannot cross the boundary
// as codes.Unknown.
func TestEveryDriverKindHasACode(t *testing.T) {
	declared := driverSentinels(t)
	if len(declared) == 0 {
		t.Fatal("no sentinels found in shared/driver/errors.go")
	}
	inTable := map[string]bool{}
	for _, kind := range Kinds() {
		inTable[kind.Error()] = true
	}
	for name, msg := range declared {
		if !inTable[msg] {
			t.Errorf("driver.%s (%q) has no row in kindCodes", name, msg)
		}
	}
}

// driverSentinels reads shared/driver/errors.go: each `ErrX =
// errors.New("msg")` as name → msg.
func driverSentinels(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "driver", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "Err") || i >= len(vs.Values) {
				continue
			}
			call, ok := vs.Values[i].(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				t.Errorf("driver.%s is not errors.New(\"...\"): this test cannot read it", name.Name)
				continue
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("driver.%s is not errors.New(\"...\"): this test cannot read it", name.Name)
				continue
			}
			msg, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			found[name.Name] = msg
		}
		return true
	})
	return found
}
