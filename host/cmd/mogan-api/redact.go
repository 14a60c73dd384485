package main

import (
	"io"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// redactingWriter removes URLs' userinfo (user:password@) from everything
// logged. Every package redacts the URLs it logs itself; this catches a
// foreign error text (a library's, a plugin's log line) that quotes a
// configured URL. hclog writes each entry in one Write, so a URL is never
// split between two calls.
type redactingWriter struct{ w io.Writer }

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, osclient.RedactText(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
