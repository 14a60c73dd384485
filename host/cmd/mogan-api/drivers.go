package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/pluginmanager"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// probeTimeout bounds starting one plugin and asking it GetInfo (the
// plugin manager's call timeout, which bounds its start).
const probeTimeout = 30 * time.Second

// drivers lists, with --config-file, each configured backend, in order:
// its name, driver plugin, version, protocol version, capabilities and
// the SHA-256 of the binary (what its sha256 pins); without it, every
// driver plugin of the plugin directory. Each plugin is started (pinned,
// when its backend pins it) and asked what it is (GetInfo), never
// configured. One that does not start is listed with the reason, and the
// command then fails.
func drivers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mogan-api drivers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config-file", "", "configuration file: its backends are listed")
	dir := fs.String("plugin-dir", "", "directory to list (default: [driver] plugin_dir, else the directory of mogan-api)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("mogan-api drivers takes no arguments (got %q)", fs.Args())
	}
	if *file != "" {
		cfg, err := config.Load(*file, config.Overrides{PluginDir: *dir})
		if err != nil {
			return err
		}
		return listBackends(ctx, cfg, stdout)
	}
	pluginDir := *dir
	if pluginDir == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the directory of mogan-api: %w", err)
		}
		pluginDir = filepath.Dir(exe)
	}
	names, err := pluginmanager.Installed(pluginDir)
	if err != nil {
		return fmt.Errorf("reading the plugin directory %s: %w", pluginDir, err)
	}
	printf(stdout, "Driver plugins in %s:\n", pluginDir)
	if len(names) == 0 {
		printf(stdout, "(none: no executable mogan-driver-* file)\n")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	printf(tw, "NAME\tVERSION\tPROTOCOL\tCAPABILITIES\tSHA256\n")
	var failed []string
	for _, name := range names {
		p := probe(ctx, pluginDir, config.Backend{Name: name, Driver: name})
		if p.err != nil {
			failed = append(failed, fmt.Sprintf("mogan-driver-%s: %v", name, p.err))
		}
		printf(tw, "%s\t%s\n", name, p.row())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range failed {
		printf(stdout, "%s\n", f)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d driver plugins did not start (this host speaks protocol %d)",
			len(failed), len(names), driverplugin.ProtocolVersion)
	}
	return nil
}

// listBackends is drivers --config-file: each backend of the
// configuration, in order, with what its plugin says of itself.
func listBackends(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	printf(stdout, "Backends in %s (driver plugins in %s):\n", cfg.File, cfg.Driver.PluginDir)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	printf(tw, "BACKEND\tDRIVER\tVERSION\tPROTOCOL\tCAPABILITIES\tSHA256\n")
	var failed []string
	for _, b := range cfg.Backends {
		p := probe(ctx, cfg.Driver.PluginDir, b)
		if p.err != nil {
			failed = append(failed, fmt.Sprintf("%s (mogan-driver-%s): %s", b.Name, b.Driver, pinSection(p.err.Error(), b, cfg.BackendsListed)))
		}
		printf(tw, "%s\t%s\t%s\n", b.Name, b.Driver, p.row())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range failed {
		printf(stdout, "%s\n", f)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d backends did not start (this host speaks protocol %d)",
			len(failed), len(cfg.Backends), driverplugin.ProtocolVersion)
	}
	return nil
}

// probed is what one plugin said about itself.
type probed struct {
	version  string
	protocol int
	caps     []string
	sum      string
	err      error
}

// probe has the plugin manager start the backend's plugin (its pin and
// the handshake checked, the handshake checking its protocol version),
// ask GetInfo and stop it. It never configures it.
func probe(ctx context.Context, dir string, b config.Backend) probed {
	var p probed
	p.sum, p.err = fileSHA256(filepath.Join(dir, "mogan-driver-"+b.Driver))
	if p.err != nil {
		p.sum = "-"
		return p
	}
	m, err := pluginmanager.New(pluginmanager.Config{Name: b.Driver, Backend: b.Name, PluginDir: dir, SHA256: b.SHA256,
		CallTimeout: probeTimeout})
	if err != nil {
		p.err = reason(err)
		return p
	}
	pr, err := m.Probe(ctx, nil)
	if err != nil {
		p.err = reason(err)
		return p
	}
	p.version, p.protocol, p.caps = pr.Info.Version, pr.Protocol, pr.Info.Capabilities
	if p.version == "" {
		p.version = "?"
	}
	return p
}

// row is the probe's columns from VERSION on, tab-separated: "-" for
// what a plugin that did not start could not say.
func (p probed) row() string {
	if p.err != nil {
		return "-\t-\t-\t" + p.sum
	}
	caps := strings.Join(p.caps, ",")
	if caps == "" {
		caps = "-"
	}
	return fmt.Sprintf("%s\t%d\t%s\t%s", p.version, p.protocol, caps, p.sum)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// reason is why a plugin did not start, in one line, without the
// manager's `driver "<name>": ` or `backend "<name>" (driver "<name>"): `:
// the line that shows it names the plugin.
func reason(err error) error {
	return errors.New(whoRE.ReplaceAllString(oneLine(err).Error(), ""))
}

// whoRE is how the plugin manager names a plugin before its error.
var whoRE = regexp.MustCompile(`^(driver "[^"]*"|backend "[^"]*" \(driver "[^"]*"\)): `)

// oneLine keeps the first line of go-plugin's multi-line explanations.
func oneLine(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%s", strings.TrimSpace(msg))
}
