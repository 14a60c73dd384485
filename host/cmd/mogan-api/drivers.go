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

// drivers lists the driver plugins found in the plugin directory, each
// started and asked what it is (GetInfo), as a table: name, version,
// protocol version, capabilities, sha256 of the binary (what [driver]
// sha256 pins). A plugin that does not start is listed with the reason,
// and the command then fails.
func drivers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mogan-api drivers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config-file", "", "configuration file: its [driver] plugin_dir is listed")
	dir := fs.String("plugin-dir", "", "directory to list (default: [driver] plugin_dir, else the directory of mogan-api)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("mogan-api drivers takes no arguments (got %q)", fs.Args())
	}
	pluginDir, configured, err := pluginDirOf(*file, *dir)
	if err != nil {
		return err
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
		p := probe(ctx, pluginDir, name)
		mark := ""
		if name == configured {
			mark = " *"
		}
		if p.err != nil {
			failed = append(failed, fmt.Sprintf("mogan-driver-%s: %v", name, p.err))
			printf(tw, "%s%s\t-\t-\t-\t%s\n", name, mark, p.sum)
			continue
		}
		caps := strings.Join(p.caps, ",")
		if caps == "" {
			caps = "-"
		}
		printf(tw, "%s%s\t%s\t%d\t%s\t%s\n", name, mark, p.version, p.protocol, caps, p.sum)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if configured != "" {
		printf(stdout, "* [driver] name in %s\n", *file)
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

// pluginDirOf is the directory to list and the configured driver's name
// ("" without a configuration file).
func pluginDirOf(file, dir string) (string, string, error) {
	name := ""
	if file != "" {
		cfg, err := config.Load(file, config.Overrides{PluginDir: dir})
		if err != nil {
			return "", "", err
		}
		return cfg.Driver.PluginDir, cfg.Driver.Name, nil
	}
	if dir != "" {
		return dir, name, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("finding the directory of mogan-api: %w", err)
	}
	return filepath.Dir(exe), name, nil
}

// probed is what one plugin said about itself.
type probed struct {
	version  string
	protocol int
	caps     []string
	sum      string
	err      error
}

// probe has the plugin manager start the plugin (the handshake checks its
// protocol version), ask GetInfo and stop it. It never configures it.
func probe(ctx context.Context, dir, name string) probed {
	var p probed
	p.sum, p.err = fileSHA256(filepath.Join(dir, "mogan-driver-"+name))
	if p.err != nil {
		p.sum = "-"
		return p
	}
	m, err := pluginmanager.New(pluginmanager.Config{Name: name, PluginDir: dir, CallTimeout: probeTimeout})
	if err != nil {
		p.err = reason(name, err)
		return p
	}
	pr, err := m.Probe(ctx, nil)
	if err != nil {
		p.err = reason(name, err)
		return p
	}
	p.version, p.protocol, p.caps = pr.Info.Version, pr.Protocol, pr.Info.Capabilities
	if p.version == "" {
		p.version = "?"
	}
	return p
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
// manager's `driver "<name>": `: the line that shows it names the plugin.
func reason(name string, err error) error {
	return errors.New(strings.TrimPrefix(oneLine(err).Error(), fmt.Sprintf("driver %q: ", name)))
}

// oneLine keeps the first line of go-plugin's multi-line explanations.
func oneLine(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%s", strings.TrimSpace(msg))
}
