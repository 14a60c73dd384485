package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Issue 15, finding 8: values that passed check-config and meant
// something else.

// durationOptions are the options read as seconds, by section, from the
// option table: each is bounded, wherever it is.
func durationOptions() map[string][]string {
	out := map[string][]string{}
	for section, opts := range sections() {
		for _, o := range opts {
			if o.kind == kindSeconds {
				out[section] = append(out[section], o.name)
			}
		}
	}
	return out
}

// TestEveryDurationIsReadAsSeconds: an integer option whose help speaks of
// seconds is declared kindSeconds, so that seconds() bounds it; every
// duration is there.
func TestEveryDurationIsReadAsSeconds(t *testing.T) {
	for section, opts := range sections() {
		for _, o := range opts {
			if o.kind == kindInt && strings.Contains(strings.ToLower(o.help), "seconds") {
				t.Errorf("[%s] %s is an integer whose help speaks of seconds: declare it kindSeconds", section, o.name)
			}
		}
	}
	want := map[string]int{"DEFAULT": 1, "driver": 1, "keystone_authtoken": 2, "manage": 2, "migration": 1, "glance": 1, "neutron": 1}
	got := map[string]int{}
	for section, names := range durationOptions() {
		got[section] = len(names)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("duration options per section = %v; want %v (%v)", got, want, durationOptions())
	}
}

// TestDurationsAreBounded: a duration above a day is refused with one
// line naming the file, section, option and the maximum, for every
// duration option; a day is accepted. call_timeout =
// 36028797018963971 passed and meant 3 s (the product overflowed).
func TestDurationsAreBounded(t *testing.T) {
	for section, names := range durationOptions() {
		for _, name := range names {
			for value, wantErr := range map[string]bool{
				"86400":               false,
				"86401":               true,
				"36028797018963971":   true, // × 10⁹ ns wraps to 3 s
				"-36028797018963971":  true, // and to -3 s
				"9223372036854775807": true,
			} {
				t.Run(fmt.Sprintf("[%s] %s = %s", section, name, value), func(t *testing.T) {
					body := "[DEFAULT]\nauth_strategy = noauth\n"
					if section == "DEFAULT" {
						body += name + " = " + value + "\n"
					} else {
						body += "[" + section + "]\n" + name + " = " + value + "\n"
					}
					path := writeConf(t, body)
					cfg, err := Load(path, Overrides{})
					if !wantErr {
						if err != nil {
							t.Fatalf("a day refused: %v", err)
						}
						return
					}
					if err == nil {
						t.Fatalf("accepted (call_timeout %s, client_socket_timeout %s, reconcile_interval %s, intent_lease %s, token_cache_time %s)",
							cfg.Driver.CallTimeout, cfg.ClientSocketTimeout, cfg.Manage.ReconcileInterval, cfg.Manage.IntentLease, cfg.Keystone.TokenCacheTime)
					}
					var ce *Error
					if !errors.As(err, &ce) || ce.Section != section || ce.Option != name {
						t.Fatalf("error %v (%#v) does not name [%s] %s", err, ce, section, name)
					}
					want := fmt.Sprintf("%s: [%s] %s: %q is out of range: a duration is at most 86400 seconds (1 day)", path, section, name, value)
					if err.Error() != want {
						t.Errorf("error = %q\nwant    %q", err, want)
					}
				})
			}
		}
	}
}

// TestHostIsOneWord: [DEFAULT] host names this replica in the intent log
// and in the lock two live replicas may not share: empty or holding white
// space (or a control character) it is refused, naming the option; unset
// it is the machine's name.
func TestHostIsOneWord(t *testing.T) {
	tests := map[string]struct {
		line     string // in [DEFAULT]
		want     string // the host, when accepted
		wantText string // in the error, when refused
	}{
		"a name":           {line: "host = api-1", want: "api-1"},
		"a dotted name":    {line: "host = mogan-1.example.com", want: "mogan-1.example.com"},
		"spaces around":    {line: "host =   api-1   ", want: "api-1"},
		"empty":            {line: "host =", wantText: `[DEFAULT] host: is empty: it names this replica in the intent log and in the lock`},
		"only spaces":      {line: "host =    ", wantText: "[DEFAULT] host: is empty"},
		"a space inside":   {line: "host = my host", wantText: `[DEFAULT] host: "my host" holds white space: it names this replica in the intent log and in the lock`},
		"a tab inside":     {line: "host = my\thost", wantText: `[DEFAULT] host: "my\thost" holds white space`},
		"an inline # note": {line: "host = api-1 # the first", wantText: `"api-1 # the first" holds white space`},
		"a control char":   {line: "host = api\x01", wantText: `[DEFAULT] host: "api\x01" holds a control character`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = noauth\n"+tc.line+"\n"), Overrides{})
			if tc.wantText == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Host != tc.want {
					t.Errorf("host = %q; want %q", cfg.Host, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("host %q accepted", cfg.Host)
			}
			if !strings.Contains(err.Error(), tc.wantText) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line saying %q", err, tc.wantText)
			}
		})
	}
	// Unset: the machine's name.
	cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = noauth\n"), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := os.Hostname(); cfg.Host != name {
		t.Errorf("host = %q; want the machine's name %q", cfg.Host, name)
	}
}
