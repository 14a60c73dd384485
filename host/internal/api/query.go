package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// maxLimit caps ?limit= so that one page stays a reasonable response.
const maxLimit = 10000

// queryLimit reads ?limit= (0 when absent).
func queryLimit(q url.Values) (int, error) {
	raw := q.Get("limit")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errorf(http.StatusBadRequest,
			"Invalid value for limit: %q. It must be an integer from 1 to %d.", raw, maxLimit)
	}
	return n, nil
}

// queryMarker reads ?marker=, which must be a UUID.
func queryMarker(q url.Values) (string, error) {
	raw := q.Get("marker")
	if raw == "" {
		return "", nil
	}
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return "", errorf(http.StatusBadRequest, "Invalid value for marker: %q is not a UUID.", raw)
	}
	return id.String(), nil
}

// queryBool reads a boolean flag such as ?all=true.
func queryBool(q url.Values, name string) (bool, error) {
	raw := q.Get(name)
	switch strings.ToLower(raw) {
	case "":
		return false, nil
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, "Invalid value for %s: %q. It must be true or false.", name, raw)
}

// queryString reads a free-form filter, bounded like a name. It must be
// UTF-8: it crosses to the driver plugin as a protobuf string, which gRPC
// refuses to marshal otherwise.
func queryString(q url.Values, name string) (string, error) {
	raw := q.Get(name)
	if !utf8.ValidString(raw) {
		return "", errorf(http.StatusBadRequest, "Invalid value for %s: not valid UTF-8.", name)
	}
	if len(raw) > 255 {
		return "", errorf(http.StatusBadRequest, "Invalid value for %s: longer than 255 characters.", name)
	}
	return raw, nil
}
