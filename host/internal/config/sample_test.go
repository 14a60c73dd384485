package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// samplePath is etc/mogan.conf.sample from this package's directory.
var samplePath = filepath.Join("..", "..", "..", "etc", "mogan.conf.sample")

// generatedSample is what make sample-config writes: mogan-api's sections
// and the Ironic driver's, whose description is asked in-process here
// (make sample-config asks the built plugin over the contract; the e2e
// test checks that both agree).
func generatedSample(t *testing.T) []byte {
	t.Helper()
	sections := append(config.Sections(), config.Section{
		Name: ironicdriver.Name, Origin: "mogan-driver-" + ironicdriver.Name, Options: ironicdriver.Schema(),
	})
	var b bytes.Buffer
	if err := config.WriteSample(&b, sections); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSampleConfigIsUpToDate fails when etc/mogan.conf.sample drifts from
// the option table or the Ironic driver's options: run make sample-config.
func TestSampleConfigIsUpToDate(t *testing.T) {
	want := generatedSample(t)
	got, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatalf("%v: run make sample-config", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("etc/mogan.conf.sample is stale; run make sample-config (-generated +file):\n%s", diff)
	}
}

// TestEveryOptionIsDocumented: no option without help, and the table's
// description passes the check the conformance kit runs on drivers.
func TestEveryOptionIsDocumented(t *testing.T) {
	for _, s := range config.Sections() {
		for _, p := range driver.CheckSchema(portsAsIntegers(s.Options)) {
			t.Errorf("[%s] %s", s.Name, p)
		}
	}
}

func portsAsIntegers(opts []driver.ConfigOption) []driver.ConfigOption {
	out := make([]driver.ConfigOption, len(opts))
	for i, o := range opts {
		if o.Type == "port" {
			o.Type = driver.OptionInteger
		}
		if strings.HasPrefix(o.Default, "<") { // computed at start
			o.Default = ""
		}
		out[i] = o
	}
	return out
}

// TestSampleNeverPrintsSecrets: a secret's default stays <None>, and every
// section and option of the table is in the sample.
func TestSampleNeverPrintsSecrets(t *testing.T) {
	sample := string(generatedSample(t))
	secret := config.Section{Name: "x", Origin: "test", Options: []driver.ConfigOption{
		{Name: "token", Help: "A token.", Secret: true, Default: "s3cr3t"},
	}}
	var b bytes.Buffer
	if err := config.WriteSample(&b, []config.Section{secret}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "s3cr3t") || !strings.Contains(b.String(), "#token = <None>") {
		t.Errorf("a secret's default was printed:\n%s", b.String())
	}
	for _, s := range config.Sections() {
		header := "\n[" + s.Name + "]\n"
		if s.Example {
			header = "\n#[" + s.Name + "]\n"
		}
		if !strings.Contains(sample, header) {
			t.Errorf("section [%s] is not in the sample", s.Name)
		}
		for _, o := range s.Options {
			if !strings.Contains(sample, "\n#"+o.Name+" = ") {
				t.Errorf("[%s] %s is not in the sample", s.Name, o.Name)
			}
		}
	}
}

// TestSampleHelpIsSentences: a driver's help without a full stop still
// reads as a sentence before what the sample adds to it.
func TestSampleHelpIsSentences(t *testing.T) {
	tests := map[string]struct {
		option driver.ConfigOption
		want   string
	}{
		"no stop, required": {driver.ConfigOption{Name: "file", Help: "a JSON array of driver.Node", Required: true},
			"# a JSON array of driver.Node. Required. (string value)\n"},
		"stop kept": {driver.ConfigOption{Name: "file", Help: "A file.", Required: true},
			"# A file. Required. (string value)\n"},
		"no stop, secret": {driver.ConfigOption{Name: "token", Help: "the token ", Secret: true},
			"# the token. A secret: never logged or echoed. (string value)\n"},
		"no help": {driver.ConfigOption{Name: "x", Required: true},
			"\n# Required. (string value)\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := config.WriteSample(&b, []config.Section{{Name: "x", Origin: "test", Options: []driver.ConfigOption{tc.option}}}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("sample lacks %q:\n%s", tc.want, b.String())
			}
		})
	}
}
