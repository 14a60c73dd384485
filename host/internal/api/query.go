package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// maxLimit caps ?limit= so that one page stays a reasonable response.
const maxLimit = 10000

// parseQuery reads the request's query string, refusing one that does not
// parse (a bad percent escape, a ";" separator): url.URL.Query drops such a
// pair silently, so "?dry_run=%zz" or "?x=1;dry_run=true" would adopt for
// real.
func parseQuery(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Malformed query string: %s", quoted(err.Error()))
	}
	return q, nil
}

// takesParams runs next only when the query string parses and names no
// parameter but those given, each with a value; else it answers 400 naming
// the first culprit. A misspelt parameter (?DRY_RUN=true, ?dry-run=true)
// was ignored, and so was a bare flag (?dry_run): the request was done as
// if it were absent, which for the adoption means for real. Upstream
// Mogan's WSME refuses an unknown parameter the same way ("Unknown
// argument").
func (s *Server) takesParams(names []string, next http.Handler) http.Handler {
	names = slices.Sorted(slices.Values(names))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := parseQuery(r)
		if err == nil {
			err = onlyParams(q, names)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// onlyParams refuses a parameter of q not in names (sorted), or one given
// without a value, naming the first in name order.
func onlyParams(q url.Values, names []string) error {
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(names, k) {
			msg := "Unknown argument: " + quoted(k)
			if near := nearest(k, names); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			if len(names) == 0 {
				return errorf(http.StatusBadRequest, "%s. This route takes no query parameters.", msg)
			}
			return errorf(http.StatusBadRequest, "%s. This route takes: %s.", msg, strings.Join(names, ", "))
		}
		if slices.Contains(q[k], "") {
			return errorf(http.StatusBadRequest, "Invalid value for %s: no value given.", k)
		}
	}
	return nil
}

// nearest is the name of names that k spells another way (case, "-" for
// "_", or neither), "" when none does.
func nearest(k string, names []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	for _, n := range names {
		if norm(n) == norm(k) {
			return n
		}
	}
	return ""
}

// single reads parameter name, which may be given once: of
// "?dry_run=false&dry_run=true" taking either value would surprise one
// party (a proxy, a log reader, the client), so a repeated one is a 400,
// as Ironic's WSME answers a list where it wants one value.
func single(q url.Values, name string) (string, error) {
	switch v := q[name]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", errorf(http.StatusBadRequest, "Invalid value for %s: given %d times; give it once.", name, len(v))
	}
}

// maxQuotedBytes is how much of a client's value an error message quotes.
const maxQuotedBytes = 80

// quoted is raw as %q shows it, cut to maxQuotedBytes on a character
// boundary: a 1 MB parameter does not come back in the error.
func quoted(raw string) string {
	short, cut := clip(raw)
	if cut {
		return fmt.Sprintf("%q...", short)
	}
	return fmt.Sprintf("%q", short)
}

// clip cuts raw to maxQuotedBytes on a character boundary, and says
// whether it did.
func clip(raw string) (string, bool) { return clipTo(raw, maxQuotedBytes) }

// clipTo cuts raw to max bytes on a character boundary, and says whether
// it did.
func clipTo(raw string, max int) (string, bool) {
	if len(raw) <= max {
		return raw, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	return raw[:cut], true
}

// queryLimit reads ?limit= (0 when absent).
func queryLimit(q url.Values) (int, error) {
	raw, err := single(q, "limit")
	if raw == "" || err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errorf(http.StatusBadRequest,
			"Invalid value for limit: %s. It must be an integer from 1 to %d.", quoted(raw), maxLimit)
	}
	return n, nil
}

// queryMarker reads ?marker=, which must be a UUID.
func queryMarker(q url.Values) (string, error) {
	raw, err := single(q, "marker")
	if raw == "" || err != nil {
		return "", err
	}
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return "", errorf(http.StatusBadRequest, "Invalid value for marker: %s is not a UUID.", quoted(raw))
	}
	return id.String(), nil
}

// queryBool reads a boolean flag such as ?all=true.
func queryBool(q url.Values, name string) (bool, error) {
	raw, err := single(q, name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(raw) {
	case "":
		return false, nil
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, "Invalid value for %s: %s. It must be true or false.", name, quoted(raw))
}

// queryString reads a free-form filter, bounded like a name. It must be
// UTF-8: it crosses to the driver plugin as a protobuf string, which gRPC
// refuses to marshal otherwise.
func queryString(q url.Values, name string) (string, error) {
	raw, err := single(q, name)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(raw) {
		return "", errorf(http.StatusBadRequest, "Invalid value for %s: not valid UTF-8.", name)
	}
	if len(raw) > 255 {
		return "", errorf(http.StatusBadRequest, "Invalid value for %s: longer than 255 characters.", name)
	}
	return raw, nil
}
