package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"one", []time.Duration{5}, 5},
		{"odd, unsorted", []time.Duration{9, 1, 4}, 4},
		{"even: the mean of the middle two", []time.Duration{8, 2, 4, 6}, 5},
		{"equal", []time.Duration{3, 3}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.in...)
			if got := Median(in); got != tc.want {
				t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatalf("Median reordered its argument: %v", in)
				}
			}
		})
	}
}

// TestCPU checks that the current process's CPU seconds grow with work,
// that ProcessesCPU sums them, and that a process that is gone counts 0.
func TestCPU(t *testing.T) {
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	pid := os.Getpid()
	first := ProcessCPU(pid)
	if first <= 0 {
		t.Errorf("ProcessCPU(self) = %v after 50 ms of work, want > 0", first)
	}
	sum := ProcessesCPU([]int{pid, 1 << 30})
	if last := ProcessCPU(pid); sum < first || sum > last {
		t.Errorf("ProcessesCPU(self, no such process) = %v, want between %v and %v", sum, first, last)
	}
	if got := ProcessCPU(1 << 30); got != 0 {
		t.Errorf("ProcessCPU(no such process) = %v, want 0", got)
	}
	if got := GroupCPU(1 << 30); got != 0 {
		t.Errorf("GroupCPU(no such group) = %v, want 0", got)
	}
}

func TestLoadAverage(t *testing.T) {
	if f := strings.Fields(LoadAverage()); len(f) != 3 {
		t.Errorf("LoadAverage() = %q, want three averages", LoadAverage())
	}
}

func TestCountRequests(t *testing.T) {
	log := filepath.Join(t.TempDir(), "service.log")
	before := `"GET /v1/nodes/old HTTP/1.1" status: 200` + "\n"
	after := `x "GET /v1/nodes/a?fields=name HTTP/1.1" status: 200
x "GET /v1/nodes/b HTTP/1.1" status: 200
x "POST /v2.0/ports HTTP/1.1" status: 201
not a request line
`
	if err := os.WriteFile(log, []byte(before+after), 0o600); err != nil {
		t.Fatal(err)
	}
	fold := func(path string) string {
		if i := strings.Index(path, "/nodes/"); i >= 0 {
			return path[:i] + "/nodes/{id}"
		}
		return path
	}
	for _, tc := range []struct {
		name   string
		offset int64
		want   string
	}{
		{"from the offset", int64(len(before)), "3 (GET /v1/nodes/{id} ×2, POST /v2.0/ports ×1)"},
		{"all", 0, "4 (GET /v1/nodes/{id} ×3, POST /v2.0/ports ×1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CountRequests(log, tc.offset, fold); got != tc.want {
				t.Errorf("CountRequests = %q, want %q", got, tc.want)
			}
		})
	}
	if got := FileSize(log); got != int64(len(before+after)) {
		t.Errorf("FileSize = %d, want %d", got, len(before+after))
	}
	if got := CountRequests(filepath.Join(t.TempDir(), "none"), 0, fold); got != "?" {
		t.Errorf("CountRequests(missing log) = %q, want ?", got)
	}
}

// TestAlternate checks the order of the runs (a warm-up of each side,
// then host and raw alternately), the machines each is given, and the
// runs' lines.
func TestAlternate(t *testing.T) {
	var calls []string
	side := func(name string) func(context.Context, int) error {
		return func(_ context.Context, n int) error {
			calls = append(calls, fmt.Sprintf("%s %d", name, n))
			return nil
		}
	}
	measured := 0
	res, err := Command{Name: "bench-test"}.Alternate(t.Context(), Options{Nodes: 5, Runs: 2, Concurrency: 2}, Sides{
		Host: side("host"), Raw: side("raw"),
		Measure: func() func() string {
			measured++
			k := measured
			return func() string { return fmt.Sprintf("cost %d", k) }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"host 2", "raw 2", "host 5", "raw 5", "host 5", "raw 5"}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	if len(res.Host) != 2 || len(res.Raw) != 2 || len(res.Lines) != 4 {
		t.Fatalf("results = %+v, want 2 times a side and 4 lines", res)
	}
	for i, prefix := range []string{"run 1, host: ", "run 1, raw: ", "run 2, host: ", "run 2, raw: "} {
		if l := res.Lines[i]; !strings.HasPrefix(l, prefix) || !strings.HasSuffix(l, fmt.Sprintf("; cost %d", i+1)) {
			t.Errorf("line %d = %q, want %q… ending in the run's cost", i, l, prefix)
		}
	}

	failing := func(context.Context, int) error { return errors.New("boom") }
	_, err = Command{Name: "bench-test"}.Alternate(t.Context(), Options{Nodes: 1, Runs: 1, Concurrency: 1},
		Sides{Host: side("host"), Raw: failing, Measure: func() func() string { return func() string { return "" } }})
	if err == nil || err.Error() != "warm-up, raw: boom" {
		t.Errorf("a failing raw side: %v, want warm-up, raw: boom", err)
	}
}

// TestReport checks the table's row (the medians, their ratio, the
// verdict against Goal) and the lists under it.
func TestReport(t *testing.T) {
	var retries Notes
	r := Report{Options: Options{Nodes: 7, Runs: 3, Concurrency: 2}, Machines: "one NIC each", Host: "mogan migrate --adopt",
		Case: "migrations with adoption", LoadStart: "0.1 0.2 0.3", Retries: &retries}
	for _, tc := range []struct {
		name     string
		host     []time.Duration
		retries  []string
		want     []string
		wantNone string
	}{
		{"met", []time.Duration{2 * time.Second, 2 * time.Second, 9 * time.Second}, nil,
			[]string{"| 7 migrations with adoption, 2 at a time | 2.0 s | 2.0 s | 1.00× | ≤ 1.2× (met) |", "runs:\n  a\n"}, "retries"},
		{"missed, with retries", []time.Duration{3 * time.Second, 3 * time.Second, 1 * time.Second}, []string{"raw: x"},
			[]string{"| 3.0 s | 2.0 s | 1.50× | ≤ 1.2× (**missed**) |", "retries (counted in the times above): 1\n  raw: x\n"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, l := range tc.retries {
				retries.Add(l)
			}
			var out strings.Builder
			err := r.Write(&out, Results{Host: tc.host, Raw: []time.Duration{2 * time.Second, 1 * time.Second, 3 * time.Second},
				Lines: []string{"a"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tc.want, "7 machines a run (one NIC each), --concurrency 2; median of 3 runs",
				"| case | host (mogan migrate --adopt) | raw (the same requests) |") {
				if !strings.Contains(out.String(), w) {
					t.Errorf("the report lacks %q:\n%s", w, out.String())
				}
			}
			if tc.wantNone != "" && strings.Contains(out.String(), tc.wantNone) {
				t.Errorf("the report has %q:\n%s", tc.wantNone, out.String())
			}
		})
	}
}
