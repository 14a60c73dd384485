package policy

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v2"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// Errors Authorize returns; test them with errors.Is.
var (
	// ErrForbidden: the caller may not perform the action (HTTP 403).
	ErrForbidden = errors.New("forbidden by policy")
	// ErrUnknownRule: the code asked about a rule that is not defined, a
	// bug (HTTP 500), as oslo.policy's PolicyNotRegistered.
	ErrUnknownRule = errors.New("policy rule is not defined")
)

// ForbiddenError is the error Authorize returns when the policy says no;
// its message is the one clients see.
type ForbiddenError struct{ Rule string }

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("Policy doesn't allow %s to be performed.", e.Rule)
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// Enforcer holds the compiled rules. It is read-only after New, so safe
// for concurrent use.
type Enforcer struct {
	rules map[string]check
}

// New compiles the default rules and, when policyFile is not "", the
// operator's overrides from it (a YAML or JSON map of rule name to check
// string, as oslo.policy's policy.yaml / policy.json). A file that cannot
// be read or parsed, a rule with unknown syntax, a reference to an
// undefined rule or a cycle of rules is an error naming the file and rule.
func New(policyFile string) (*Enforcer, error) {
	src := map[string]string{}
	for _, d := range Defaults() {
		src[d.Name] = d.Check
	}
	where := "default policy"
	if policyFile != "" {
		overrides, err := readFile(policyFile)
		if err != nil {
			return nil, err
		}
		maps.Copy(src, overrides)
		where = "policy file " + policyFile
	}
	e := &Enforcer{rules: make(map[string]check, len(src))}
	for _, name := range slices.Sorted(maps.Keys(src)) {
		c, err := parse(src[name])
		if err != nil {
			return nil, fmt.Errorf("%s: rule %q (%q): %w", where, name, src[name], err)
		}
		e.rules[name] = c
	}
	if err := e.checkRefs(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return e, nil
}

// Authorize returns nil when caller may perform rule on target (the
// record's fields, e.g. project_id and user_id), else a *ForbiddenError.
// A nil target, for actions on no existing record (list, create), is the
// caller's own project_id and user_id, as upstream Mogan's authorize_wsgi
// does for them: so "rule:admin_or_owner" lets a member list.
func (e *Enforcer) Authorize(rule string, caller auth.Caller, target map[string]string) error {
	r, ok := e.rules[rule]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownRule, rule)
	}
	if target == nil {
		target = map[string]string{"project_id": caller.ProjectID, "user_id": caller.UserID}
	}
	env := &env{rules: e.rules, target: target, creds: e.credentials(caller)}
	if !r.eval(env) {
		return &ForbiddenError{Rule: rule}
	}
	return nil
}

// IsAdmin reports whether caller passes the "is_admin" rule, what
// upstream puts in the request context's is_admin (e.g. to show
// system_metadata).
func (e *Enforcer) IsAdmin(caller auth.Caller) bool {
	return e.credentials(caller).values["is_admin"] == "True"
}

// credentials are the caller's policy values; is_admin comes from the
// "is_admin" rule evaluated without it, as Ironic's and Mogan's context
// hooks do, so a rule that refers to is_admin:True cannot loop.
func (e *Enforcer) credentials(c auth.Caller) creds {
	cr := creds{values: map[string]string{
		"user_id":        c.UserID,
		"user_name":      c.UserName,
		"user_domain_id": c.DomainID,
		"project_id":     c.ProjectID,
		"project_name":   c.ProjectName,
		"is_admin":       "False",
	}}
	for _, r := range c.Roles {
		cr.roles = append(cr.roles, strings.ToLower(r))
	}
	if r, ok := e.rules["is_admin"]; ok && r.eval(&env{rules: e.rules, target: map[string]string{}, creds: cr}) {
		cr.values["is_admin"] = "True"
	}
	return cr
}

// checkRefs refuses references to undefined rules and cycles, which
// oslo.policy would only discover (as a denial) at request time.
func (e *Enforcer) checkRefs() error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("rule %q refers to itself: %s", name, strings.Join(append(path, name), " -> "))
		case done:
			return nil
		}
		state[name] = visiting
		var err error
		refs(e.rules[name], func(ref string) {
			if err != nil {
				return
			}
			if _, ok := e.rules[ref]; !ok {
				err = fmt.Errorf("rule %q refers to undefined rule %q", name, ref)
				return
			}
			err = visit(ref, append(path, name))
		})
		state[name] = done
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(e.rules)) {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

// readFile reads a policy file: a map of rule name to a check string, or
// to oslo.policy's legacy list form ([] allows; [[a, b], [c]] is
// (a and b) or c). YAML is a superset of JSON, so one parser reads both.
func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	// A MapSlice keeps duplicate keys, which a map would silently merge.
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("policy file %s: not a YAML or JSON map of rules: %w", path, err)
	}
	out := make(map[string]string, len(doc))
	for _, item := range doc {
		name, ok := item.Key.(string)
		if !ok {
			return nil, fmt.Errorf("policy file %s: rule name %v is not a string", path, item.Key)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("policy file %s: rule %q is defined twice", path, name)
		}
		s, err := checkString(item.Value)
		if err != nil {
			return nil, fmt.Errorf("policy file %s: rule %q: %w", path, name, err)
		}
		out[name] = s
	}
	return out, nil
}

// checkString turns a rule's value into a check string.
func checkString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	case []any:
		var ors []string
		for _, alt := range v {
			list, ok := alt.([]any)
			if !ok {
				return "", fmt.Errorf("legacy list form needs lists of check strings, got %v", alt)
			}
			var ands []string
			for _, x := range list {
				s, ok := x.(string)
				if !ok || strings.TrimSpace(s) == "" {
					return "", fmt.Errorf("legacy list form needs check strings, got %v", x)
				}
				ands = append(ands, "("+s+")")
			}
			if len(ands) > 0 {
				ors = append(ors, "("+strings.Join(ands, " and ")+")")
			}
		}
		return strings.Join(ors, " or "), nil
	default:
		return "", fmt.Errorf("a rule must be a check string, got %T %v", v, v)
	}
}
