package auth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

func hash(t *testing.T, password, prefix string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + string(h[4:]) // Go writes $2a$; htpasswd -B writes $2y$
}

func writeUsers(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func basicHeader(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func TestHTTPBasic(t *testing.T) {
	path := writeUsers(t,
		"\uFEFF# operators", // a byte order mark an editor wrote is not part of the line
		"alice:"+hash(t, "alice-pw", "$2y$"),
		"",
		"bob:"+hash(t, "bob:pw", "$2b$")+":member,reader",
		"carol:"+hash(t, "carol-pw", "$2a$"),
		"dave:"+hash(t, "dave-pw", "$2y$")+":member:tenant-B_1",
	)
	a, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic", HTTPBasicUserFile: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`Basic realm="mogan"`, a.Challenge()); diff != "" {
		t.Errorf("challenge (-want +got):\n%s", diff)
	}

	tests := map[string]struct {
		header string // Authorization; "" sends none
		want   auth.Caller
		err    bool
	}{
		"good user ($2y$), admin by default": {header: basicHeader("alice", "alice-pw"),
			want: auth.Caller{UserID: "alice", UserName: "alice", Roles: []string{"admin"}}},
		"roles column, colon in password": {header: basicHeader("bob", "bob:pw"),
			want: auth.Caller{UserID: "bob", UserName: "bob", Roles: []string{"member", "reader"}}},
		"$2a$ entry, lower-case scheme": {header: "basic " + base64.StdEncoding.EncodeToString([]byte("carol:carol-pw")),
			want: auth.Caller{UserID: "carol", UserName: "carol", Roles: []string{"admin"}}},
		"project column": {header: basicHeader("dave", "dave-pw"),
			want: auth.Caller{UserID: "dave", UserName: "dave", ProjectID: "tenant-B_1", Roles: []string{"member"}}},
		"wrong password":       {header: basicHeader("alice", "bob:pw"), err: true},
		"empty password":       {header: basicHeader("alice", ""), err: true},
		"unknown user":         {header: basicHeader("mallory", "alice-pw"), err: true},
		"user name case":       {header: basicHeader("Alice", "alice-pw"), err: true},
		"no header":            {header: "", err: true},
		"bearer scheme":        {header: "Bearer abc", err: true},
		"scheme only":          {header: "Basic", err: true},
		"not base64":           {header: "Basic %%%", err: true},
		"no colon in token":    {header: "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), err: true},
		"hash as the password": {header: basicHeader("alice", "$2y$04$"), err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/servers", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, err := a.Authenticate(t.Context(), r)
			if tc.err {
				if !errors.Is(err, auth.ErrUnauthenticated) {
					t.Fatalf("error %v, want ErrUnauthenticated", err)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("caller (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHTTPBasicBadFile: each is a start-up error naming the file and line.
func TestHTTPBasicBadFile(t *testing.T) {
	good := "ok:" + hash(t, "pw", "$2y$")
	const columns = `want "user:bcrypt-hash", "user:bcrypt-hash:role,role" or "user:bcrypt-hash:role,role:project_id"`
	tests := map[string]struct {
		lines []string
		want  string // after "http_basic_auth_user_file <path>"
	}{
		"md5 entry":              {[]string{good, "old:$apr1$abc$def"}, " line 2: only bcrypt digested passwords are supported for old"},
		"sha entry":              {[]string{"sha:{SHA}abc"}, " line 1: only bcrypt digested passwords are supported for sha"},
		"no colon":               {[]string{"# c", good, "justaname"}, ` line 3: ` + columns},
		"too many columns":       {[]string{good + ":admin:p:x"}, ` line 1: ` + columns},
		"empty project":          {[]string{good + ":admin:"}, " line 1: project id of ok is not 1 to 64 letters, digits, - or _"},
		"project with dot":       {[]string{good + ":admin:a.b"}, " line 1: project id of ok is not 1 to 64 letters, digits, - or _"},
		"project too long":       {[]string{good + ":admin:" + strings.Repeat("p", 65)}, " line 1: project id of ok is not 1 to 64 letters, digits, - or _"},
		"project, no role":       {[]string{good + "::p"}, " line 1: empty role list for ok"},
		"empty name":             {[]string{":" + hash(t, "pw", "$2y$")}, " line 1: empty user name"},
		"truncated hash":         {[]string{"cut:$2y$10$abc"}, " line 1: bad bcrypt hash for cut: crypto/bcrypt: hashedSecret too short to be a bcrypted password"},
		"empty roles":            {[]string{good + ": , "}, " line 1: empty role list for ok"},
		"duplicate user":         {[]string{good, good}, ` line 2: user "ok" is listed twice`},
		"no users":               {[]string{"# nobody yet"}, ": no users"},
		"name with a C1 control": {[]string{"a\u0085b:" + hash(t, "pw", "$2y$")}, " line 1: the user name is not printable UTF-8"},
		"name not UTF-8":         {[]string{good, "\xffroot:" + hash(t, "pw", "$2y$")}, " line 2: the user name is not printable UTF-8"},
		"NUL in the name":        {[]string{"ro\x00ot:" + hash(t, "pw", "$2y$")}, " line 1: the user name is not printable UTF-8"},
		"escape in a role":       {[]string{good + ":admin,\x1b[31m"}, " line 1: a role of ok is not printable UTF-8"},
		"a 70 KB line":           {[]string{good, "x:" + strings.Repeat("y", 70<<10)}, " line 2: bufio.Scanner: token too long"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := writeUsers(t, tc.lines...)
			_, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic", HTTPBasicUserFile: path}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff("http_basic_auth_user_file "+path+tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope")
		_, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic", HTTPBasicUserFile: path}, nil)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v, want a not-exist error naming %s", err, path)
		}
	})
	t.Run("unset", func(t *testing.T) {
		_, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic"}, nil)
		if err == nil || !strings.Contains(err.Error(), "http_basic_auth_user_file is not set") {
			t.Errorf("error %v", err)
		}
	})
}

func TestNoAuth(t *testing.T) {
	a, err := auth.New(t.Context(), auth.Config{Strategy: "noauth"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/servers", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Authenticate(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Caller{UserID: "admin", UserName: "admin", ProjectID: "admin", ProjectName: "admin", DomainID: "default", Roles: []string{"admin"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("caller (-want +got):\n%s", diff)
	}
	if a.Challenge() != "" {
		t.Errorf("challenge %q, want none", a.Challenge())
	}
}

func TestStrategy(t *testing.T) {
	for name, strategy := range map[string]string{"unset": "", "unknown": "keystone_v2", "case": "NoAuth"} {
		t.Run(name, func(t *testing.T) {
			if _, err := auth.New(t.Context(), auth.Config{Strategy: strategy}, nil); err == nil {
				t.Errorf("strategy %q: no error", strategy)
			}
		})
	}
}
