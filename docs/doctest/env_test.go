package doctest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/keystone"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// repoRoot is the repository, from this package's directory.
const repoRoot = "../.."

// world is what the operator's shell blocks run against: a Keystone with
// Ironic, Glance and Neutron in its catalog, as a cloud has them; the old
// cloud machines move from (oldCloud), its admin-openrc in
// $HOME/old-openrc; and a working directory holding bin/ as `make build`
// leaves it.
type world struct {
	// Root stands for / in the doc's absolute paths (Rewrite).
	Root string
	// Work is the shell's working directory: bin/ is in it.
	Work string
	// Env is the shell's environment: the admin's OS_* credentials
	// (an admin-openrc), PATH, HOME.
	Env []string
	// Literals are replaced in the blocks: the API's default port by a
	// free one, so that the test never meets another mogan-api.
	Literals map[string]string
}

// paths maps the doc's absolute paths into w.Root.
func (w *world) paths() map[string]string {
	m := map[string]string{}
	for _, p := range []string{"/etc/mogan", "/var/lib/mogan", "/usr/local/bin", "/etc/openstack"} {
		m[p] = filepath.Join(w.Root, p)
	}
	return m
}

// newWorld builds the binaries and starts the services, stopped when the
// test ends.
func newWorld(t *testing.T) *world {
	t.Helper()
	// What the guide's commands run besides the built binaries.
	for tool, from := range map[string]string{
		"openstack": "python3-openstackclient: run `make test-deps` (as root)",
		"curl":      "curl", "jq": "jq", "openssl": "openssl", "sha256sum": "coreutils",
	} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("docs/operator.md runs %s, which is not installed (Debian: %s)", tool, from)
		}
	}
	ctx := t.Context()
	dir := t.TempDir()
	w := &world{Root: filepath.Join(dir, "root"), Work: filepath.Join(dir, "work")}
	if err := os.MkdirAll(w.Work, 0o755); err != nil {
		t.Fatal(err)
	}
	var (
		ks  *keystone.Keystone
		c   *cloud.Cloud
		old *oldCloud
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if prebuilt := os.Getenv("DOCTEST_BIN"); prebuilt != "" {
			// For DOCTEST_HOLD sessions while the tree is mid-change.
			return os.Symlink(prebuilt, filepath.Join(w.Work, "bin"))
		}
		return build(gctx, filepath.Join(w.Work, "bin"))
	})
	g.Go(func() (err error) {
		ks, err = keystone.Start(gctx, filepath.Join(dir, "keystone"), keystone.WithoutUsers())
		return err
	})
	g.Go(func() (err error) {
		c, err = cloud.Start(gctx, cloud.Options{Dir: filepath.Join(dir, "cloud"), Glance: true, Neutron: true, DieWithParent: true})
		return err
	})
	g.Go(func() (err error) {
		old, err = startOldCloud(gctx, filepath.Join(dir, "old"))
		return err
	})
	err := g.Wait()
	if ks != nil {
		t.Cleanup(ks.Stop)
	}
	if c != nil {
		t.Cleanup(c.Stop)
	}
	if old != nil {
		t.Cleanup(old.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := register(ctx, ks, map[string]string{
		"baremetal": c.Ironic.URL, "image": c.Glance.URL, "network": c.Neutron.URL,
	}); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	for _, d := range []string{w.Root, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.writeOpenrc(filepath.Join(home, "old-openrc")); err != nil {
		t.Fatal(err)
	}
	w.Env = []string{
		"PATH=" + filepath.Join(w.Root, "usr/local/bin") + ":" + os.Getenv("PATH"),
		"HOME=" + home,
		"LANG=C.UTF-8",
		"TMPDIR=" + os.TempDir(),
		"OS_AUTH_URL=" + ks.URL,
		"OS_IDENTITY_API_VERSION=3",
		"OS_USERNAME=" + ks.Admin.Name,
		"OS_PASSWORD=" + ks.Admin.Password,
		"OS_PROJECT_NAME=" + ks.Admin.Project,
		"OS_USER_DOMAIN_NAME=" + keystone.DomainName,
		"OS_PROJECT_DOMAIN_NAME=" + keystone.DomainName,
		"OS_REGION_NAME=RegionOne",
		"OS_INTERFACE=public",
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	w.Literals = map[string]string{":6688": ":" + port, "port = 6688": "port = " + port}
	return w
}

// freePort is a loopback TCP port nobody listens on now.
func freePort() (string, error) {
	port, err := proctest.FreePort()
	return strconv.Itoa(port), err
}

// build compiles what `make build` puts in bin/.
func build(ctx context.Context, bin string) error {
	for out, pkg := range map[string]string{
		"mogan-api":           "./host/cmd/mogan-api",
		"mogan-driver-ironic": "./plugins/ironic/cmd/mogan-driver-ironic",
		"mogan-driver-noop":   "./plugins/noop",
		"mogan":               "./cmd/mogan",
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, out), pkg)
		cmd.Dir = repoRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
		}
	}
	return nil
}

// register puts each service's endpoint in Keystone's catalog (public and
// internal), as a deployment does: the openstack CLI and the host find
// them there.
func register(ctx context.Context, ks *keystone.Keystone, endpoints map[string]string) error {
	token, err := ks.AdminToken(ctx)
	if err != nil {
		return err
	}
	for typ, url := range endpoints {
		var svc struct {
			Service struct {
				ID string `json:"id"`
			} `json:"service"`
		}
		name := map[string]string{"baremetal": "ironic", "image": "glance", "network": "neutron"}[typ]
		body := map[string]any{"service": map[string]any{"type": typ, "name": name, "enabled": true}}
		if err := ks.Request(ctx, token, http.MethodPost, "/services", body, &svc); err != nil {
			return err
		}
		for _, iface := range []string{"public", "internal"} {
			if err := ks.Request(ctx, token, http.MethodPost, "/endpoints", map[string]any{"endpoint": map[string]any{
				"service_id": svc.Service.ID, "interface": iface, "url": url, "region_id": "RegionOne",
			}}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
