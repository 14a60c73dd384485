package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// rawRequest sends req as it is over a new connection to the harness and
// returns the response's status, header and body.
func rawRequest(t *testing.T, h *harness, req string) (int, http.Header, string) {
	t.Helper()
	u, err := url.Parse(h.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestLinksNeverHaveAnEmptyHost is issue 8 row 9: links follow the
// request's Host when [api] public_endpoint is unset (as OpenStack's
// services do), and a request without one (HTTP/1.0) gets the address it
// reached instead of "http:///v1/...".
func TestLinksNeverHaveAnEmptyHost(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	addr := strings.TrimPrefix(h.url, "http://")
	body := validBody(nodeUUID)
	tests := map[string]struct {
		request      string
		wantStatus   int
		wantLocation string // "" = none expected
		wantInBody   string
	}{
		"HTTP/1.0 version document without Host": {
			request:    "GET /v1/ HTTP/1.0\r\n\r\n",
			wantStatus: http.StatusOK, wantInBody: `"http://` + addr + `/v1/"`,
		},
		"HTTP/1.0 adoption without Host": {
			request: fmt.Sprintf("POST /v1/manageable_servers HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				len(body), body),
			wantStatus: http.StatusCreated, wantLocation: "http://" + addr + "/v1/servers/", wantInBody: `"http://` + addr + `/v1/servers/`,
		},
		"HTTP/1.1 with the caller's Host": {
			request:    "GET /v1/ HTTP/1.1\r\nHost: api.example:6688\r\nConnection: close\r\n\r\n",
			wantStatus: http.StatusOK, wantInBody: `"http://api.example:6688/v1/"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, header, got := rawRequest(t, h, tc.request)
			if status != tc.wantStatus {
				t.Fatalf("status %d; want %d: %s", status, tc.wantStatus, got)
			}
			if strings.Contains(got, "http:///") || strings.Contains(header.Get("Location"), "http:///") {
				t.Errorf("a link with an empty host: Location %q, body %s", header.Get("Location"), got)
			}
			if loc := header.Get("Location"); !strings.HasPrefix(loc, tc.wantLocation) || (tc.wantLocation == "") != (loc == "") {
				t.Errorf("Location %q; want it to start with %q", loc, tc.wantLocation)
			}
			if !strings.Contains(got, tc.wantInBody) {
				t.Errorf("body does not contain %s:\n%s", tc.wantInBody, got)
			}
		})
	}
}

// TestListingSendsTheFirstNodeAtOnce is issue 8's "flush the first node
// promptly": with a driver that sends one node and then waits, the client
// reads that node before the driver sends the second. The driver waits at
// most 10 s for the client (the test fails then), so a buffered first node
// cannot hang the test.
func TestListingSendsTheFirstNodeAtOnce(t *testing.T) {
	first, second := sampleNode("00000000-0000-0000-0000-000000000001"), sampleNode("00000000-0000-0000-0000-000000000002")
	clientSawFirst := make(chan struct{})
	gaveUp := make(chan struct{})
	drv := &drivertest.FuncDriver{
		ListFunc: func(ctx context.Context, _ driver.ListOptions, send func(driver.Node) error) error {
			if err := send(first); err != nil {
				return err
			}
			select {
			case <-clientSawFirst:
			case <-time.After(10 * time.Second):
				close(gaveUp)
			case <-ctx.Done():
				return ctx.Err()
			}
			return send(second)
		},
	}
	h := newHarness(t, drv)
	resp, err := http.Get(h.url + "/v1/manageable_servers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var got strings.Builder
	buf := make([]byte, 512)
	for !strings.Contains(got.String(), first.UUID) {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("body ended before the first node: %v\n%s", err, got.String())
		}
	}
	select {
	case <-gaveUp:
		t.Fatal("the first node reached the client only after the driver sent the second: it was buffered")
	default:
	}
	if strings.Contains(got.String(), second.UUID) {
		t.Fatal("the client saw the second node before the driver was let go")
	}
	close(clientSawFirst)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if all := got.String() + string(rest); !strings.Contains(all, second.UUID) || !strings.HasSuffix(all, "]}") {
		t.Errorf("the listing is not whole:\n%s", all)
	}
}
