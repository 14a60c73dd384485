package doctest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	md := strings.Join([]string{
		"# Title",
		"```sh",
		"echo one",
		"```",
		"",
		"<!-- doctest: skip (needs systemd) -->",
		"```sh",
		"systemctl start x",
		"```",
		"<!-- doctest: expect \"HTTP 201\" -->",
		"<!-- doctest: expect \"a \\\"quoted\\\" word\" -->",
		"````sh",
		"```",
		"````",
		"<!-- doctest: same-as etc/x.service -->",
		"```ini",
		"[Unit]",
		"```",
		"```",
		"plain",
		"```",
		"<!-- doctest: excerpt-of shared/driver/driver.go -->",
		"```go",
		"type Driver interface {",
		"```",
	}, "\n")
	got, err := Parse([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Line: 2, Lang: "sh", Text: "echo one\n"},
		{Line: 7, Lang: "sh", Text: "systemctl start x\n", Skip: "needs systemd"},
		{Line: 12, Lang: "sh", Text: "```\n", Expect: []string{"HTTP 201", `a "quoted" word`}},
		{Line: 16, Lang: "ini", Text: "[Unit]\n", SameAs: "etc/x.service"},
		{Line: 19, Lang: "", Text: "plain\n"},
		{Line: 23, Lang: "go", Text: "type Driver interface {\n", ExcerptOf: "shared/driver/driver.go"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	var runs []int
	for _, b := range got {
		if b.Runs() {
			runs = append(runs, b.Line)
		}
	}
	if diff := cmp.Diff([]int{2, 12}, runs); diff != "" {
		t.Errorf("blocks that run (-want +got):\n%s", diff)
	}
}

// A typo in a directive must never silently turn a check off.
func TestParseRefuses(t *testing.T) {
	tests := map[string]struct{ md, want string }{
		"unknown directive":    {"<!-- doctest: skipp (x) -->\n```sh\n```\n", `line 1: unknown doctest directive "skipp (x)"`},
		"skip without reason":  {"<!-- doctest: skip -->\n```sh\n```\n", `line 1: unknown doctest directive "skip"`},
		"expect unquoted":      {"<!-- doctest: expect HTTP -->\n```sh\n```\n", `line 1: unknown doctest directive "expect HTTP"`},
		"no block after it":    {"<!-- doctest: skip (x) -->\nsome prose\n```sh\n```\n", "line 1: doctest comment not followed by a code block"},
		"at the end":           {"text\n<!-- doctest: skip (x) -->\n", "line 2: doctest comment at the end of the document"},
		"fence never closed":   {"```sh\necho\n", "line 1: code block never closed"},
		"directive in a block": {"```sh\n<!-- doctest: skip (x) -->\n", "line 1: code block never closed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.md))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	paths := map[string]string{"/etc/mogan": "/r/etc/mogan", "/usr/local/bin": "/r/usr/local/bin"}
	tests := map[string]struct{ in, want string }{
		"start of a line":     {"/etc/mogan/mogan.conf", "/r/etc/mogan/mogan.conf"},
		"after a space":       {"install -d /etc/mogan /usr/local/bin", "install -d /r/etc/mogan /r/usr/local/bin"},
		"quoted and assigned": {`C="/etc/mogan/x" D=/etc/mogan`, `C="/r/etc/mogan/x" D=/r/etc/mogan`},
		"several lines":       {"a /etc/mogan\nb /etc/mogan/x\n", "a /r/etc/mogan\nb /r/etc/mogan/x\n"},
		"only whole names":    {"/etc/moganx /x/etc/mogan http://h/etc/mogan", "/etc/moganx /x/etc/mogan http://h/etc/mogan"},
		"ini value":           {"plugin_dir = /usr/local/bin", "plugin_dir = /r/usr/local/bin"},
		"sqlite URL":          {"sqlite:///etc/mogan/m.sqlite", "sqlite:///r/etc/mogan/m.sqlite"},
		"redirections":        {"a >/etc/mogan/log 2>/etc/mogan/err </etc/mogan/in", "a >/r/etc/mogan/log 2>/r/etc/mogan/err </r/etc/mogan/in"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Rewrite(tc.in, paths); got != tc.want {
				t.Errorf("Rewrite(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
