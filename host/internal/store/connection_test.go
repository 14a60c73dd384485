package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConnection(t *testing.T) {
	type parsed struct {
		Engine string
		Path   string
		Host   string
		Port   uint16
		DB     string
		User   string
	}
	cases := map[string]struct {
		in   string
		want parsed
	}{
		"sqlite, three slashes":             {in: "sqlite:///var/lib/mogan/mogan.sqlite", want: parsed{Engine: "sqlite", Path: "/var/lib/mogan/mogan.sqlite"}},
		"sqlite, SQLAlchemy's four slashes": {in: "sqlite:////var/lib/mogan/mogan.sqlite", want: parsed{Engine: "sqlite", Path: "/var/lib/mogan/mogan.sqlite"}},
		"postgresql":                        {in: "postgresql://mogan:pw@db.example:6543/mogan", want: parsed{Engine: "postgresql", Host: "db.example", Port: 6543, DB: "mogan", User: "mogan"}},
		"postgres":                          {in: "postgres://mogan@127.0.0.1/mogan?sslmode=disable", want: parsed{Engine: "postgresql", Host: "127.0.0.1", Port: 5432, DB: "mogan", User: "mogan"}},
		"oslo.db driver suffix":             {in: "postgresql+psycopg2://mogan:pw@db/mogan", want: parsed{Engine: "postgresql", Host: "db", Port: 5432, DB: "mogan", User: "mogan"}},
		"upper-case scheme":                 {in: "SQLITE:///tmp/x.db", want: parsed{Engine: "sqlite", Path: "/tmp/x.db"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseConnection(tc.in)
			if err != nil {
				t.Fatalf("parseConnection: %v", err)
			}
			got := parsed{Engine: cfg.engine.String(), Path: cfg.sqlitePath}
			if cfg.pg != nil {
				got.Host, got.Port, got.DB, got.User = cfg.pg.Host, cfg.pg.Port, cfg.pg.Database, cfg.pg.User
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parsed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadConnection(t *testing.T) {
	cases := map[string]struct {
		in      string
		wantMsg string
	}{
		"empty":                    {in: "", wantMsg: "empty"},
		"blank":                    {in: "  ", wantMsg: "empty"},
		"a bare path":              {in: "/var/lib/mogan.sqlite", wantMsg: "not a URL"},
		"unknown scheme":           {in: "mysql+pymysql://mogan:secret@db/mogan", wantMsg: `unsupported scheme "mysql+pymysql"`},
		"sqlite with two slashes":  {in: "sqlite://mogan.sqlite", wantMsg: "three slashes"},
		"sqlite without a path":    {in: "sqlite:///", wantMsg: "absolute file path"},
		"sqlite with nothing":      {in: "sqlite://", wantMsg: "absolute file path"},
		"sqlite with a query":      {in: "sqlite:///tmp/x.db?mode=ro", wantMsg: "no query"},
		"malformed URL":            {in: "postgresql://mogan:secret@[::1/mogan", wantMsg: "not a valid URL"},
		"bad port":                 {in: "postgresql://mogan:secret@db:notaport/mogan", wantMsg: "not a valid"},
		"unknown postgres setting": {in: "postgresql://mogan:secret@db/mogan?sslmode=sometimes", wantMsg: "not a valid PostgreSQL URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for call, run := range map[string]func() error{
				"Open": func() error {
					st, err := Open(t.Context(), tc.in, testLogger(t))
					if err == nil {
						_ = st.Close()
					}
					return err
				},
				"Migrate": func() error { return Migrate(t.Context(), tc.in, testLogger(t)) },
			} {
				err := run()
				if !errors.Is(err, ErrInvalidConnection) {
					t.Fatalf("%s = %v, want ErrInvalidConnection", call, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, "[database] connection") || !strings.Contains(msg, tc.wantMsg) {
					t.Errorf("%s error %q does not name the option and say %q", call, msg, tc.wantMsg)
				}
				if strings.Contains(msg, "secret") {
					t.Errorf("%s error %q repeats the password", call, msg)
				}
			}
		})
	}
}

func TestUnreachablePostgres(t *testing.T) {
	// Port 1 on loopback refuses at once.
	conn := "postgresql://postgres@127.0.0.1:1/mogan?connect_timeout=5"
	_, err := Open(t.Context(), conn, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "connect to postgresql database 127.0.0.1:1/mogan") {
		t.Errorf("Open = %v, want a connection error naming the database", err)
	}
	if err := Migrate(t.Context(), conn, testLogger(t)); err == nil {
		t.Errorf("Migrate succeeded on an unreachable database")
	}
}
