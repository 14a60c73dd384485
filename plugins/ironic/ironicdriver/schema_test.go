package ironicdriver

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestUnitSchemaMatchesTheParser: the options the driver describes are
// exactly those Configure reads, with the defaults it applies, so the
// sample configuration and check-config never disagree with the driver.
func TestUnitSchemaMatchesTheParser(t *testing.T) {
	schema := Schema()
	if problems := driver.CheckSchema(schema); len(problems) > 0 {
		t.Fatalf("CheckSchema: %v", problems)
	}
	var described []string
	defaults := map[string]string{}
	for _, o := range schema {
		described = append(described, o.Name)
		defaults[o.Name] = o.Default
	}
	slices.Sort(described)

	// The parser lists what it knows when it meets an unknown option.
	_, err := parseOptions(map[string]string{"no_such_option": "x"})
	msg := driver.OptionOf(err)
	if msg != "no_such_option" {
		t.Fatalf("parseOptions(no_such_option): %v", err)
	}
	_, list, ok := strings.Cut(err.Error(), "(known: ")
	if !ok {
		t.Fatalf("the unknown-option error lists nothing: %v", err)
	}
	known := strings.Split(strings.TrimSuffix(list, ")"), ", ")
	if diff := cmp.Diff(known, described); diff != "" {
		t.Errorf("options the parser reads (-) and the schema describes (+):\n%s", diff)
	}

	cfg, err := parseOptions(map[string]string{"url": "http://127.0.0.1:6385"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"api_version": cfg.APIVersion,
		"auth_type":   cfg.AuthType,
		"insecure":    strconv.FormatBool(cfg.Insecure),
		"timeout":     strconv.Itoa(int(cfg.Timeout / time.Second)),
	}
	for name, value := range got {
		if defaults[name] != value {
			t.Errorf("[ironic] %s: the schema's default is %q, the parser's %q", name, defaults[name], value)
		}
	}
}
