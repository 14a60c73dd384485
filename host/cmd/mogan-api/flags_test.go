package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStrayArgumentsAreRefused: a word after the flags is an error naming
// it, before any configuration is acted on: "mogan-api --config-file f db
// sync" served the API (the flag package stops at the first non-flag and
// the rest was ignored).
func TestStrayArgumentsAreRefused(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "mogan.conf")
	// A database the commands would create or open: it must not appear.
	db := filepath.Join(t.TempDir(), "mogan.sqlite")
	if err := os.WriteFile(conf, []byte("[database]\nconnection = sqlite://"+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args []string
		want string
	}{
		"command after the flags": {[]string{"--config-file", conf, "db", "sync"}, `mogan-api: unexpected argument "db"`},
		"db sync, then a word":    {[]string{"db", "sync", "--config-file", conf, "now"}, `mogan-api db sync [--backend NAME]: unexpected argument "now"`},
		"check-config, two files": {[]string{"check-config", "--config-file", conf, "other.conf"}, `mogan-api check-config: unexpected argument "other.conf"`},
		"recover, a stray word":   {[]string{"recover", "--config-file", conf, "all"}, `unexpected argument "all"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v; want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("the database was created or opened: %v", err)
			}
		})
	}
}
