package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLanguage evaluates check strings against callers and targets.
func TestLanguage(t *testing.T) {
	rules := map[string]check{
		"yes":   constCheck(true),
		"no":    constCheck(false),
		"admin": roleCheck{mustTemplate(t, "admin")},
	}
	admin := creds{values: map[string]string{"project_id": "p1", "user_id": "u1", "is_admin": "True"}, roles: []string{"admin", "member"}}
	member := creds{values: map[string]string{"project_id": "p2", "user_id": "u2", "is_admin": "False"}, roles: []string{"member"}}
	noProject := creds{values: map[string]string{"project_id": "", "is_admin": "False"}, roles: []string{"member"}}
	own := map[string]string{"project_id": "p2", "user_id": "u2", "kind": "server"}

	tests := map[string]struct {
		rule   string
		creds  creds
		target map[string]string
		want   bool
	}{
		"empty allows":                {"", member, nil, true},
		"blank allows":                {"   ", member, nil, true},
		"@ allows":                    {"@", member, nil, true},
		"! denies":                    {"!", admin, nil, false},
		"role matches":                {"role:admin", admin, nil, true},
		"role is case-insensitive":    {"role:ADMIN", admin, nil, true},
		"role missing":                {"role:admin", member, nil, false},
		"role from target":            {"role:%(kind)s", member, own, false},
		"rule true":                   {"rule:yes", member, nil, true},
		"rule false":                  {"rule:no", admin, nil, false},
		"rule indirect":               {"rule:admin", admin, nil, true},
		"is_admin True":               {"is_admin:True", admin, nil, true},
		"is_admin False caller":       {"is_admin:True", member, nil, false},
		"owner":                       {"project_id:%(project_id)s", member, own, true},
		"not owner":                   {"project_id:%(project_id)s", admin, own, false},
		"missing target field":        {"project_id:%(project_id)s", member, map[string]string{}, false},
		"empty credential never owns": {"project_id:%(project_id)s", noProject, map[string]string{"project_id": ""}, false},
		"template with text":          {"user_id:x-%(user_id)s", member, map[string]string{"user_id": "u2"}, false},
		"unknown credential":          {"domain_id:%(project_id)s", member, own, false},
		"roles generic":               {"roles:member", member, nil, true},
		"literal against target":      {"'server':%(kind)s", member, own, true},
		"literal mismatch":            {"'image':%(kind)s", member, own, false},
		"and both":                    {"role:member and project_id:%(project_id)s", member, own, true},
		"and one":                     {"role:admin and project_id:%(project_id)s", member, own, false},
		"or one":                      {"role:admin or project_id:%(project_id)s", member, own, true},
		"or none":                     {"role:admin or role:reader", member, nil, false},
		"not":                         {"not role:admin", member, nil, true},
		"not not":                     {"not not role:admin", member, nil, false},
		"NOT keyword any case":        {"NOT role:admin AND role:member", member, nil, true},
		"and binds tighter than or":   {"role:admin or role:member and rule:no", member, nil, false},
		"and binds tighter, admin":    {"role:admin or role:member and rule:no", admin, nil, true},
		"parentheses":                 {"(role:admin or role:member) and rule:no", admin, nil, false},
		"parentheses glued":           {"(role:admin or (role:member and rule:yes))", member, nil, true},
		"not binds tighter than and":  {"not role:admin and role:member", admin, nil, false},
		"not of group":                {"not (role:admin or role:member)", member, nil, false},
		"upstream admin_or_owner":     {"is_admin:True or project_id:%(project_id)s", admin, own, true},
		"upstream admin_or_owner own": {"is_admin:True or project_id:%(project_id)s", member, own, true},
		"upstream admin_or_owner no":  {"is_admin:True or project_id:%(project_id)s", noProject, own, false},
		"escaped percent":             {"user_id:100%%", creds{values: map[string]string{"user_id": "100%"}}, nil, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := parse(tc.rule)
			if err != nil {
				t.Fatalf("parse(%q): %v", tc.rule, err)
			}
			target := tc.target
			if target == nil {
				target = map[string]string{}
			}
			got := c.eval(&env{rules: rules, target: target, creds: tc.creds})
			if got != tc.want {
				t.Errorf("%q = %v, want %v", tc.rule, got, tc.want)
			}
		})
	}
}

// TestSyntaxErrors: rules oslo.policy would not understand are refused.
func TestSyntaxErrors(t *testing.T) {
	tests := map[string]struct {
		rule string
		want string
	}{
		"bare word":           {"admin", `"admin" is not a check (kind:match, @ or !)`},
		"empty kind":          {":admin", `":admin" is not a check (kind:match, @ or !)`},
		"unclosed":            {"(role:admin or role:x", "missing closing parenthesis"},
		"extra close":         {"role:admin)", `unexpected ")"`},
		"dangling and":        {"role:admin and", "unexpected end of rule"},
		"leading or":          {"or role:admin", `unexpected "or"`},
		"two checks":          {"role:admin role:x", `unexpected "role:x"`},
		"empty parentheses":   {"()", `unexpected ")"`},
		"http check":          {"http://example.com/check", `"http://example.com/check": HTTP checks are not supported`},
		"rule with template":  {"rule:%(x)s", `"rule:%(x)s": a rule reference needs a plain rule name`},
		"empty rule name":     {"rule:", `"rule:": a rule reference needs a plain rule name`},
		"bad percent":         {"user_id:50%", `"user_id:50%": bad % in "50%" (use %% for a literal %)`},
		"unterminated field":  {"user_id:%(user_id", `"user_id:%(user_id": bad %(name)s reference in "%(user_id"`},
		"not without operand": {"not", "unexpected end of rule"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parse(tc.rule)
			if err == nil {
				t.Fatalf("parse(%q): no error", tc.rule)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func mustTemplate(t *testing.T, s string) template {
	t.Helper()
	tm, err := parseTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
