package osclient

import (
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestEveryOptionIsDescribed ties Describe to what Parse reads, so that
// an option cannot be added (or removed) without its help text.
func TestEveryOptionIsDescribed(t *testing.T) {
	described := map[string]bool{}
	for _, o := range Describe(Spec{}) {
		if described[o.Name] {
			t.Errorf("option %q is described twice", o.Name)
		}
		described[o.Name] = true
		if _, ok := sharedOptions[o.Name]; !ok {
			t.Errorf("option %q is described but Parse does not read it", o.Name)
		}
	}
	for name := range sharedOptions {
		if !described[name] {
			t.Errorf("option %q is read by Parse but not described (add it to sharedHelp)", name)
		}
	}
	if problems := driver.CheckSchema(Describe(Spec{})); len(problems) > 0 {
		t.Errorf("CheckSchema: %v", problems)
	}
}
