package config

import (
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Backend is one backend: a driver plugin run with a section of its own.
type Backend struct {
	Name        string            // ^[a-z0-9][a-z0-9_-]{0,63}$, the section's name
	Driver      string            // the plugin: <plugin_dir>/mogan-driver-<Driver>
	SHA256      string            // "" = not pinned
	CallTimeout time.Duration     // the section's call_timeout, else [driver]'s
	Options     map[string]string // the section without driver, sha256 and call_timeout: handed to the driver's Configure
}

// backendNameRE is what a backend may be called: its section's name, and
// a word in listings, URLs (?backend=) and the store.
var backendNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// pluginNameRE is what a backend's driver may be: the part after
// "mogan-driver-" of a file name in plugin_dir, never a path.
var pluginNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// plannedSections are host sections the option table does not hold yet,
// reserved now so that no backend takes their names.
var plannedSections = []string{"default", "migration"}

// backendOptions are what mogan-api reads of a backend's section; its
// other options are the driver's.
var backendOptions = []option{
	{name: "driver", required: true, help: "Driver plugin of this backend: the file mogan-driver-<driver> in [driver] plugin_dir. One plugin process runs per backend, so several backends may name the same driver.", sample: "ironic"},
	{name: "sha256", help: "Hex SHA-256 digest pinning this backend's driver binary: a different file is refused before it runs."},
	{name: "call_timeout", kind: kindSeconds, help: "Seconds each call to this backend's driver may take, as [driver] call_timeout, which it overrides.", sample: "<[driver] call_timeout>"},
}

// isBackendOption reports whether name is read by mogan-api in a backend's
// section (not handed to the driver).
func isBackendOption(name string) bool {
	return slices.ContainsFunc(backendOptions, func(o option) bool { return o.name == name })
}

// hostSection reports whether name is, or will be, a section of the host's
// own: no backend may take it.
func hostSection(known map[string][]option, name string) bool {
	for s := range known {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return slices.Contains(plannedSections, strings.ToLower(name))
}

// enabledBackends reads [DEFAULT] enabled_backends: the names in order,
// each checked, or listed false when the option is not set.
func (c *Config) enabledBackends(values map[string]map[string]string, known map[string][]option) (names []string, listed bool, err error) {
	raw, listed := values["DEFAULT"]["enabled_backends"]
	if !listed {
		return nil, false, nil
	}
	fail := func(format string, args ...any) error {
		return &Error{File: c.File, Section: "DEFAULT", Option: "enabled_backends", Problem: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(raw) == "" {
		return nil, true, fail("names no backend: list them (e.g. east, west), each with a section of its name, " +
			"or remove the line for the one backend [driver] name implies")
	}
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, true, fail("%q holds an empty name (a comma too many)", raw)
		case !backendNameRE.MatchString(name):
			return nil, true, fail("%q is not a backend name: 1 to 64 lower-case letters, digits, \"_\" and \"-\", "+
				"starting with a letter or a digit", name)
		case hostSection(known, name):
			return nil, true, fail("%q is the name of a host section: a backend needs a section of its own, name it otherwise", name)
		case slices.Contains(names, name):
			return nil, true, fail("%q is named twice", name)
		}
		if _, ok := values[name]; !ok {
			return nil, true, fail("backend %q has no section [%s] (it holds driver = <name> and the driver's options)", name, name)
		}
		names = append(names, name)
	}
	return names, true, nil
}

// checkSections refuses a section that is neither the host's nor a
// backend's. Without enabled_backends, as before it: the driver's own
// section ([driver] name) and [ironic] are the driver's to judge.
func (c *Config) checkSections(values map[string]map[string]string, known map[string][]option, backends []string, listed bool, driverName string) error {
	for name, opts := range values {
		if slices.Contains(backends, name) || (!listed && (name == driverName || name == "ironic")) {
			continue // the driver validates its own section
		}
		specs, ok := known[name]
		if !ok {
			others := fmt.Sprintf("and the driver's own section [%s]", driverName)
			if listed {
				others = "and the sections of [DEFAULT] enabled_backends: " + strings.Join(backends, ", ")
			}
			problem := fmt.Sprintf("unknown section (known: %s, %s)", strings.Join(slices.Sorted(maps.Keys(known)), ", "), others)
			if _, ok := opts["driver"]; ok && !listed {
				problem += "; a backend's section is named in [DEFAULT] enabled_backends"
			}
			return &Error{File: c.File, Section: name, Problem: problem}
		}
		for opt := range opts {
			if !slices.ContainsFunc(specs, func(o option) bool { return o.name == opt }) {
				return &Error{File: c.File, Section: name, Option: opt, Problem: "unknown option"}
			}
		}
	}
	return nil
}

// fillBackends sets Backends from the listed names, or from [driver]
// when none are listed, and Driver's Name, SHA256, CallTimeout and
// Options from the first backend: code that knows one driver sees the
// first.
func (c *Config) fillBackends(p *parser, names []string, listed bool) {
	c.BackendsListed = listed
	if !listed {
		// Every configuration older than enabled_backends: one backend,
		// named after its driver, configured from the section of that
		// name (handed to the driver whole, as it always was).
		opts := p.values[c.Driver.Name]
		c.Backends = []Backend{{
			Name:        c.Driver.Name,
			Driver:      c.Driver.Name,
			SHA256:      c.Driver.SHA256,
			CallTimeout: c.Driver.CallTimeout,
			Options:     maps.Clone(opts),
		}}
		if c.Backends[0].Options == nil {
			c.Backends[0].Options = map[string]string{}
		}
		return
	}
	for _, name := range names {
		p.known[name] = backendOptions
		b := Backend{Name: name, Driver: p.str(name, "driver"), SHA256: p.str(name, "sha256"), CallTimeout: c.Driver.CallTimeout,
			Options: map[string]string{}}
		if _, set := p.values[name]["call_timeout"]; set {
			b.CallTimeout = p.seconds(name, "call_timeout")
		}
		for k, v := range p.values[name] {
			if !isBackendOption(k) {
				b.Options[k] = v
			}
		}
		c.Backends = append(c.Backends, b)
	}
	first := c.Backends[0]
	c.Driver.Name, c.Driver.SHA256, c.Driver.CallTimeout, c.Driver.Options = first.Driver, first.SHA256, first.CallTimeout, first.Options
}

// checkBackends checks each backend's own options: its driver named and a
// plugin's name, its pin a SHA-256, its call_timeout positive.
func (c *Config) checkBackends() error {
	for _, b := range c.Backends {
		section, driverOption, sumSection := b.Name, "driver", b.Name
		if !c.BackendsListed {
			section, driverOption, sumSection = "driver", "name", "driver"
		}
		fail := func(section, option, problem string) error {
			return &Error{File: c.File, Section: section, Option: option, Problem: problem}
		}
		switch {
		case b.Driver == "" && c.BackendsListed:
			return fail(section, driverOption, "is required: the backend's driver plugin, e.g. driver = ironic "+
				"(runs <plugin_dir>/mogan-driver-ironic)")
		case c.BackendsListed && !pluginNameRE.MatchString(b.Driver):
			return fail(section, driverOption, fmt.Sprintf("%q is not a driver plugin's name: the part after "+
				"\"mogan-driver-\" of a file in [driver] plugin_dir (letters, digits, \".\", \"_\" and \"-\")", b.Driver))
		case b.SHA256 != "" && !isSHA256(b.SHA256):
			return fail(sumSection, "sha256", fmt.Sprintf("%q is not a hex SHA-256 digest (64 hex digits, as sha256sum prints)", b.SHA256))
		case b.CallTimeout <= 0 && c.BackendsListed:
			return fail(section, "call_timeout", "must be a positive number of seconds")
		}
	}
	return nil
}

// checkListedDriverSection refuses, with enabled_backends, the [driver]
// options each backend's section has instead: one left there would do
// nothing (name) or pin nothing (sha256).
func (c *Config) checkListedDriverSection(values map[string]map[string]string, backends []string) error {
	for _, opt := range []string{"name", "sha256"} {
		if _, set := values["driver"][opt]; set {
			return &Error{File: c.File, Section: "driver", Option: opt, Problem: fmt.Sprintf(
				"is not used with [DEFAULT] enabled_backends: each backend's section has its own (e.g. [%s] %s); move it there",
				backends[0], map[string]string{"name": "driver", "sha256": "sha256"}[opt])}
		}
	}
	return nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}
