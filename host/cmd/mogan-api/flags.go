package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
)

// loadConfig parses the command line and the configuration file it names.
func loadConfig(name string, args []string, stderr io.Writer) (*config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config-file", "", "configuration file (INI, oslo.config style)")
	var over config.Overrides
	fs.StringVar(&over.HostIP, "host-ip", "", "override [api] host_ip")
	fs.IntVar(&over.Port, "port", 0, "override [api] port")
	fs.StringVar(&over.PluginDir, "plugin-dir", "", "override [driver] plugin_dir")
	fs.BoolVar(&over.Debug, "debug", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		// The flag package stops at the first non-flag: "mogan-api
		// --config-file f db sync" would otherwise serve the API,
		// ignoring the command the operator typed.
		return nil, fmt.Errorf("%s: unexpected argument %q (flags come after the command, as in "+
			"\"mogan-api db sync --config-file FILE\")", name, fs.Arg(0))
	}
	return config.Load(*file, over)
}

func newLogger(cfg *config.Config, out io.Writer) hclog.Logger {
	level := hclog.Info
	if cfg.Debug {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{Name: "mogan-api", Level: level, Output: redactingWriter{out}})
}
