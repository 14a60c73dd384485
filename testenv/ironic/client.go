package ironic

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/jsonapi"
)

// apiVersion is the microversion the fixture speaks: the newest this
// Ironic has.
const apiVersion = "latest"

// call sends one JSON request to Ironic and decodes the answer into out
// (when out is not nil). Any status outside 2xx is an error quoting
// Ironic's message. Under a burst of writes SQLite may answer "database is
// locked" and a conductor may hold a node for a moment; both leave nothing
// half-done, so the request is tried again a few times.
func call(ctx context.Context, hc *http.Client, method, url string, body, out any) error {
	api := &jsonapi.Client{
		Name: "ironic", HTTP: hc,
		Header: http.Header{http.CanonicalHeaderKey("X-OpenStack-Ironic-API-Version"): {apiVersion}},
	}
	var err error
	for attempt := range 8 {
		if err = api.Request(ctx, method, url, body, out); err == nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
	return err
}

func transient(err error) bool {
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "is locked by host")
}
