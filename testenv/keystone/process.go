package keystone

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/pydeb"
)

// python is the interpreter that sees Debian's python3-keystone.
const python = pydeb.Python

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

// process is the running Python process that serves Keystone.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // closing it makes the launcher exit
	exited chan struct{}  // closed when cmd.Wait returns
	log    string
}

// launch writes the config and launcher into dir, starts Keystone and waits
// until it reports its port.
func launch(ctx context.Context, dir, adminPassword string, expiration time.Duration) (*process, int, error) {
	// Installs nothing: `make test-deps` does, once and as root.
	if err := pydeb.Require(ctx, "python3-keystone", "keystone"); err != nil {
		return nil, 0, err
	}
	for _, d := range []string{"fernet-keys", "credential-keys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, 0, err
		}
	}
	secs := int(expiration / time.Second)
	conf := filepath.Join(dir, "keystone.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, confTemplate, dir, secs), 0o600); err != nil {
		return nil, 0, err
	}
	script := filepath.Join(dir, "standalone.py")
	if err := os.WriteFile(script, launcherScript, 0o600); err != nil {
		return nil, 0, err
	}
	logPath := filepath.Join(dir, "keystone.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor

	cmd := exec.Command(python, script, conf, filepath.Join(dir, "keystone.db"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OS_BOOTSTRAP_PASSWORD="+adminPassword)
	cmd.Stderr = logFile
	// Own session and process group, stopped by its PID. If the test process
	// dies, the launcher sees its stdin close and exits (no Pdeathsig: it
	// fires when the forking OS thread exits, which Go threads may do).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start keystone with %s: %w", python, err)
	}
	p := &process{cmd: cmd, stdin: stdin, exited: make(chan struct{}), log: logPath}

	ports := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				if port, err := strconv.Atoi(rest); err == nil {
					ports <- port
				}
			}
		}
		// Drain, then reap: Wait must not race the reads of stdout.
		_ = cmd.Wait()
		close(p.exited)
	}()

	select {
	case port := <-ports:
		return p, port, nil
	case <-p.exited:
		return nil, 0, fmt.Errorf("keystone exited during start-up:\n%s", p.tail(20))
	case <-ctx.Done():
		p.stop()
		return nil, 0, fmt.Errorf("keystone did not start: %w\n%s", ctx.Err(), p.tail(20))
	}
}

// stop asks the launcher to exit by closing its stdin, then kills its
// process group if it has not gone after a few seconds.
func (p *process) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// tail returns the last n lines of Keystone's log, for error messages.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
