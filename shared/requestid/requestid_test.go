package requestid

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestValid(t *testing.T) {
	cases := map[string]struct {
		id   string
		want bool
	}{
		"new":              {New(), true},
		"upper case":       {"req-6F4E6C83-7A0B-4D8E-9C55-2E7C1C7E8D11", false},
		"no prefix":        {"6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11", false},
		"trailing garbage": {"req-6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11x", false},
		"empty":            {"", false},
		"header injection": {"req-6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11\r\nX: y", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Valid(tc.id); got != tc.want {
				t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

func TestLoggerNamesTheRequest(t *testing.T) {
	cases := map[string]struct {
		ctx  context.Context
		want string
	}{
		"with id":    {With(context.Background(), "req-1"), "request_id=req-1"},
		"without id": {context.Background(), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			Logger(tc.ctx, hclog.New(&hclog.LoggerOptions{Output: &out})).Info("hello")
			if tc.want == "" && strings.Contains(out.String(), LogKey) {
				t.Errorf("line %q names a request id; want none", out.String())
			}
			if tc.want != "" && !strings.Contains(out.String(), tc.want) {
				t.Errorf("line %q lacks %q", out.String(), tc.want)
			}
		})
	}
}
