package doctest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runTimeout bounds a whole document's shell blocks: the operator guide's
// take a few minutes on two quiet cores, and several times that when the
// machine runs other suites beside them (make test).
const runTimeout = 15 * time.Minute

// markerRE finds the line the script prints before each block.
var markerRE = regexp.MustCompile(`(?m)^@@doctest block at line (\d+)@@$`)

// script is one bash program running the blocks that run, in order, each
// after a marker line, with the doc's paths rewritten (Rewrite) and its
// literals replaced (the API's port 6688 by a free one).
func script(blocks []Block, paths, literals map[string]string) string {
	replace := replacer(literals)
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	for _, bl := range blocks {
		if !bl.Runs() {
			continue
		}
		// On a line of its own even after output without a final newline.
		fmt.Fprintf(&b, "printf '\\n@@doctest block at line %d@@\\n'\n", bl.Line)
		b.WriteString(replace.Replace(Rewrite(bl.Text, paths)))
	}
	b.WriteString("printf '\\n@@doctest block at line 0@@\\n'\n") // the end
	return b.String()
}

// runBlocks runs the document's shell blocks in w and returns what went
// wrong: a block that did not run, a block whose output lacks what its
// expect directives say, the script's failure naming the block that
// failed. Processes the blocks leave running (a host started with &) are
// killed at the end: the shell is a process group. output is everything
// the blocks printed.
func runBlocks(ctx context.Context, doc string, blocks []Block, w *world) (problems []string, output string) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script(blocks, w.paths(), w.Literals))
	cmd.Dir, cmd.Env = w.Work, w.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A background process that kept the shell's stdout must not hold
	// Wait until the timeout.
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
		// Whatever the blocks started in the background goes with the group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	output = out.String()
	outputs := splitOutput(output)
	replace := replacer(w.Literals)
	for _, bl := range blocks {
		if !bl.Runs() {
			continue
		}
		o, ran := outputs[bl.Line]
		if !ran {
			problems = append(problems, fmt.Sprintf("%s:%d: the block did not run (a block before it failed)", doc, bl.Line))
			continue
		}
		for _, want := range bl.Expect {
			if want = replace.Replace(want); !strings.Contains(o, want) {
				problems = append(problems, fmt.Sprintf("%s:%d: the block's output lacks %q; it was:\n%s", doc, bl.Line, want, o))
			}
		}
	}
	if err != nil {
		last := lastBlock(output)
		problems = append(problems, fmt.Sprintf("%s: the shell blocks failed (%v) in the block at line %d; its output:\n%s",
			doc, err, last, outputs[last]))
	}
	return problems, output
}

// replacer replaces each key of literals by its value.
func replacer(literals map[string]string) *strings.Replacer {
	var pairs []string
	for from, to := range literals {
		pairs = append(pairs, from, to)
	}
	return strings.NewReplacer(pairs...)
}

// splitOutput returns each block's output by the line of its fence.
func splitOutput(out string) map[int]string {
	parts := map[int]string{}
	idx := markerRE.FindAllStringSubmatchIndex(out, -1)
	for i, m := range idx {
		line, _ := strconv.Atoi(out[m[2]:m[3]])
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		parts[line] = strings.TrimPrefix(out[m[1]:end], "\n")
	}
	return parts
}

// lastBlock is the line of the last block that started.
func lastBlock(out string) int {
	idx := markerRE.FindAllStringSubmatch(out, -1)
	if len(idx) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(idx[len(idx)-1][1])
	return n
}

// readDoc parses a document of docs/ (name relative to the repository).
func readDoc(t *testing.T, name string) []Block {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(md)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return blocks
}

// TestRunBlocksReports runs a small document without any service: what
// runs, what an expect catches, where a failure stops, what never ran.
func TestRunBlocksReports(t *testing.T) {
	md := "```sh\nX=hello\n```\n" +
		"<!-- doctest: expect \"hello :6688\" -->\n```sh\necho \"$X :6688\"\n```\n" +
		"<!-- doctest: expect \"absent\" -->\n```sh\nprintf 'no final newline'\n```\n" +
		"<!-- doctest: skip (never runs) -->\n```sh\nexit 3\n```\n" +
		"```sh\necho /etc/mogan >/etc/mogan/where\ncat /etc/mogan/where\nfalse\n```\n" +
		"```sh\necho never\n```\n"
	blocks, err := Parse([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &world{Root: dir, Work: dir, Env: []string{"PATH=" + os.Getenv("PATH")}, Literals: map[string]string{":6688": ":1234"}}
	if err := os.MkdirAll(filepath.Join(dir, "etc/mogan"), 0o755); err != nil {
		t.Fatal(err)
	}
	problems, output := runBlocks(t.Context(), "doc.md", blocks, w)
	want := []string{
		"doc.md:9: the block's output lacks \"absent\"; it was:\nno final newline\n",
		"doc.md:21: the block did not run (a block before it failed)",
		"doc.md: the shell blocks failed (exit status 1) in the block at line 16; its output:\n" + filepath.Join(dir, "etc/mogan") + "\n",
	}
	if len(problems) != len(want) {
		t.Fatalf("problems:\n%s\nwant %d; output:\n%s", strings.Join(problems, "\n"), len(want), output)
	}
	for i, p := range problems {
		if !strings.HasPrefix(p, want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, p, want[i])
		}
	}
	if strings.Contains(output, "exit 3") || strings.Contains(output, "never") {
		t.Errorf("a skipped block or one after the failure ran:\n%s", output)
	}
}
