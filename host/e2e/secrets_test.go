package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// secret is a credential or URL userinfo put in the configuration, which
// must appear in no log line, response body or header.
type secret struct{ where, value string }

// secretsConfig is a host configuration with a credential in every option
// that takes one, every service it names down (dead ports): the Ironic
// driver's section is given by ironic, the rest is shared.
type secretsConfig struct {
	port     int
	db       string // PostgreSQL, with a password (the server trusts every local user)
	authKS   bool   // auth_strategy keystone (else noauth)
	driver   string // ironic or test
	ironic   string // the [ironic] section's body
	testCtl  string // the test driver's control file
	noGlance bool   // leave [glance] out, so that listings reach Neutron
	// notify is the notification driver: messagingv2 (the broker is down)
	// costs its 5 s flush at shutdown, so only one host uses it.
	notify   string
	deadPort func() int
}

func (c secretsConfig) String() string {
	auth := "noauth"
	if c.authKS {
		auth = "keystone"
	}
	dead := c.deadPort
	conf := fmt.Sprintf(`[DEFAULT]
auth_strategy = %s
debug = true
transport_url = rabbit://rabbituser-u7:rabbitpw-s7@127.0.0.1:%d/

[api]
host_ip = 127.0.0.1
port = %d

[database]
connection = %s

[driver]
name = %s
plugin_dir = %s
call_timeout = 10

[keystone_authtoken]
auth_url = http://ksurluser-u1:ksurlpw-s1@127.0.0.1:%d/v3
www_authenticate_uri = http://wwwuser-u2:wwwpw-s2@127.0.0.1:%d/identity
username = mogan
password = kspw-s3
project_name = service
http_connect_timeout = 2

[neutron]
url = http://neutronuser-u5:neutronpw-s5@127.0.0.1:%d/
auth_type = password
auth_url = http://neutronksuser-u6:neutronkspw-s6@127.0.0.1:%d/v3
username = mogan
password = neutronpw-s8
project_name = service
user_domain_name = Default
project_domain_name = Default
timeout = 2

[oslo_messaging_notifications]
driver = %s
`, auth, dead(), c.port, c.db, c.driver, binDir, dead(), dead(), dead(), dead(), cmp.Or(c.notify, "log"))
	if !c.noGlance {
		conf += fmt.Sprintf("\n[glance]\nurl = http://glanceuser-u4:glancepw-s4@127.0.0.1:%d/\ntimeout = 2\n", dead())
	}
	switch c.driver {
	case "ironic":
		conf += "\n[ironic]\n" + c.ironic
	case "test":
		conf += "\n[test]\ncontrol_file = " + c.testCtl + "\n"
	}
	return conf
}

// configuredSecrets are every secret the configurations below hold.
var configuredSecrets = []secret{
	{"[DEFAULT] transport_url user", "rabbituser-u7"},
	{"[DEFAULT] transport_url password", "rabbitpw-s7"},
	{"[database] connection password", "dbpw-s9"},
	{"[keystone_authtoken] auth_url user", "ksurluser-u1"},
	{"[keystone_authtoken] auth_url password", "ksurlpw-s1"},
	{"[keystone_authtoken] www_authenticate_uri user", "wwwuser-u2"},
	{"[keystone_authtoken] www_authenticate_uri password", "wwwpw-s2"},
	{"[keystone_authtoken] password", "kspw-s3"},
	{"[glance] url user", "glanceuser-u4"},
	{"[glance] url password", "glancepw-s4"},
	{"[neutron] url user", "neutronuser-u5"},
	{"[neutron] url password", "neutronpw-s5"},
	{"[neutron] auth_url user", "neutronksuser-u6"},
	{"[neutron] auth_url password", "neutronkspw-s6"},
	{"[neutron] password", "neutronpw-s8"},
	{"[ironic] url user", "ironicuser-u10"},
	{"[ironic] url password", "ironicurlpw-s10"},
	{"[ironic] password", "ironicpw-s11"},
	{"[ironic] auth_url user", "ironicksuser-u12"},
	{"[ironic] auth_url password", "ironickspw-s12"},
	{"[ironic] password (keystone)", "ironicpw-s13"},
}

// transcript collects what callers and the operator see.
type transcript struct{ strings.Builder }

func (tr *transcript) request(t *testing.T, method, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(&tr.Builder, "%s %s -> %d\n", method, url, resp.StatusCode)
	_ = resp.Header.Write(&tr.Builder)
	fmt.Fprintf(&tr.Builder, "\n%s\n", b)
	return resp.StatusCode
}

// TestSecretsNeverLeak is issue 8 row 4: with a credential in every
// option that takes one (URL userinfo included) and every service down,
// every error path is driven (Ironic down through the driver with HTTP
// basic and with Keystone auth; Keystone unreachable for callers' tokens,
// 401 challenges; Glance and Neutron down; start-up refusals), then the
// host's whole log, every response body and header, and every start-up
// error are searched for each secret: none may appear.
func TestSecretsNeverLeak(t *testing.T) {
	var seen transcript // everything shown to callers and the operator
	db := createDatabase(t)
	db = strings.Replace(db, "postgres://postgres@", "postgres://postgres:dbpw-s9@", 1)
	if !strings.Contains(db, "dbpw-s9") {
		t.Fatalf("cannot put a password in %s", db)
	}
	dead := func() int { return freePort(t) }
	node := "00000000-0000-4000-8000-000000000001"
	manageBody := `{"name": "s", "node_uuid": "` + node + `"}`
	ironicBasic := "url = http://ironicuser-u10:ironicurlpw-s10@127.0.0.1:" + fmt.Sprint(dead()) + "/\n" +
		"auth_type = http_basic\nusername = mogan\npassword = ironicpw-s11\ntimeout = 2\n"
	ironicKeystone := "url = http://ironicuser-u10:ironicurlpw-s10@127.0.0.1:" + fmt.Sprint(dead()) + "/\n" +
		"auth_type = password\nauth_url = http://ironicksuser-u12:ironickspw-s12@127.0.0.1:" + fmt.Sprint(dead()) + "/v3\n" +
		"username = mogan\npassword = ironicpw-s13\nproject_name = service\nuser_domain_name = Default\n" +
		"project_domain_name = Default\ntimeout = 2\n"
	control := filepath.Join(t.TempDir(), "control.json")
	writeFile(t, control, `{"count": 3}`)

	hosts := []struct {
		name string
		conf secretsConfig
		// drive makes the requests; it checks the statuses that show the
		// error path was taken.
		drive func(t *testing.T, url string)
	}{
		{
			name: "keystone auth, Keystone down",
			conf: secretsConfig{authKS: true, driver: "ironic", ironic: ironicBasic},
			drive: func(t *testing.T, url string) {
				seen.request(t, "GET", url+"/", "", "")
				if st := seen.request(t, "GET", url+"/v1/manageable_servers", "", ""); st != http.StatusUnauthorized {
					t.Errorf("no token: %d; want 401 with a challenge", st)
				}
				for _, path := range []string{"/v1/manageable_servers", "/v1/servers"} {
					if st := seen.request(t, "GET", url+path, "some-token", ""); st != http.StatusServiceUnavailable {
						t.Errorf("GET %s with Keystone down: %d; want 503", path, st)
					}
				}
				if st := seen.request(t, "POST", url+"/v1/manageable_servers", "other-token", manageBody); st != http.StatusServiceUnavailable {
					t.Errorf("POST with Keystone down: %d; want 503", st)
				}
			},
		},
		{
			name: "Ironic down, HTTP basic",
			conf: secretsConfig{driver: "ironic", ironic: ironicBasic, notify: "messagingv2"},
			drive: func(t *testing.T, url string) {
				for range 2 {
					if st := seen.request(t, "GET", url+"/v1/manageable_servers", "", ""); st != http.StatusServiceUnavailable {
						t.Errorf("list with Ironic down: %d; want 503", st)
					}
				}
				if st := seen.request(t, "POST", url+"/v1/manageable_servers", "", manageBody); st != http.StatusServiceUnavailable {
					t.Errorf("manage with Ironic down: %d; want 503", st)
				}
				seen.request(t, "GET", url+"/v1/servers/"+node, "", "")
			},
		},
		{
			name: "Ironic and its Keystone down",
			conf: secretsConfig{driver: "ironic", ironic: ironicKeystone},
			drive: func(t *testing.T, url string) {
				if st := seen.request(t, "GET", url+"/v1/manageable_servers", "", ""); st != http.StatusServiceUnavailable {
					t.Errorf("list with Keystone down: %d; want 503", st)
				}
				if st := seen.request(t, "POST", url+"/v1/manageable_servers", "", manageBody); st != http.StatusServiceUnavailable {
					t.Errorf("manage with Keystone down: %d; want 503", st)
				}
			},
		},
		{
			name: "Glance down",
			conf: secretsConfig{driver: "test", testCtl: control},
			drive: func(t *testing.T, url string) {
				if st := seen.request(t, "GET", url+"/v1/manageable_servers", "", ""); st != http.StatusServiceUnavailable {
					t.Errorf("list with Glance down: %d; want 503", st)
				}
				if st := seen.request(t, "POST", url+"/v1/manageable_servers", "", manageBody); st != http.StatusServiceUnavailable {
					t.Errorf("manage with Glance down: %d; want 503", st)
				}
			},
		},
		{
			name: "Neutron and its Keystone down",
			conf: secretsConfig{driver: "test", testCtl: control, noGlance: true},
			drive: func(t *testing.T, url string) {
				if st := seen.request(t, "GET", url+"/v1/manageable_servers", "", ""); st != http.StatusServiceUnavailable {
					t.Errorf("list with Neutron down: %d; want 503", st)
				}
				if st := seen.request(t, "POST", url+"/v1/manageable_servers", "", manageBody); st != http.StatusServiceUnavailable {
					t.Errorf("manage with Neutron down: %d; want 503", st)
				}
			},
		},
	}
	dbSyncOutput(t, &seen, secretsConfig{port: freePort(t), db: db, driver: "test", testCtl: control, deadPort: dead}.String())
	for _, hc := range hosts {
		t.Run(hc.name, func(t *testing.T) {
			hc.conf.port, hc.conf.db, hc.conf.deadPort = freePort(t), db, dead
			h := startHost(t, hc.conf.String())
			hc.drive(t, h.URL)
			h.stop(t)
			fmt.Fprintf(&seen.Builder, "--- log of %s:\n%s\n", hc.name, h.logs.String())
		})
	}

	// Start-up refusals quoting a URL with userinfo.
	refusals := map[string]func(c *secretsConfig) string{
		"PostgreSQL unreachable": func(c *secretsConfig) string {
			c.db = fmt.Sprintf("postgresql://postgres:dbpw-s9@127.0.0.1:%d/mogan", dead())
			return c.String()
		},
		"keystone auth_url without a host": func(c *secretsConfig) string {
			c.authKS = true
			conf := c.String()
			start := strings.Index(conf, "auth_url = http://ksurluser")
			end := start + strings.Index(conf[start:], "\n")
			return conf[:start] + "auth_url = http://ksurluser-u1:ksurlpw-s1@/v3" + conf[end:]
		},
		"ironic url with a bad port": func(c *secretsConfig) string {
			c.ironic = "url = http://ironicuser-u10:ironicurlpw-s10@127.0.0.1:port/\n"
			return c.String()
		},
	}
	for name, conf := range refusals {
		t.Run(name, func(t *testing.T) {
			c := secretsConfig{port: freePort(t), db: db, driver: "ironic", ironic: ironicBasic, deadPort: dead}
			out := runToFailure(t, conf(&c))
			fmt.Fprintf(&seen.Builder, "--- start-up of %s:\n%s\n", name, out)
		})
	}

	all := seen.String()
	for _, s := range configuredSecrets {
		if i := strings.Index(all, s.value); i >= 0 {
			t.Errorf("%s (%q) leaked: …%s…", s.where, s.value, all[max(0, i-200):min(len(all), i+100)])
		}
	}
	// The search must have had something to search: the challenge and the
	// services' (redacted) addresses are in it.
	for _, want := range []string{
		`Www-Authenticate: Keystone uri="http://127.0.0.1:`, "ironic at http://127.0.0.1:", "keystone at http://127.0.0.1:",
		"Glance at http://127.0.0.1:", "Neutron at http://127.0.0.1:", "notification broker",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the transcript lacks %q: an error path was not taken", want)
		}
	}
	if t.Failed() || os.Getenv("TRANSCRIPT") != "" {
		t.Logf("transcript:\n%s", all)
	}
}

// dbSyncOutput runs `mogan-api db sync` and records its output.
func dbSyncOutput(t *testing.T, seen *transcript, conf string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	writeFile(t, path, conf)
	out, err := exec.CommandContext(t.Context(), filepath.Join(binDir, "mogan-api"), "db", "sync", "--config-file", path).CombinedOutput()
	if err != nil {
		t.Fatalf("db sync: %v\n%s", err, out)
	}
	fmt.Fprintf(&seen.Builder, "--- db sync:\n%s\n", out)
}

// runToFailure runs mogan-api with conf, which must stop it at start-up,
// and returns its output.
func runToFailure(t *testing.T, conf string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// A host that starts after all is killed, not left serving.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "mogan-api"), "--config-file", path).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("mogan-api: err %v; want a non-zero exit at start-up\n%s", err, out)
	}
	return string(out)
}
