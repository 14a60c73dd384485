package ironic

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // Ironic's SQLite file, for WAL mode and fixture VIFs.
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
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL: "http://127.0.0.1:" + port,
		Dir: dir,
		DB:  filepath.Join(dir, "ironic.db"),
		Log: filepath.Join(dir, "ironic.log"),
	}
	conf, err := writeConfig(dir, port, opts.MaxLimit, s.DB)
	if err != nil {
		return nil, err
	}
	if err := s.createSchema(ctx, conf); err != nil {
		return nil, err
	}
	logFile, err := os.Create(s.Log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }()
	// Not CommandContext: the server must outlive ctx (the CLI starts it
	// and exits). Its own session keeps terminal signals away and lets Stop
	// end the whole group.
	prog := pyMain("ironic.cmd.singleprocess", "ironic", "--config-file", conf)
	if opts.DieWithParent {
		prog = fmt.Sprintf(watchParent, os.Getpid()) + prog
	}
	cmd := exec.Command(Python, "-c", prog)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ironic: %w", err)
	}
	s.PID = cmd.Process.Pid
	// Reap it whenever it ends, so that Stop sees it gone.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := s.waitReady(ctx, exited); err != nil {
		_ = s.Stop()
		return nil, err
	}
	state, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
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

// Stop ends Ironic's process group, politely first, and waits until the
// leader is gone. Stopping a stopped server is not an error.
func (s *Server) Stop() error {
	if s.PID <= 0 {
		return nil
	}
	_ = syscall.Kill(-s.PID, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for alive(s.PID) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-s.PID, syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = os.Remove(filepath.Join(s.Dir, stateFile))
	return nil
}

// alive reports whether pid still runs (and is not a zombie waiting for
// its reaper).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state letter follows the ")" that ends the command name.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z'
		}
	}
	return true
}

func (s *Server) createSchema(ctx context.Context, conf string) error {
	cmd := exec.CommandContext(ctx, Python, "-c", pyMain("ironic.cmd.dbsync", "ironic-dbsync", "--config-file", conf, "create_schema"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ironic-dbsync create_schema: %w\n%s", err, tail(out))
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

func (s *Server) waitReady(ctx context.Context, exited <-chan error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(s.Log)
			return fmt.Errorf("ironic exited before answering (%w); %s:\n%s", err, s.Log, tail(log))
		case <-ctx.Done():
			return fmt.Errorf("ironic at %s did not answer: %w", s.URL, ctx.Err())
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// watchParent is Python run before Ironic is imported (so before eventlet
// patches time and threading): a real thread that kills the process group
// once the parent %d is gone.
const watchParent = `import os, signal, threading
from time import sleep as _sleep
def _watch(parent=%d):
    while os.getppid() == parent:
        _sleep(0.5)
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=_watch, daemon=True).start()
`

// pyMain is a python -c program that runs module's main with argv, the way
// the console scripts Debian does not ship would.
func pyMain(module string, argv ...string) string {
	args := ""
	for _, a := range argv {
		args += strconv.Quote(a) + ","
	}
	return fmt.Sprintf("import sys\nfrom %s import main\nsys.argv = [%s]\nsys.exit(main())\n", module, args)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func tail(b []byte) string {
	const n = 4000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
