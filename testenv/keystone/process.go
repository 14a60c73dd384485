package keystone

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/pydeb"
	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

//go:embed standalone.py
var launcherScript []byte

const confTemplate = `[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///%[1]s/keystone.db
[token]
provider = fernet
expiration = %[2]d
[fernet_tokens]
key_repository = %[1]s/fernet-keys
[fernet_receipts]
key_repository = %[1]s/fernet-keys
[credential]
key_repository = %[1]s/credential-keys
[identity]
# Minimum bcrypt cost: tests create and authenticate users, nothing more.
password_hash_rounds = 4
`

// launch writes the config and launcher into dir, starts Keystone and waits
// until it answers. It returns the process and the identity endpoint.
func launch(ctx context.Context, dir, adminPassword string, expiration time.Duration) (*service.Process, string, error) {
	// Installs nothing: `make test-deps` does, once and as root.
	if err := pydeb.Require(ctx, "python3-keystone", "keystone"); err != nil {
		return nil, "", err
	}
	dir, port, err := service.Prepare(dir)
	if err != nil {
		return nil, "", err
	}
	for _, d := range []string{"fernet-keys", "credential-keys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, "", err
		}
	}
	secs := int(expiration / time.Second)
	conf := filepath.Join(dir, "keystone.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, confTemplate, dir, secs), 0o600); err != nil {
		return nil, "", err
	}
	script := filepath.Join(dir, "standalone.py")
	if err := os.WriteFile(script, launcherScript, 0o600); err != nil {
		return nil, "", err
	}
	url := "http://127.0.0.1:" + port + "/v3"
	proc, err := service.Start(ctx, service.Options{
		Name:     "keystone",
		Package:  "python3-keystone",
		Dir:      dir,
		Script:   script,
		Args:     []string{conf, filepath.Join(dir, "keystone.db"), port},
		Env:      []string{"OS_BOOTSTRAP_PASSWORD=" + adminPassword},
		Log:      filepath.Join(dir, "keystone.log"),
		ReadyURL: url,
	})
	if err != nil {
		return nil, "", err
	}
	return proc, url, nil
}
