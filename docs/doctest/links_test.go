package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	slugDrop  = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
)

// slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces as hyphens.
func slug(heading string) string {
	return strings.ReplaceAll(slugDrop.ReplaceAllString(strings.ToLower(heading), ""), " ", "-")
}

// TestRelativeLinksResolve checks every relative link of the docs and the
// README: the file exists and, for a Markdown file, so does the anchor.
func TestRelativeLinksResolve(t *testing.T) {
	for _, doc := range append([]string{"README.md"}, documents...) {
		md, err := os.ReadFile(filepath.Join(repoRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(md), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := filepath.Join(repoRoot, filepath.Dir(doc), file)
			if file == "" {
				path = filepath.Join(repoRoot, doc)
			}
			body, err := os.ReadFile(path)
			if err != nil && !isDir(path) {
				t.Errorf("%s: link %s: %v", doc, target, err)
				continue
			}
			if anchor == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			found := false
			for _, h := range headingRE.FindAllStringSubmatch(string(body), -1) {
				found = found || slug(h[1]) == anchor
			}
			if !found {
				t.Errorf("%s: link %s: no heading with that anchor in %s", doc, target, file)
			}
		}
	}
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Configuration (INI, oslo.config style; durations are integer seconds)": "configuration-ini-osloconfig-style-durations-are-integer-seconds",
		"9. Observe it":                 "9-observe-it",
		"Host ↔ driver contract":        "host--driver-contract",
		"Writing a mogan-manage driver": "writing-a-mogan-manage-driver",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}
