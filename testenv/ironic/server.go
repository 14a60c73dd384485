package ironic

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // Ironic's SQLite file, for WAL mode and fixture VIFs.

	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// Options say where and how to run Ironic.
type Options struct {
	// Dir holds ironic.conf, the database, the log and the state file. It
	// must be empty or absent; tests pass t.TempDir() or os.MkdirTemp.
	Dir string
	// MaxLimit is Ironic's [api] max_limit, the largest page it answers;
	// zero means Ironic's default, 1000. Tests set it small so that
	// pagination shows with a few dozen nodes.
	MaxLimit int
	// NoPowerSync turns off the conductor's periodic power-state sync
	// ([conductor] sync_power_state_interval = 0). Every minute it takes
	// each node's lock and reads it with its ports: with thousands of
	// nodes that keeps Ironic's one process busy for much of the minute,
	// which is noise in a benchmark (bench-ironic sets it).
	NoPowerSync bool
	// AutomatedClean turns the conductor's automated cleaning on
	// ([conductor] automated_clean = true, Ironic's own default): a node
	// that a stray provide sent towards available would then show as
	// cleaning. Off by default, as the fixture's available nodes would
	// otherwise stop in cleaning.
	AutomatedClean bool
	// Redfish also enables the redfish hardware type (with virtual-media
	// boot, direct deploy, redfish management and power) and makes a
	// Redfish BMC that does not answer fail at once ([redfish]
	// connection_attempts = 1): a redfish node pointed at a closed port
	// fails manage in a fraction of a second and returns to enroll with
	// last_error. (ipmi is no such option: without ipmitool Ironic does
	// not start with it.)
	Redfish bool
	// PowerOnAtCreate makes every node created through the API read
	// "power on" from its fake BMC, as a running machine's BMC would:
	// fake-hardware reads back the power state the node records, none for
	// a new node, so the target of a handoff (which checks that the
	// reading is the source's "power on") would refuse every machine. An
	// SQLite trigger sets power_state as the row is inserted, so Ironic
	// never takes (nor logs) a power action for it; a node created in
	// enroll then reads "power on" when manage verifies its BMC. Nodes the
	// fixture makes are powered on through the API as before.
	PowerOnAtCreate bool
	// StartTimeout bounds schema sync plus start; zero means two minutes.
	StartTimeout time.Duration
	// DieWithParent ends Ironic when the process that started it dies,
	// even by a crash or a panicking test that never calls Stop. Tests set
	// it; the CLI, whose Ironic must outlive it, does not.
	DieWithParent bool
}

// Server is a running standalone Ironic.
type Server struct {
	// URL is the API endpoint without the version, e.g. http://127.0.0.1:41234.
	URL string `json:"url"`
	// PID is the Ironic process, leader of its own process group.
	PID int `json:"pid"`
	// Dir is Options.Dir, absolute.
	Dir string `json:"dir"`
	// DB is the path of Ironic's SQLite database.
	DB string `json:"db"`
	// Log is the path of Ironic's log.
	Log string `json:"log"`
	// PreviousLogs are the logs of the runs before a Restart, oldest
	// first.
	PreviousLogs []string `json:"previous_logs,omitempty"`

	proc          *service.Process // nil when Attach made s
	outliveParent bool             // Options.DieWithParent's opposite, for Restart
}

const stateFile = "ironic.json"

// Start checks that python3-ironic is installed, writes the configuration,
// creates the schema, starts Ironic and waits until it answers. The caller
// must Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.MaxLimit == 0 {
		opts.MaxLimit = 1000
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := CheckInstalled(ctx); err != nil {
		return nil, err
	}
	dir, port, err := service.Prepare(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL: "http://127.0.0.1:" + port,
		Dir: dir,
		DB:  filepath.Join(dir, "ironic.db"),
		Log: filepath.Join(dir, "ironic.log"),

		outliveParent: !opts.DieWithParent,
	}
	conf, err := writeConfig(dir, port, s.DB, opts)
	if err != nil {
		return nil, err
	}
	if err := s.createSchema(ctx, conf); err != nil {
		return nil, err
	}
	if opts.PowerOnAtCreate {
		if err := s.powerOnAtCreate(ctx); err != nil {
			return nil, err
		}
	}
	// The server must outlive ctx (the CLI starts it and exits).
	proc, err := service.Start(ctx, service.Options{
		Name:          "ironic",
		Package:       "python3-ironic",
		Dir:           dir,
		Code:          pyMain("ironic.cmd.singleprocess", "ironic", "--config-file", conf),
		Log:           s.Log,
		ReadyURL:      s.URL + "/v1",
		OutliveParent: !opts.DieWithParent,
		StopTimeout:   stopTimeout,
	})
	if err != nil {
		return nil, err
	}
	s.PID, s.proc = proc.PID, proc
	state, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), state, 0o600); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Attach returns the server that Start recorded in dir, for the CLI's stop
// and fixture commands.
func Attach(dir string) (*Server, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("no standalone Ironic recorded in %s: %w", dir, err)
	}
	var s Server
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// stopTimeout is how long Stop lets Ironic shut down gracefully.
const stopTimeout = 15 * time.Second

// Stop ends Ironic's process group, politely first, and waits until none
// of it runs. Stopping a stopped server is not an error.
func (s *Server) Stop() error {
	if s.proc == nil { // recorded by Attach: not our child
		s.proc = service.Attach(s.PID, stopTimeout)
	}
	s.proc.Stop()
	_ = os.Remove(filepath.Join(s.Dir, stateFile))
	return nil
}

func (s *Server) createSchema(ctx context.Context, conf string) error {
	cmd := exec.CommandContext(ctx, Python, "-c", pyMain("ironic.cmd.dbsync", "ironic-dbsync", "--config-file", conf, "create_schema"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ironic-dbsync create_schema: %w\n%s", err, service.Tail(string(out), 20))
	}
	// Without WAL a second write in a row can fail with "database is locked".
	db, err := sql.Open("sqlite", s.DB)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	_, err = db.ExecContext(ctx, "PRAGMA journal_mode=WAL")
	return err
}

// pyMain is a python -c program that runs module's main with argv, the way
// the console scripts Debian does not ship would.
func pyMain(module string, argv ...string) string {
	args := ""
	for _, a := range argv {
		args += strconv.Quote(a) + ","
	}
	return fmt.Sprintf("import sys\nfrom %s import main\nsys.argv = [%s]\nsys.exit(main())\n", module, args)
}
