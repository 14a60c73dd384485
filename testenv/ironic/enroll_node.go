package ironic

import (
	"context"
	"database/sql"
	"net/http"
	"time"
)

// EnrollNode enrolls one node of kind with the given uuid, with the ports
// and portgroups Enroll gives such a node; rc "" means "baremetal". Ironic
// takes the uuid of a node create as it is, so one uuid can be enrolled in
// two Ironics (a node two backends both hold).
func (f *Fixture) EnrollNode(ctx context.Context, id string, kind Kind, rc string) (Node, error) {
	if rc == "" {
		rc = "baremetal"
	}
	hc := f.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	e := &enroller{url: f.URL, hc: hc, newVIF: f.NewVIF}
	if f.DB != "" {
		db, err := sql.Open("sqlite", "file:"+f.DB+"?_pragma=busy_timeout(20000)")
		if err != nil {
			return Node{}, err
		}
		defer func() { _ = db.Close() }()
		db.SetMaxOpenConns(1)
		e.db = db
	}
	return e.nodeWithUUID(ctx, id, kind, rc)
}
