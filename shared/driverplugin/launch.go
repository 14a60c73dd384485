package driverplugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// LaunchConfig says which plugin binary to start and how.
type LaunchConfig struct {
	// Path of the mogan-driver-<name> executable.
	Path string
	// SHA256, when set (hex), pins the binary: a different file is refused
	// before it runs.
	SHA256 string
	// Logger receives the plugin's log lines; the caller names it after the
	// driver.
	Logger hclog.Logger
	// Stderr, when set, also receives the plugin's raw stderr (the host keeps
	// the last lines to show when the plugin crashes).
	Stderr io.Writer
	// StartTimeout bounds the handshake; zero means one minute.
	StartTimeout time.Duration
}

// Plugin is one running plugin process.
type Plugin struct {
	client    *plugin.Client
	driver    *grpcClient
	pid       int
	proc      *os.Process
	socketDir string
}

// Launch starts the plugin, completes the handshake over mutual TLS and
// returns the running plugin. The caller must Kill it.
func Launch(cfg LaunchConfig) (*Plugin, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	var secure *plugin.SecureConfig
	if cfg.SHA256 != "" {
		sum, err := hex.DecodeString(strings.TrimSpace(cfg.SHA256))
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("sha256 %q is not a hex SHA-256 digest", cfg.SHA256)
		}
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	// The plugin's Unix socket goes in a directory of its own, removed by
	// Kill: a plugin that crashed cannot remove its socket itself. Its name
	// records this host, so that the next host removes it if this one is
	// killed before it could (RemoveStaleSocketDirs).
	socketDir, err := newSocketDir()
	if err != nil {
		return nil, fmt.Errorf("starting driver plugin %s: %w", cfg.Path, err)
	}
	cmd := exec.Command(cfg.Path)
	cmd.Env = []string{plugin.EnvUnixSocketDir + "=" + socketDir}
	setParentDeathSignal(cmd)
	ownProcessGroup(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{PluginName: &grpcPlugin{}},
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		Stderr:           cfg.Stderr,
		StartTimeout:     cfg.StartTimeout,
		GRPCDialOptions:  clientInterceptors(),
	})
	p := &Plugin{client: client, socketDir: socketDir}
	rpcClient, err := client.Client()
	if cmd.Process != nil {
		// Started (client.Client started it, or failed to): Kill's
		// fallback needs the process also when the handshake failed.
		p.pid, p.proc = cmd.Process.Pid, cmd.Process
	}
	if err != nil {
		p.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("refusing to start %s: its SHA-256 does not match [driver] sha256 %s", cfg.Path, cfg.SHA256)
		}
		return nil, fmt.Errorf("starting driver plugin %s: %w", cfg.Path, err)
	}
	raw, err := rpcClient.Dispense(PluginName)
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("driver plugin %s: %w", cfg.Path, err)
	}
	p.driver = raw.(*grpcClient)
	return p, nil
}

// Driver is the plugin's driver; its calls fail with ErrCallFailed once
// the process has exited (Check then says ErrPluginGone).
func (p *Plugin) Driver() driver.Full { return p.driver }

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// exitGrace is how long Check waits for go-plugin to notice an exit: a
// call fails as soon as the connection breaks, slightly before the
// process's end is reaped.
const exitGrace = 100 * time.Millisecond

// Check tells whether the plugin is still there: nil when its process runs
// and its gRPC server answers a ping within ctx; an ErrPluginGone saying
// which otherwise (exited, connection broken, or hung: no answer in time).
// The host calls it after a call failed in gRPC or missed its deadline, to
// restart only a plugin that is really dead or hung.
func (p *Plugin) Check(ctx context.Context) error {
	if p.Exited() {
		return fmt.Errorf("%w: the plugin process %d exited", ErrPluginGone, p.pid)
	}
	err := p.driver.ping(ctx)
	if err == nil {
		return nil
	}
	// A ping on a broken connection fails at once: the process may be on
	// its way out.
	for deadline := time.Now().Add(exitGrace); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p.Exited() {
			return fmt.Errorf("%w: the plugin process %d exited", ErrPluginGone, p.pid)
		}
	}
	if status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: the plugin process %d does not answer a ping (hung)", ErrPluginGone, p.pid)
	}
	return fmt.Errorf("%w: the plugin process %d runs but its connection failed: %w", ErrPluginGone, p.pid, err)
}

// Abort kills a plugin that Check found gone, without the graceful
// shutdown Kill tries first: a stopped or hung process would never answer
// it. It is safe to call more than once, and after Kill.
func (p *Plugin) Abort() {
	if p.proc != nil && !p.Exited() {
		_ = p.proc.Kill() // SIGKILL; an error only means it already ended
	}
	p.Kill()
}

// Pid is the plugin's process id.
func (p *Plugin) Pid() int { return p.pid }

// ProtocolVersion is the protocol version (ProtocolVersion of the plugin's
// SDK) the plugin and this host agreed on in the handshake.
func (p *Plugin) ProtocolVersion() int { return p.client.NegotiatedVersion() }

// killGrace bounds Kill's graceful part: go-plugin asks the plugin to shut
// down over gRPC and waits for an answer that a stopped (SIGSTOP) or wedged
// process never gives.
const killGrace = 5 * time.Second

// Kill stops the plugin: gracefully first, then by force after go-plugin's
// grace period, or after killGrace if the plugin does not even answer the
// request to shut down. It is safe to call more than once.
func (p *Plugin) Kill() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.client.Kill()
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
		if p.proc != nil {
			_ = p.proc.Kill() // the shutdown request returns once it is gone
		}
		// And what it started: go-plugin waits for the plugin's stdout
		// and stderr to end, which a child still holding them (a wrapper
		// script's, the plugin's helper) never lets happen.
		killProcessGroup(p.pid)
		<-done
	}
	_ = os.RemoveAll(p.socketDir) // best effort: a leftover is only an empty socket
}
