package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
)

var (
	cloudAdmin = auth.Caller{UserID: "u-admin", ProjectID: "p-admin", Roles: []string{"admin", "member", "reader"}}
	legacyAdm  = auth.Caller{UserID: "u-adm2", ProjectID: "p-adm2", Roles: []string{"Administrator"}}
	member     = auth.Caller{UserID: "u-demo", ProjectID: "p-demo", Roles: []string{"member", "reader"}}
	other      = auth.Caller{UserID: "u-other", ProjectID: "p-other", Roles: []string{"member"}}
	noRoles    = auth.Caller{UserID: "u-none", ProjectID: "p-demo"}
)

// TestDefaults: the admin-only rules, and owner-or-admin for reads.
func TestDefaults(t *testing.T) {
	e, err := policy.New("")
	if err != nil {
		t.Fatal(err)
	}
	demoServer := map[string]string{"project_id": "p-demo", "user_id": "u-demo"}
	callers := map[string]auth.Caller{
		"admin": cloudAdmin, "administrator": legacyAdm, "member": member, "other": other,
		"no roles": noRoles, "noauth": auth.NoAuthCaller(),
	}
	// rule -> the callers allowed on demoServer
	want := map[string][]string{
		policy.ManageableServersGetAll: {"admin", "administrator", "noauth"},
		policy.ManageableServersCreate: {"admin", "administrator", "noauth"},
		policy.ServerUnmanage:          {"admin", "administrator", "noauth"},
		policy.ServerGetAllTenants:     {"admin", "administrator", "noauth"},
		policy.ServerGet:               {"admin", "administrator", "member", "no roles", "noauth"},
		policy.ServerGetAll:            {"admin", "administrator", "member", "no roles", "noauth"},
		policy.BackendsGetAll:          {"admin", "administrator", "noauth"},
		policy.MigrationCreate:         {"admin", "administrator", "noauth"},
		policy.MigrationGet:            {"admin", "administrator", "noauth"},
		policy.MigrationDelete:         {"admin", "administrator", "noauth"},
		"allow":                        {"admin", "administrator", "member", "no roles", "noauth", "other"},
		"deny":                         {},
	}
	for rule, allowed := range want {
		t.Run(rule, func(t *testing.T) {
			got := []string{}
			for _, name := range []string{"admin", "administrator", "member", "no roles", "noauth", "other"} {
				err := e.Authorize(rule, callers[name], demoServer)
				switch {
				case err == nil:
					got = append(got, name)
				case !errors.Is(err, policy.ErrForbidden):
					t.Errorf("%s: %v is not ErrForbidden", name, err)
				}
			}
			if diff := cmp.Diff(allowed, got); diff != "" {
				t.Errorf("allowed callers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNilTarget: with no record, the caller is checked against itself;
// an empty target is not the same.
func TestNilTarget(t *testing.T) {
	e, err := policy.New("")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		caller auth.Caller
		target map[string]string
		want   bool
	}{
		"member, nil target":     {member, nil, true},
		"member, empty target":   {member, map[string]string{}, false},
		"member, other's record": {member, map[string]string{"project_id": "p-other"}, false},
		"no project, nil target": {auth.Caller{UserID: "u", Roles: []string{"member"}}, nil, false},
		"admin, empty target":    {cloudAdmin, map[string]string{}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := e.Authorize(policy.ServerGetAll, tc.caller, tc.target)
			if got := err == nil; got != tc.want {
				t.Errorf("allowed = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

func TestForbiddenMessage(t *testing.T) {
	e, err := policy.New("")
	if err != nil {
		t.Fatal(err)
	}
	err = e.Authorize(policy.ServerUnmanage, member, nil)
	if diff := cmp.Diff("Policy doesn't allow mogan:server:unmanage to be performed.", err.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	var fe *policy.ForbiddenError
	if !errors.As(err, &fe) || fe.Rule != policy.ServerUnmanage {
		t.Errorf("error %#v is not a *ForbiddenError for the rule", err)
	}
	err = e.Authorize("mogan:no:such_rule", cloudAdmin, nil)
	if !errors.Is(err, policy.ErrUnknownRule) || errors.Is(err, policy.ErrForbidden) {
		t.Errorf("unknown rule: %v, want ErrUnknownRule only", err)
	}
}

func TestIsAdmin(t *testing.T) {
	e, err := policy.New("")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for name, c := range map[string]auth.Caller{"admin": cloudAdmin, "administrator": legacyAdm, "member": member, "none": {}} {
		got[name] = e.IsAdmin(c)
	}
	want := map[string]bool{"admin": true, "administrator": true, "member": false, "none": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IsAdmin (-want +got):\n%s", diff)
	}
}

// TestPolicyFile: overrides in YAML and JSON (oslo reads both), and the
// legacy list form.
func TestPolicyFile(t *testing.T) {
	tests := map[string]struct {
		file   string
		rule   string
		caller auth.Caller
		want   bool
	}{
		"yaml lets members list manageable servers": {
			file: "# operator overrides\n\"mogan:manageable_servers:get_all\": \"role:member\"\n",
			rule: policy.ManageableServersGetAll, caller: member, want: true,
		},
		"yaml override keeps other defaults": {
			file: "\"mogan:manageable_servers:get_all\": \"role:member\"\n",
			rule: policy.ServerUnmanage, caller: member, want: false,
		},
		"yaml redefines admin_api for every admin rule": {
			file: "admin_api: \"role:cloud-operator\"\n",
			rule: policy.ManageableServersCreate, caller: auth.Caller{Roles: []string{"cloud-operator"}}, want: true,
		},
		"redefined admin_api no longer takes admin": {
			file: "admin_api: \"role:cloud-operator\"\n",
			rule: policy.ManageableServersCreate, caller: cloudAdmin, want: false,
		},
		"json deny": {
			file: `{"mogan:manageable_servers:create": "!"}`,
			rule: policy.ManageableServersCreate, caller: cloudAdmin, want: false,
		},
		"json empty string allows": {
			file: `{"mogan:server:unmanage": ""}`,
			rule: policy.ServerUnmanage, caller: noRoles, want: true,
		},
		"json new helper rule": {
			file: `{"ops": "role:ops", "mogan:server:unmanage": "rule:ops or rule:admin_api"}`,
			rule: policy.ServerUnmanage, caller: auth.Caller{Roles: []string{"ops"}}, want: true,
		},
		"legacy empty list allows": {
			file: `{"mogan:server:unmanage": []}`,
			rule: policy.ServerUnmanage, caller: noRoles, want: true,
		},
		"legacy list of lists": {
			file: `{"mogan:server:unmanage": [["role:ops", "role:member"], ["role:admin"]]}`,
			rule: policy.ServerUnmanage, caller: auth.Caller{Roles: []string{"member", "ops"}}, want: true,
		},
		"legacy list of lists, half": {
			file: `{"mogan:server:unmanage": [["role:ops", "role:member"], ["role:admin"]]}`,
			rule: policy.ServerUnmanage, caller: member, want: false,
		},
		"empty file keeps defaults": {
			file: "", rule: policy.ServerUnmanage, caller: cloudAdmin, want: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := policy.New(writeFile(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			err = e.Authorize(tc.rule, tc.caller, map[string]string{"project_id": "p-x"})
			if got := err == nil; got != tc.want {
				t.Errorf("allowed = %v, want %v (err %v)", got, tc.want, err)
			}
		})
	}
}

// TestBadPolicyFile: each is a start-up error naming the file and rule.
func TestBadPolicyFile(t *testing.T) {
	tests := map[string]struct {
		file string
		want string // after "policy file <path>: "
	}{
		"unknown syntax":  {`{"mogan:server:unmanage": "admin only"}`, `rule "mogan:server:unmanage" ("admin only"): "admin" is not a check (kind:match, @ or !)`},
		"unbalanced":      {`{"mogan:server:get": "(role:admin"}`, `rule "mogan:server:get" ("(role:admin"): missing closing parenthesis`},
		"undefined rule":  {`{"mogan:server:get": "rule:nope"}`, `rule "mogan:server:get" refers to undefined rule "nope"`},
		"cycle":           {`{"a": "rule:b", "b": "rule:a"}`, `rule "a" refers to itself: a -> b -> a`},
		"self reference":  {`{"admin_api": "rule:admin_api"}`, `rule "admin_api" refers to itself: admin_api -> admin_api`},
		"http check":      {`{"mogan:server:get": "http://x"}`, `rule "mogan:server:get" ("http://x"): "http://x": HTTP checks are not supported`},
		"not a string":    {`{"mogan:server:get": 42}`, `rule "mogan:server:get": a rule must be a check string, got int 42`},
		"duplicate rule":  {"a: \"@\"\na: \"!\"\n", `rule "a" is defined twice`},
		"numeric name":    {"1: \"@\"\n", `rule name 1 is not a string`},
		"bad legacy list": {`{"mogan:server:get": ["role:admin"]}`, `rule "mogan:server:get": legacy list form needs lists of check strings, got role:admin`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, tc.file)
			_, err := policy.New(path)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff("policy file "+path+": "+tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("not yaml", func(t *testing.T) {
		path := writeFile(t, "{\"a\": ")
		if _, err := policy.New(path); err == nil {
			t.Fatal("no error")
		} else if want := "policy file " + path + ": not a YAML or JSON map of rules"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("error %q does not start with %q", err, want)
		}
	})
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		if _, err := policy.New(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error %v, want one wrapping os.ErrNotExist", err)
		}
	})
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
