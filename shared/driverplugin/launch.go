package driverplugin

import (
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
	driver    driver.Full
	pid       int
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
	// Kill: a plugin that crashed cannot remove its socket itself.
	socketDir, err := os.MkdirTemp("", "mogan-driver-")
	if err != nil {
		return nil, fmt.Errorf("starting driver plugin %s: %w", cfg.Path, err)
	}
	cmd := exec.Command(cfg.Path)
	cmd.Env = []string{plugin.EnvUnixSocketDir + "=" + socketDir}
	setParentDeathSignal(cmd)
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
	})
	p := &Plugin{client: client, socketDir: socketDir}
	rpcClient, err := client.Client()
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
	p.driver = raw.(driver.Full)
	p.pid = cmd.Process.Pid
	return p, nil
}

// Driver is the plugin's driver; its calls fail with ErrPluginGone once
// the process has exited.
func (p *Plugin) Driver() driver.Full { return p.driver }

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Pid is the plugin's process id.
func (p *Plugin) Pid() int { return p.pid }

// Kill stops the plugin: gracefully first, then by force after go-plugin's
// grace period. It is safe to call more than once.
func (p *Plugin) Kill() {
	p.client.Kill()
	_ = os.RemoveAll(p.socketDir) // best effort: a leftover is only an empty socket
}
