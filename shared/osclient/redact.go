package osclient

import (
	"net/url"
	"regexp"
)

// Redact returns u without its userinfo (user:password@), for messages and
// logs. A string that does not parse as a URL goes through RedactText.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return RedactText(u)
	}
	if p.User == nil {
		return u
	}
	p.User = nil
	return p.String()
}

// userinfo is the user[:password]@ of a URL inside free text: after
// "scheme://", up to an @ before the first slash, space or quote.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s"'<>]+@`)

// RedactText removes the userinfo of every URL in s: for text that quotes
// URLs the package did not build, such as a transport error (net/http
// masks only the password).
func RedactText(s string) string { return userinfo.ReplaceAllString(s, "$1") }
