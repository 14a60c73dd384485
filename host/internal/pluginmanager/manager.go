package pluginmanager

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// DefaultCallTimeout bounds a driver call when Config.CallTimeout is zero.
const DefaultCallTimeout = 30 * time.Second

// Bounds of the ping that tells a hung plugin from a slow one after a call
// missed its deadline: the call timeout, but at least minPingTimeout (a
// healthy plugin on a loaded machine must not be taken for hung) and at
// most maxPingTimeout (a hung plugin is restarted soon after).
const (
	minPingTimeout = 2 * time.Second
	maxPingTimeout = 5 * time.Second
)

// minStartTimeout bounds launching and configuring a plugin: at least this,
// whatever the call timeout, because a cold start on a loaded machine is
// slower than a call.
const minStartTimeout = 10 * time.Second

// Config says which driver to run for which backend, and how (the
// backend's section of the host configuration, [driver] plugin_dir).
type Config struct {
	// Name of the driver: the binary is <PluginDir>/mogan-driver-<Name>.
	Name string
	// Backend names the backend this plugin process serves ([DEFAULT]
	// enabled_backends; one process per backend, even of one binary) and
	// the section its Options come from, in logs, errors and metrics;
	// "" is Name (the one backend of a host without enabled_backends).
	Backend string
	// PluginDir is the directory holding the driver binaries.
	PluginDir string
	// SHA256, when set (hex), pins the binary: a different file is refused.
	SHA256 string
	// CallTimeout bounds every driver call (for a listing: the silence
	// between two nodes); zero means DefaultCallTimeout.
	CallTimeout time.Duration
	// Options are handed to the driver's Configure.
	Options map[string]string
	// Logger receives the manager's and the plugin's log lines, tagged
	// with the backend and the driver (backend=east driver=ironic); nil
	// discards them.
	Logger hclog.Logger
	// Metrics counts driver calls and plugin restarts; nil counts nothing.
	Metrics *metrics.Metrics
}

// Manager supervises the driver plugin process of one backend: a host
// with several backends has one Manager each, also when they run the same
// binary. Its methods are safe for concurrent use.
type Manager struct {
	cfg         Config
	path        string
	timeout     time.Duration
	pingTimeout time.Duration
	policy      backoffPolicy
	log         hclog.Logger

	mu        sync.Mutex
	cur       *instance     // the running plugin, nil when none
	info      driver.Info   // from the latest successful start
	starting  chan struct{} // closed when the start under way ends; nil when none
	failures  int           // consecutive crashes and failed starts
	notBefore time.Time     // no restart before this (backoff)
	lastErr   error         // the latest crash or failed start
	launches  int           // plugin processes launched, for tests
	stopped   bool

	bg sync.WaitGroup // restarts and reapers, waited for by Stop
}

// instance is one plugin process.
type instance struct {
	plugin  *driverplugin.Plugin
	tail    *stderrTail
	info    driver.Info
	started time.Time
	retired bool  // guarded by Manager.mu: crashed or stopped, never used again
	gone    error // guarded by Manager.mu: why it was retired, nil when stopped

	checkMu sync.Mutex // one Check at a time (Manager.check)
}

// New finds the driver's binary; it starts nothing (see Start).
func New(cfg Config) (*Manager, error) {
	path, err := findBinary(cfg.PluginDir, cfg.Name)
	if err != nil {
		return nil, err
	}
	timeout := cfg.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Manager{
		cfg:         cfg,
		path:        path,
		timeout:     timeout,
		pingTimeout: min(max(timeout, minPingTimeout), maxPingTimeout),
		policy:      defaultBackoff,
		log:         logger.Named("driver").With("backend", backendOf(cfg), "driver", cfg.Name),
	}, nil
}

// backendOf is the backend cfg serves: Backend, or the driver's name for
// the one backend of a host without enabled_backends.
func backendOf(cfg Config) string {
	if cfg.Backend != "" {
		return cfg.Backend
	}
	return cfg.Name
}

// who names the plugin in errors: `driver "ironic"` as always when the
// backend is named after its driver, `backend "east" (driver "ironic")`
// otherwise, so that two backends of one driver are told apart.
func (m *Manager) who() string { return describe(m.cfg.Backend, m.cfg.Name) }

func describe(backend, driver string) string {
	if backend == "" || backend == driver {
		return fmt.Sprintf("driver %q", driver)
	}
	return fmt.Sprintf("backend %q (driver %q)", backend, driver)
}

// backendLabel is the backend in metrics' labels, and the section of the
// host configuration the driver's options come from.
func (m *Manager) backendLabel() string { return backendOf(m.cfg) }

// Start launches the plugin, checks the handshake, asks for its info and
// configures it. An error here means the driver cannot work at all (not a
// plugin, checksum mismatch, invalid option): the host should not start.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return fmt.Errorf("%s: the plugin manager is stopped", m.who())
	}
	if m.cur != nil || m.starting != nil {
		m.mu.Unlock()
		return fmt.Errorf("%s: already started", m.who())
	}
	done := make(chan struct{})
	m.starting = done
	m.mu.Unlock()

	// A host that was SIGKILLed could not remove its plugin's socket
	// directory; this one does, before making its own.
	removed, err := driverplugin.RemoveStaleSocketDirs()
	if err != nil {
		m.log.Warn("cannot remove the socket directories of a previous host", "error", err)
	}
	if len(removed) > 0 {
		m.log.Info("removed the plugin socket directories of a previous host that was killed", "dirs", removed)
	}

	inst, err := m.launch(ctx)

	m.mu.Lock()
	defer m.mu.Unlock()
	defer close(done)
	m.starting = nil
	if err == nil && m.stopped {
		err = fmt.Errorf("%s: the plugin manager was stopped during start", m.who())
		inst.plugin.Kill()
	}
	if err != nil {
		m.lastErr = err
		return err
	}
	m.install(inst)
	m.log.Info("driver plugin started", "path", m.path, "pid", inst.plugin.Pid(), "version", inst.info.Version)
	return nil
}

// Probe is what a plugin says about itself when started.
type Probe struct {
	// Info is its answer to GetInfo.
	Info driver.Info
	// Protocol is the protocol version agreed at the handshake.
	Protocol int
}

// Probe starts the plugin as Start does (checksum, handshake, GetInfo),
// then, instead of configuring it, runs ask on it (nil: nothing; its error
// is Probe's), and stops it again: what `mogan-api drivers` shows of each
// plugin. Its other errors are Start's. The manager itself is left as it
// was: Start may still follow.
func (m *Manager) Probe(ctx context.Context, ask func(context.Context, driver.Full) error) (Probe, error) {
	inst, err := m.spawn(ctx, ask)
	if err != nil {
		return Probe{}, err
	}
	defer inst.plugin.Kill()
	return Probe{Info: inst.info, Protocol: inst.plugin.ProtocolVersion()}, nil
}

// Driver is the driver as the API sees it: every call goes to the current
// plugin process under the call deadline, and restarts it if it has died.
func (m *Manager) Driver() driver.Full { return supervised{m} }

// Info is what the plugin said about itself at its latest start.
func (m *Manager) Info() driver.Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.info
}

// Pid is the running plugin's process id, 0 when none runs.
func (m *Manager) Pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return 0
	}
	return m.cur.plugin.Pid()
}

// Stop kills the plugin and waits for restarts under way; later calls fail
// with ErrDriverUnavailable. Calling it again does nothing.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	inst := m.cur
	m.cur = nil
	if inst != nil {
		inst.retired = true
	}
	m.mu.Unlock()
	if inst != nil {
		inst.plugin.Kill()
		m.log.Info("driver plugin stopped", "pid", inst.plugin.Pid())
	}
	m.bg.Wait()
}

// install makes inst the running plugin. m.mu must be held.
func (m *Manager) install(inst *instance) {
	m.cur = inst
	m.info = inst.info
}

// launch starts one plugin process and configures it.
func (m *Manager) launch(ctx context.Context) (*instance, error) {
	return m.spawn(ctx, m.configure)
}

// spawn starts one plugin process (the checksum, then the handshake) and
// asks what it is (GetInfo); then, within the same start timeout, it runs
// then on it unless then is nil. Every plugin process the host starts is
// started here.
func (m *Manager) spawn(ctx context.Context, then func(context.Context, driver.Full) error) (*instance, error) {
	startTimeout := max(m.timeout, minStartTimeout)
	if deadline, ok := ctx.Deadline(); ok {
		startTimeout = min(startTimeout, time.Until(deadline))
	}
	m.mu.Lock()
	m.launches++
	m.mu.Unlock()

	tail := &stderrTail{}
	p, err := driverplugin.Launch(driverplugin.LaunchConfig{
		Path:         m.path,
		SHA256:       m.cfg.SHA256,
		Logger:       m.log,
		Stderr:       tail,
		StartTimeout: startTimeout,
	})
	if err != nil {
		return nil, m.launchError(err, tail)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	info, err := p.Driver().Info(ctx)
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("%s (%s): GetInfo: %w", m.who(), m.path, err)
	}
	if then != nil {
		if err := then(ctx, p.Driver()); err != nil {
			p.Kill()
			return nil, err
		}
	}
	return &instance{plugin: p, tail: tail, info: info, started: time.Now()}, nil
}

// configure checks the driver's section against its schema and hands it
// to the driver.
func (m *Manager) configure(ctx context.Context, d driver.Full) error {
	if err := m.checkOptions(ctx, d); err != nil {
		return err
	}
	if err := d.Configure(ctx, m.cfg.Options); err != nil {
		return fmt.Errorf("%s: configuring it from the [%s] section: %w", m.who(), m.backendLabel(), err)
	}
	return nil
}

// launchError turns go-plugin's multi-line explanations into one line,
// with the plugin's own last word when it said something on stderr.
func (m *Manager) launchError(err error, tail *stderrTail) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	// go-plugin's words for a process that printed nothing and exited.
	if head, ok := strings.CutSuffix(msg, "Unrecognized remote plugin message: "); ok {
		msg = head + "it exited or closed stdout before the plugin handshake"
	}
	if lines := tail.Lines(); len(lines) > 0 {
		msg += "; its stderr said: " + lines[len(lines)-1]
	}
	return fmt.Errorf("%s: %s", m.who(), msg)
}
