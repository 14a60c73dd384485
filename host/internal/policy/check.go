package policy

import (
	"slices"
	"strings"
)

// creds are the caller's policy values (see the package comment).
type creds struct {
	values map[string]string
	roles  []string // lower-cased
}

// hasRole reports whether the caller has role, case-insensitively.
func (c creds) hasRole(role string) bool {
	return slices.Contains(c.roles, strings.ToLower(role))
}

// env is what a check sees while it is evaluated.
type env struct {
	rules  map[string]check
	target map[string]string
	creds  creds
}

// check is one compiled piece of a rule.
type check interface {
	eval(e *env) bool
}

type constCheck bool

func (c constCheck) eval(*env) bool { return bool(c) }

type notCheck struct{ c check }

func (c notCheck) eval(e *env) bool { return !c.c.eval(e) }

type andCheck []check

func (c andCheck) eval(e *env) bool {
	for _, x := range c {
		if !x.eval(e) {
			return false
		}
	}
	return true
}

type orCheck []check

func (c orCheck) eval(e *env) bool {
	for _, x := range c {
		if x.eval(e) {
			return true
		}
	}
	return false
}

// ruleCheck is "rule:name". The enforcer refuses undefined names and
// cycles at load time, so evaluation always ends.
type ruleCheck string

func (c ruleCheck) eval(e *env) bool {
	r, ok := e.rules[string(c)]
	return ok && r.eval(e)
}

// roleCheck is "role:name": the caller has the role, case-insensitively.
type roleCheck struct{ role template }

func (c roleCheck) eval(e *env) bool {
	want, ok := c.role.expand(e.target)
	return ok && want != "" && e.creds.hasRole(want)
}

// genericCheck is "credential:match", e.g. project_id:%(project_id)s or
// is_admin:True. "roles" is the list of the caller's roles.
type genericCheck struct {
	cred  string
	match template
}

func (c genericCheck) eval(e *env) bool {
	want, ok := c.match.expand(e.target)
	if !ok {
		return false
	}
	if c.cred == "roles" {
		return e.creds.hasRole(want)
	}
	have := e.creds.values[c.cred]
	return have != "" && have == want
}

// literalCheck is "'literal':%(field)s": a constant compared with the
// target.
type literalCheck struct {
	lit   string
	match template
}

func (c literalCheck) eval(e *env) bool {
	got, ok := c.match.expand(e.target)
	return ok && got == c.lit
}

// refs calls fn with every rule name c refers to.
func refs(c check, fn func(string)) {
	switch c := c.(type) {
	case ruleCheck:
		fn(string(c))
	case notCheck:
		refs(c.c, fn)
	case andCheck:
		for _, x := range c {
			refs(x, fn)
		}
	case orCheck:
		for _, x := range c {
			refs(x, fn)
		}
	}
}
