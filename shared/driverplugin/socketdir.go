package driverplugin

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// socketDirPrefix starts the name of the directory each plugin gets for
// its Unix socket, in the temporary directory. The full name records the
// host that made it: mogan-driver-<host pid>-<host start time>-<random>,
// so that a later host can tell a leftover of a dead host (SIGKILLed, it
// could not remove it) from a directory of a live one.
const socketDirPrefix = "mogan-driver-"

// socketDirName matches the names newSocketDir makes, and only those.
var socketDirName = regexp.MustCompile(`^` + socketDirPrefix + `([0-9]+)-([0-9]+)-[0-9]+$`)

// newSocketDir makes the socket directory of one plugin, named after this
// process (see socketDirPrefix).
func newSocketDir() (string, error) {
	pid := os.Getpid()
	start, _ := processStart(pid)
	return os.MkdirTemp("", fmt.Sprintf("%s%d-%d-", socketDirPrefix, pid, start))
}

// RemoveStaleSocketDirs removes, from the temporary directory, the socket
// directories that a host which no longer runs left behind: only
// directories named as newSocketDir names them, owned by this user, whose
// recorded process is gone (or is another process that reused its pid).
// Anything else is left alone: another host's live directory, a file of
// another user, a name we do not make. It returns the directories removed
// and the first error met (it goes on after one).
func RemoveStaleSocketDirs() ([]string, error) {
	tmp := os.TempDir()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("looking for stale plugin socket directories in %s: %w", tmp, err)
	}
	var removed []string
	var first error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), socketDirPrefix) || !stale(tmp, e.Name()) {
			continue
		}
		path := filepath.Join(tmp, e.Name())
		if err := os.RemoveAll(path); err != nil {
			if first == nil {
				first = fmt.Errorf("removing stale plugin socket directory: %w", err)
			}
			continue
		}
		removed = append(removed, path)
	}
	return removed, first
}

// stale reports whether name in dir is a socket directory of ours whose
// host is gone.
func stale(dir, name string) bool {
	m := socketDirName.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid <= 0 {
		return false
	}
	recorded, err := strconv.ParseUint(m[2], 10, 64)
	if err != nil {
		return false
	}
	fi, err := os.Lstat(filepath.Join(dir, name))
	if err != nil || !fi.IsDir() || !ownedByUs(fi) {
		return false
	}
	if pid == os.Getpid() {
		return false
	}
	start, alive := processStart(pid)
	if !alive {
		return true
	}
	// The pid is in use: by the host that made the directory unless the
	// process started at another time (both known).
	return recorded != 0 && start != 0 && start != recorded
}

// processStart says whether process pid runs and, where /proc tells, when
// it started (clock ticks since boot, /proc/<pid>/stat field 22); 0 when
// unknown.
func processStart(pid int) (start uint64, alive bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if _, serr := os.Stat("/proc/self/stat"); serr == nil {
			return 0, false // /proc works, and has no such process
		}
		return 0, processExists(pid)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, true
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state): starttime, field 22, is fields[19].
	if len(fields) < 20 {
		return 0, true
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, true
	}
	return start, true
}
