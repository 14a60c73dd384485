package driverplugin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// Only socket directories this user made, named after a host that no
// longer runs, are removed; everything else in TMPDIR stays.
func TestRemoveStaleSocketDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := deadPID(t)
	parent := os.Getppid()
	parentStart, alive := processStart(parent)
	if !alive || parentStart == 0 {
		t.Fatalf("cannot read the start time of the parent %d", parent)
	}
	self, err := newSocketDir()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		make    func(path string) error
		removed bool
	}{
		{"mogan-driver-" + fmt.Sprint(dead) + "-12345-678", mkdirWithSocket, true},
		// The pid runs, but it is another process than the one recorded.
		{fmt.Sprintf("mogan-driver-%d-%d-678", parent, parentStart+1), mkdirWithSocket, true},
		// A live host's directory.
		{fmt.Sprintf("mogan-driver-%d-%d-678", parent, parentStart), mkdirWithSocket, false},
		{filepath.Base(self), nil, false},
		// Names we do not make: the older random-only name, someone else's.
		{"mogan-driver-123456789", mkdirWithSocket, false},
		{"mogan-driver-" + fmt.Sprint(dead) + "-12345-x", mkdirWithSocket, false},
		{"mogan-driver-foo", mkdirWithSocket, false},
		// Named as ours, but not a directory.
		{"mogan-driver-" + fmt.Sprint(dead) + "-12345-679", func(p string) error { return os.WriteFile(p, nil, 0o600) }, false},
		{"mogan-driver-" + fmt.Sprint(dead) + "-12345-680", func(p string) error { return os.Symlink(t.TempDir(), p) }, false},
	}
	if os.Getuid() == 0 {
		// Another user's directory, named as a dead host's.
		tests = append(tests, struct {
			name    string
			make    func(path string) error
			removed bool
		}{"mogan-driver-" + fmt.Sprint(dead) + "-12345-681", func(p string) error {
			if err := mkdirWithSocket(p); err != nil {
				return err
			}
			return os.Lchown(p, 65534, 65534)
		}, false})
	}
	for _, tc := range tests {
		if tc.make != nil {
			if err := tc.make(filepath.Join(tmp, tc.name)); err != nil {
				t.Fatal(err)
			}
		}
	}

	removed, err := RemoveStaleSocketDirs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		path := filepath.Join(tmp, tc.name)
		_, statErr := os.Lstat(path)
		if gone := os.IsNotExist(statErr); gone != tc.removed {
			t.Errorf("%s: removed = %v, want %v", tc.name, gone, tc.removed)
		}
		if slices.Contains(removed, path) != tc.removed {
			t.Errorf("%s: in the list of removed directories = %v, want %v", tc.name, !tc.removed, tc.removed)
		}
	}
}

// mkdirWithSocket makes a directory holding a file named as go-plugin
// names its socket.
func mkdirWithSocket(path string) error {
	if err := os.Mkdir(path, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(path, "plugin123"), nil, 0o600)
}

// The name of a new socket directory records this process: pid and start
// time, and it is not stale while this process runs.
func TestNewSocketDirRecordsHost(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir, err := newSocketDir()
	if err != nil {
		t.Fatal(err)
	}
	m := socketDirName.FindStringSubmatch(filepath.Base(dir))
	start, _ := processStart(os.Getpid())
	if m == nil || m[1] != fmt.Sprint(os.Getpid()) || m[2] != fmt.Sprint(start) || start == 0 {
		t.Fatalf("socket directory %s does not record pid %d and start time %d", dir, os.Getpid(), start)
	}
	if stale(filepath.Dir(dir), filepath.Base(dir)) {
		t.Errorf("this process's own socket directory %s reads as stale", dir)
	}
}
