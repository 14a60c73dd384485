package config

import (
	"strings"
	"testing"
)

// TestMalformedININamesTheLine is issue 8's "a malformed INI error names
// the line number": the line of the first bad line, counting comments,
// blank lines and continuation lines, and without echoing the line (it may
// be a password whose "=" was forgotten).
func TestMalformedININamesTheLine(t *testing.T) {
	tests := map[string]struct {
		body     string
		wantLine string
		want     string
	}{
		"no delimiter": {
			body:     "[DEFAULT]\nauth_strategy = noauth\nSECRET-without-equals\n",
			wantLine: "line 3:", want: `expected "option = value"`,
		},
		"after comments and blank lines": {
			body:     "# mogan\n\n; more\n[DEFAULT]\n\nauth_strategy = noauth\n\n[api]\nport = 6688\nSECRET-without-equals\n",
			wantLine: "line 10:", want: `expected "option = value"`,
		},
		"after a continuation line": {
			body:     "[DEFAULT]\nauth_strategy = noauth\n[oslo_policy]\npolicy_file = /a\n  /b\n[api]\nSECRET-without-equals\n",
			wantLine: "line 7:", want: `expected "option = value"`,
		},
		"CRLF line ends": {
			body:     "[DEFAULT]\r\nauth_strategy = noauth\r\nSECRET-without-equals\r\n",
			wantLine: "line 3:", want: `expected "option = value"`,
		},
		"unclosed section": {
			body:     "[DEFAULT]\nauth_strategy = noauth\n[api\nport = 1\n",
			wantLine: "line 3:", want: `without its closing "]"`,
		},
		"empty option name": {
			body:     "[DEFAULT]\nauth_strategy = noauth\n= SECRET\n",
			wantLine: "line 3:", want: "an option without a name",
		},
		"unclosed quote": {
			body:     "[DEFAULT]\nauth_strategy = noauth\n\"SECRET = x\n",
			wantLine: "line 3:", want: "never closed",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConf(t, tc.body), Overrides{})
			if err == nil {
				t.Fatal("Load accepted a malformed file")
			}
			msg := err.Error()
			for _, w := range []string{"mogan.conf: " + tc.wantLine + " malformed INI: ", tc.want} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("error %q quotes the bad line", msg)
			}
		})
	}
}
