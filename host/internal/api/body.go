package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	"github.com/mogan-manage/mogan-manage/host/internal/schema"
)

// bodyRules is what a route's JSON body is checked against.
type bodyRules struct {
	schema *schema.Validator
	// metadata is where the body holds a server's metadata ("metadata",
	// or "server", "metadata"), counted against [quota] metadata_items.
	metadata []string
}

// decodeBody reads a JSON body, checks it against the route's schema and
// decodes it into v: 415 for another content type, 413 past the limit,
// 403 past the metadata quota, 400 for malformed JSON, invalid UTF-8, the
// NUL character or a schema violation naming the field. No error quotes a
// value the schema marks secret, and nothing here logs the body.
func (s *Server) decodeBody(r *http.Request, rules bodyRules, v any) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType,
			"Unsupported Content-Type %q: the body must be application/json.", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "Request body is larger than the limit of %d bytes.", tooBig.Limit)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The client stopped sending for longer than
			// client_socket_timeout (see host/internal/httpconn).
			return errorf(http.StatusRequestTimeout, "The request body stopped arriving: the client sent nothing for too long.")
		}
		return errorf(http.StatusBadRequest, "Cannot read the request body: %v", err)
	}
	if err := schema.CheckUTF8(body); err != nil {
		return errorf(http.StatusBadRequest, "%s", err.Error())
	}
	doc, err := schema.Decode(body)
	if err != nil {
		return errorf(http.StatusBadRequest, "Malformed JSON in the request body: %s", jsonProblem(err))
	}
	// The quota before the schema: counting keys is cheap, checking each
	// one is not.
	if err := s.checkMetadataQuota(doc, rules.metadata); err != nil {
		return err
	}
	if err := rules.schema.Validate(doc); err != nil {
		return errorf(http.StatusBadRequest, "%s", err.Error())
	}
	// Decode what was checked, not the body again: of a key given twice
	// the checked document keeps the last value (as Python's json does),
	// but encoding/json decoding into a struct merges two objects, so
	// {"metadata": {<anything>}, "metadata": {}} would store metadata that
	// the schema, the NUL check and the quota never saw.
	checked, err := json.Marshal(doc)
	if err != nil {
		return errorf(http.StatusBadRequest, "Malformed request body: %s", jsonProblem(err))
	}
	if err := json.Unmarshal(checked, v); err != nil {
		return errorf(http.StatusBadRequest, "Malformed request body: %s", jsonProblem(err))
	}
	return nil
}

// checkMetadataQuota refuses more metadata items, at path in the body,
// than [quota] metadata_items allows, with Nova's status and words.
func (s *Server) checkMetadataQuota(doc any, path []string) error {
	if s.metadataItems < 0 || len(path) == 0 {
		return nil
	}
	for _, name := range path {
		obj, _ := doc.(map[string]any)
		doc = obj[name]
	}
	metadata, _ := doc.(map[string]any)
	if n := len(metadata); n > s.metadataItems {
		return errorf(http.StatusForbidden, "Quota exceeded for metadata items: %d items, the limit is %d.", n, s.metadataItems)
	}
	return nil
}

// jsonProblem says where the JSON broke, without echoing the body.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return syntax.Error() + " at byte " + strconv.FormatInt(syntax.Offset, 10)
	}
	return err.Error()
}

// readCreate is what a create route with a dry run does first: authorize
// the caller for rule, read ?dry_run (and refuse any other parameter), and
// decode the body by rules into v.
func (s *Server) readCreate(r *http.Request, rule string, rules bodyRules, v any) (dryRun bool, err error) {
	if err := s.authorize(r.Context(), rule, nil); err != nil {
		return false, err
	}
	q, err := parseQuery(r)
	if err != nil {
		return false, err
	}
	if dryRun, err = queryBool(q, "dry_run"); err != nil {
		return false, err
	}
	return dryRun, s.decodeBody(r, rules, v)
}
