package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parser reads typed values with defaults and keeps the first error, so
// fill reads like a list of assignments.
type parser struct {
	file   string
	values map[string]map[string]string
	known  map[string][]option
	err    error
}

func (p *parser) spec(section, name string) option {
	for _, o := range p.known[section] {
		if o.name == name {
			return o
		}
	}
	panic(fmt.Sprintf("config: option [%s] %s is read but not declared", section, name))
}

// raw returns the value set in the file, or the option's default.
func (p *parser) raw(section, name string) (string, option) {
	o := p.spec(section, name)
	if v, ok := p.values[section][name]; ok {
		return strings.TrimSpace(v), o
	}
	return o.def, o
}

func (p *parser) fail(section string, o option, value, problem string) {
	if p.err != nil {
		return
	}
	if o.secret {
		value = "(hidden)"
	}
	p.err = &Error{File: p.file, Section: section, Option: o.name, Problem: fmt.Sprintf("%q %s", value, problem)}
}

func (p *parser) str(section, name string) string {
	v, o := p.raw(section, name)
	if o.kind == kindChoice && v != "" {
		for _, c := range o.choices {
			if v == c {
				return v
			}
		}
		p.fail(section, o, v, "is not one of: "+strings.Join(o.choices, ", "))
	}
	return v
}

func (p *parser) integer(section, name string) int {
	v, o := p.raw(section, name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(section, o, v, "is not an integer")
		return 0
	}
	if o.kind == kindPort && (n < 1 || n > 65535) {
		p.fail(section, o, v, "is not a port number (1-65535)")
	}
	return n
}

// domainName reads <whose>_domain_name, whose default ("Default") only
// applies when <whose>_domain_id is not set either: a file naming the
// domain by id alone must not get both.
func (p *parser) domainName(section, whose string) string {
	name := whose + "_domain_name"
	if _, set := p.values[section][name]; !set && p.str(section, whose+"_domain_id") != "" {
		return ""
	}
	return p.str(section, name)
}

// maxSeconds bounds every duration option: a day is longer than any
// timeout, lease or interval means, and far from where seconds times 10⁹
// overflows a time.Duration (call_timeout = 36028797018963971 wrapped
// round to 3 s).
const maxSeconds = 86400

// seconds reads an integer number of seconds, as every duration option is
// (kindSeconds), refusing one beyond ±maxSeconds. What else is out of
// range (a negative, a zero) is the option's own check.
func (p *parser) seconds(section, name string) time.Duration {
	v, o := p.raw(section, name)
	if o.kind != kindSeconds {
		panic(fmt.Sprintf("config: option [%s] %s is read as seconds but not declared kindSeconds", section, name))
	}
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		p.fail(section, o, v, "is not an integer")
		return 0
	}
	if err != nil || n > maxSeconds || n < -maxSeconds {
		p.fail(section, o, v, fmt.Sprintf("is out of range: a duration is at most %d seconds (1 day)", maxSeconds))
		return 0
	}
	return time.Duration(n) * time.Second
}

// boolean accepts oslo.config's spellings.
func (p *parser) boolean(section, name string) bool {
	v, o := p.raw(section, name)
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true
	case "false", "no", "off", "0", "":
		return false
	}
	p.fail(section, o, v, "is not a boolean (true or false)")
	return false
}

// service reads an OpenStack service section; it is configured when url
// or cloud is set.
func (p *parser) service(section string) Service {
	opts := map[string]string{}
	for k, v := range p.values[section] {
		opts[k] = v
	}
	p.str(section, "auth_type") // validates the choice
	p.boolean(section, "insecure")
	p.seconds(section, "timeout")
	// A url, a clouds.yaml cloud, or Keystone credentials (the endpoint
	// then comes from the catalog) turn the service on.
	return Service{Configured: opts["url"] != "" || opts["cloud"] != "" || opts["auth_url"] != "", Options: opts}
}
