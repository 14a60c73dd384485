package cli

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestUsageErrors: a mistake in the command line is exit 2, says what is
// wrong, and sends nothing.
func TestUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args     []string
		env      map[string]string
		wantText string
	}{
		"adopt without nodes":          {[]string{"adopt", "--url", "URL"}, nil, "give the NODE_UUIDs to adopt, or --all"},
		"adopt nodes and --all":        {[]string{"adopt", "--url", "URL", "--all", nodeA}, nil, "not both"},
		"resource class without --all": {[]string{"adopt", "--url", "URL", "--resource-class", "x", nodeA}, nil, "--resource-class"},
		"zero concurrency":             {[]string{"adopt", "--url", "URL", "--concurrency", "0", nodeA}, nil, "--concurrency"},
		"bad concurrency":              {[]string{"adopt", "--url", "URL", "--concurrency", "many", nodeA}, nil, "invalid argument"},
		"bad format":                   {[]string{"adopt", "--url", "URL", "-f", "yaml", nodeA}, nil, "must be table or json"},
		"bad property":                 {[]string{"adopt", "--url", "URL", "--property", "novalue", nodeA}, nil, "want key=value"},
		"bad template":                 {[]string{"adopt", "--url", "URL", "--name-template", "{{.name", nodeA}, nil, "--name-template"},
		"unknown flag":                 {[]string{"server", "list", "--url", "URL", "--bogus"}, nil, "unknown flag"},
		"unknown command":              {[]string{"adopted", "--url", "URL"}, nil, "unknown command"},
		"show without server":          {[]string{"server", "show", "--url", "URL"}, nil, "SERVER_UUID"},
		"unmanage without server":      {[]string{"unmanage", "--url", "URL"}, nil, "SERVER_UUID"},
		"list with an argument":        {[]string{"manageable", "list", "--url", "URL", "x"}, nil, "no arguments"},
		"no url, no cloud":             {[]string{"server", "list"}, nil, "--os-cloud (or OS_CLOUD) or --url (or MOGAN_URL)"},
		"username without url":         {[]string{"server", "list", "--username", "admin"}, map[string]string{"OS_PASSWORD": "pw"}, "needs --url"},
		"no password and no terminal":  {[]string{"server", "list", "--url", "URL", "--username", "admin"}, nil, "set OS_PASSWORD"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			srv := fake.serve(t)
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "URL", srv.URL)
			}
			code, stdout, stderr := run{env: tc.env}.mogan(t, args...)
			if code != ExitUsage {
				t.Errorf("exit %d; want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.wantText) || !strings.Contains(stderr, "--help") {
				t.Errorf("stderr %q; want it to mention %q and --help", stderr, tc.wantText)
			}
			if len(fake.posted) > 0 {
				t.Errorf("posted %v", fake.posted)
			}
		})
	}
}

// TestHTTPBasic: the password comes from OS_PASSWORD, else the prompt,
// else the flag; a wrong one is the API's 401, exit 1.
func TestHTTPBasic(t *testing.T) {
	for name, tc := range map[string]struct {
		args     []string
		env      map[string]string
		prompt   func(string) (string, error)
		wantCode int
		wantErr  string
	}{
		"OS_PASSWORD":        {nil, map[string]string{"OS_PASSWORD": "s3cret"}, nil, ExitOK, ""},
		"prompt":             {nil, nil, func(string) (string, error) { return "s3cret", nil }, ExitOK, ""},
		"flag":               {[]string{"--password", "s3cret"}, nil, nil, ExitOK, ""},
		"wrong password":     {nil, map[string]string{"OS_PASSWORD": "nope"}, nil, ExitFailed, "requires authentication. (HTTP 401, request req-fake)"},
		"prompt interrupted": {nil, nil, func(string) (string, error) { return "", errors.New("read /dev/tty: interrupted") }, ExitFailed, "interrupted"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			fake.auth = func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "admin" && p == "s3cret"
			}
			srv := fake.serve(t)
			args := append([]string{"server", "list", "--url", srv.URL, "--username", "admin", "-f", "json"}, tc.args...)
			code, stdout, stderr := run{env: tc.env, password: tc.prompt}.mogan(t, args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d stderr %q; want %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if tc.wantCode == ExitOK && !strings.Contains(stdout, heldD) {
				t.Errorf("stdout %q lacks the server", stdout)
			}
		})
	}
}

// TestAPIErrors: a refusal prints the API's faultstring and request id,
// exit 1.
func TestAPIErrors(t *testing.T) {
	fake := newFake()
	srv := fake.serve(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"show unknown":     {[]string{"server", "show", "5e7e0000-0000-0000-0000-00000000ffff"}, "Error: Server 5e7e0000-0000-0000-0000-00000000ffff could not be found. (HTTP 404, request req-fake)"},
		"unmanage unknown": {[]string{"unmanage", "x"}, "server x: The resource could not be found. (HTTP 404, request req-fake)"},
		"actions unknown":  {[]string{"server", "actions", "x"}, "Server x/actions could not be found. (HTTP 404, request req-fake)"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run{env: map[string]string{"MOGAN_URL": srv.URL}}.mogan(t, tc.args...)
			if code != ExitFailed || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d stderr %q; want 1 with %q", code, stderr, tc.want)
			}
		})
	}
}
