package benchkit

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcessCPU is a process's user+system CPU seconds from /proc (0 when it
// is gone): read before and after a run, it is what the run cost that
// process, whatever else the machine was doing.
func ProcessCPU(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces), from field 3.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// GroupCPU sums ProcessCPU over the processes of a process group: a
// service that forks workers (Ironic's API and conductor) leads one.
func GroupCPU(pgid int) float64 {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return ProcessesCPU(pids)
}

// ProcessesCPU sums ProcessCPU over pids (a service's processes, a host's
// plugins).
func ProcessesCPU(pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		total += ProcessCPU(pid)
	}
	return total
}

// LoadAverage is /proc/loadavg's 1, 5 and 15 minute averages ("?" when it
// cannot be read), reported with every run: a busy machine slows both
// sides, and the ratio means little then.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Median is the middle of ds (the mean of the two middle ones for an even
// count; ds is not reordered): the time reported of several runs, which
// one slow run does not move.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// FileSize is the size of the file at path (0 when it cannot be read):
// where a service's log stands before a run, for CountRequests.
func FileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// CountRequests counts the requests a service's log (eventlet's access
// lines, `"GET /v1/nodes/… HTTP/1.1" status: 200 …`) holds from offset on,
// by method and path, the path as foldPath makes it (its ids folded, so
// that a run's requests add up by kind): "N (GET /v1/nodes/{id} ×N, …)",
// or "?" when the log cannot be read. It shows that both sides ask the
// services the same.
func CountRequests(logPath string, offset int64, foldPath func(path string) string) string {
	f, err := os.Open(logPath)
	if err != nil {
		return "?"
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "?"
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "?"
	}
	counts := map[string]int{}
	total := 0
	for _, line := range strings.Split(string(data), "\n") {
		_, req, ok := strings.Cut(line, `"`)
		if !ok || !strings.Contains(req, " HTTP/1.") {
			continue
		}
		req, _, _ = strings.Cut(req, " HTTP/1.")
		req, _, _ = strings.Cut(req, "?")
		method, path, ok := strings.Cut(req, " ")
		if !ok || !strings.HasPrefix(path, "/") {
			continue
		}
		counts[method+" "+foldPath(path)]++
		total++
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(out, ", "))
}
