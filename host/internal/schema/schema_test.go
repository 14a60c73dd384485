package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestManageServerSchema(t *testing.T) {
	long := strings.Repeat("x", 256)
	ok255 := strings.Repeat("x", 255)
	const node = `"node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"`
	tests := map[string]struct {
		body      string
		wantField string // "" = valid
		wantText  string
	}{
		"sample request":          {body: `{"name": "test_manageable_server", "description": "This is a manageable server", "metadata": {"My Server Name": "Apache1"}, ` + node + `}`},
		"only required":           {body: `{"name": "a", ` + node + `}`},
		"255-char name":           {body: `{"name": "` + ok255 + `", ` + node + `}`},
		"metadata key chars":      {body: `{"name": "a", "metadata": {"a-b_c:d. e": "v"}, ` + node + `}`},
		"missing name":            {body: `{` + node + `}`, wantField: "name", wantText: "required"},
		"missing node_uuid":       {body: `{"name": "a"}`, wantField: "node_uuid", wantText: "required"},
		"empty name":              {body: `{"name": "", ` + node + `}`, wantField: "name", wantText: "greater than or equal to 1"},
		"256-char name":           {body: `{"name": "` + long + `", ` + node + `}`, wantField: "name", wantText: "less than or equal to 255"},
		"name not a string":       {body: `{"name": 5, ` + node + `}`, wantField: "name", wantText: "Expected: string"},
		"empty description":       {body: `{"name": "a", "description": "", ` + node + `}`, wantField: "description"},
		"256-char description":    {body: `{"name": "a", "description": "` + long + `", ` + node + `}`, wantField: "description"},
		"metadata value number":   {body: `{"name": "a", "metadata": {"k": 1}, ` + node + `}`, wantField: "metadata.k", wantText: "Expected: string"},
		"metadata value 256":      {body: `{"name": "a", "metadata": {"k": "` + long + `"}, ` + node + `}`, wantField: "metadata.k"},
		"metadata key with slash": {body: `{"name": "a", "metadata": {"a/b": "v"}, ` + node + `}`, wantField: "metadata", wantText: "a/b"},
		"metadata key 256":        {body: `{"name": "a", "metadata": {"` + long + `": "v"}, ` + node + `}`, wantField: "metadata"},
		"metadata not an object":  {body: `{"name": "a", "metadata": [], ` + node + `}`, wantField: "metadata", wantText: "Expected: object"},
		"extra property":          {body: `{"name": "a", "flavor_uuid": "x", ` + node + `}`, wantField: "flavor_uuid", wantText: "not allowed"},
		"invalid uuid":            {body: `{"name": "a", "node_uuid": "not-a-uuid"}`, wantField: "node_uuid", wantText: "uuid"},
		"uuid not a string":       {body: `{"name": "a", "node_uuid": 7}`, wantField: "node_uuid"},
		"null body":               {body: `null`, wantText: "Expected: object, given: null"},
		"NUL in name":             {body: `{"name": "a\u0000b", ` + node + `}`, wantField: "name", wantText: "NUL character"},
		"NUL in description":      {body: `{"name": "a", "description": "\u0000", ` + node + `}`, wantField: "description", wantText: "NUL character"},
		"NUL in metadata value":   {body: `{"name": "a", "metadata": {"k": "v\u0000"}, ` + node + `}`, wantField: "metadata.k", wantText: "NUL character"},
		"NUL in metadata key":     {body: `{"name": "a", "metadata": {"k\u0000": "v"}, ` + node + `}`, wantField: "metadata", wantText: "NUL character"},
		"NUL in node_uuid":        {body: `{"name": "a", "node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2\u0000"}`, wantField: "node_uuid", wantText: "NUL character"},
		"NUL in an extra array":   {body: `{"name": "a", "x": [1, "\u0000"], ` + node + `}`, wantField: "x.1", wantText: "NUL character"},
		"two NULs, least field":   {body: `{"name": "\u0000", "description": "\u0000", ` + node + `}`, wantField: "description", wantText: "NUL character"},
		"metadata value integer":  {body: `{"name": "a", "metadata": {"k": 10}, ` + node + `}`, wantField: "metadata.k", wantText: "given: integer"},
		"metadata value float":    {body: `{"name": "a", "metadata": {"k": 1.5}, ` + node + `}`, wantField: "metadata.k", wantText: "given: number"},
		"long bad key is cut":     {body: `{"name": "a", "metadata": {"` + strings.Repeat("/", 5000) + `": "v"}, ` + node + `}`, wantField: "metadata", wantText: "is not allowed"},
		"array body":              {body: `[]`, wantText: "Expected: object, given: array"},

		// This project's project_id and user_id (adopt into a tenant's project).
		"project and user":        {body: `{"name": "a", "project_id": "0123456789abcdef0123456789abcdef", "user_id": "svc_user-1", ` + node + `}`},
		"64-char project_id":      {body: `{"name": "a", "project_id": "` + strings.Repeat("p", 64) + `", ` + node + `}`},
		"65-char project_id":      {body: `{"name": "a", "project_id": "` + strings.Repeat("p", 65) + `", ` + node + `}`, wantField: "project_id", wantText: "Does not match pattern"},
		"65-char user_id":         {body: `{"name": "a", "user_id": "` + strings.Repeat("u", 65) + `", ` + node + `}`, wantField: "user_id", wantText: "Does not match pattern"},
		"empty project_id":        {body: `{"name": "a", "project_id": "", ` + node + `}`, wantField: "project_id", wantText: "Does not match pattern"},
		"project_id with a space": {body: `{"name": "a", "project_id": "my project", ` + node + `}`, wantField: "project_id", wantText: "Does not match pattern"},
		"project_id with a dot":   {body: `{"name": "a", "project_id": "a.b", ` + node + `}`, wantField: "project_id", wantText: "Does not match pattern"},
		"user_id with a newline":  {body: `{"name": "a", "user_id": "abc\n", ` + node + `}`, wantField: "user_id", wantText: "Does not match pattern"},
		"user_id non-ASCII":       {body: `{"name": "a", "user_id": "usér", ` + node + `}`, wantField: "user_id", wantText: "Does not match pattern"},
		"project_id a number":     {body: `{"name": "a", "project_id": 42, ` + node + `}`, wantField: "project_id", wantText: "Expected: string, given: integer"},
		"user_id null":            {body: `{"name": "a", "user_id": null, ` + node + `}`, wantField: "user_id", wantText: "Expected: string, given: null"},
		"user_id an object":       {body: `{"name": "a", "user_id": {"id": "u"}, ` + node + `}`, wantField: "user_id", wantText: "Expected: string, given: object"},
		"domain_id still refused": {body: `{"name": "a", "project_id": "p", "domain_id": "default", ` + node + `}`, wantField: "domain_id", wantText: "not allowed"},
	}
	v, err := ManageServer()
	if err != nil {
		t.Fatal(err)
	}
	// Decode's documents (json.Number) take the fast path, json.Unmarshal's
	// (float64) a JSON round trip: both must get the same answers.
	decoders := map[string]func([]byte) (any, error){
		"Decode": Decode,
		"json.Unmarshal": func(b []byte) (any, error) {
			var doc any
			err := json.Unmarshal(b, &doc)
			return doc, err
		},
	}
	for name, tc := range tests {
		for decName, decode := range decoders {
			t.Run(name+"/"+decName, func(t *testing.T) {
				doc, err := decode([]byte(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				checkValidation(t, v.Validate(doc), tc.wantField, tc.wantText)
			})
		}
	}
}

// checkValidation checks err against the wanted field and text (both ""
// for a valid body): the message names the field, is short, and is clean
// UTF-8 text.
func checkValidation(t *testing.T, err error, wantField, wantText string) {
	t.Helper()
	if wantField == "" && wantText == "" {
		if err != nil {
			t.Fatalf("valid body refused: %v", err)
		}
		return
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v; want a schema error", err)
	}
	if se.Field != wantField {
		t.Errorf("field = %q; want %q (message %q)", se.Field, wantField, se.Message)
	}
	if !strings.Contains(se.Message, wantText) {
		t.Errorf("message %q does not contain %q", se.Message, wantText)
	}
	if wantField != "" && !strings.Contains(se.Message, wantField) {
		t.Errorf("message %q does not name the field %q", se.Message, wantField)
	}
	if len(se.Message) > 400 {
		t.Errorf("message is %d bytes long; values must be cut", len(se.Message))
	}
	if !utf8.ValidString(se.Message) || strings.IndexByte(se.Message, 0) >= 0 {
		t.Errorf("message %q is not clean UTF-8 text", se.Message)
	}
}

// TestTruncateOnRuneBoundary: a value cut for an error message never ends
// in half a character.
func TestTruncateOnRuneBoundary(t *testing.T) {
	tests := map[string]struct {
		in   string
		max  int
		want string
	}{
		"short":                     {in: "abc", max: 5, want: "abc"},
		"exact":                     {in: "abcde", max: 5, want: "abcde"},
		"ascii cut":                 {in: "abcdef", max: 5, want: "abcde..."},
		"2-byte char across cut":    {in: "abcdé", max: 5, want: "abcd..."}, // é is 2 bytes at 4..5
		"3-byte char across cut":    {in: "ab€cd", max: 4, want: "ab..."},   // € is 3 bytes at 2..4
		"4-byte char across cut":    {in: "a😀b", max: 3, want: "a..."},      // 😀 is 4 bytes at 1..4
		"4-byte char, cut after it": {in: "a😀b", max: 5, want: "a😀..."},
		"char at the very start":    {in: "😀😀", max: 2, want: "..."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := truncate(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("truncate(%q, %d) = %q; want %q", tc.in, tc.max, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q is not valid UTF-8", tc.in, tc.max, got)
			}
		})
	}
}

// TestLongMultibyteValueMessage: a schema error quoting a long value of
// multi-byte characters, cut wherever the limit falls, is valid UTF-8.
func TestLongMultibyteValueMessage(t *testing.T) {
	v, err := ManageServer()
	if err != nil {
		t.Fatal(err)
	}
	for _, char := range []string{"é", "€", "😀"} {
		for pad := range 4 { // moves the cut through every byte of the character
			name := strings.Repeat("x", pad) + strings.Repeat(char, 300)
			doc, err := Decode([]byte(`{"name": "` + name + `", "node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"}`))
			if err != nil {
				t.Fatal(err)
			}
			checkValidation(t, v.Validate(doc), "name", "less than or equal to 255")
		}
	}
}

func TestCheckUTF8(t *testing.T) {
	const node = `"node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"`
	tests := map[string]struct {
		body      string
		wantField string
		valid     bool
	}{
		"valid multi-byte":     {body: `{"name": "é€😀", ` + node + `}`, valid: true},
		"bad byte in name":     {body: "{\"name\": \"a\xffb\", " + node + "}", wantField: "name"},
		"bad byte in desc":     {body: "{\"name\": \"a\", \"description\": \"\xc3\", " + node + "}", wantField: "description"},
		"bad metadata value":   {body: "{\"metadata\": {\"a\": \"ok\", \"k\": \"\xed\xa0\x80\"}, " + node + "}", wantField: "metadata.k"},
		"bad metadata key":     {body: "{\"metadata\": {\"k\xfe\": \"v\"}, " + node + "}", wantField: "metadata"},
		"bad node_uuid":        {body: "{\"name\": \"a\", \"node_uuid\": \"\x80\"}", wantField: "node_uuid"},
		"in an array":          {body: "{\"x\": [\"a\", {\"y\": \"\xff\"}], " + node + "}", wantField: "x.1.y"},
		"after nested objects": {body: "{\"metadata\": {\"a\": \"b\"}, \"name\": \"\xff\", " + node + "}", wantField: "name"},
		"bad top-level key":    {body: "{\"n\xffame\": \"a\", " + node + "}"},
		"outside any string":   {body: "{\"name\": \"a\"\xff}"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckUTF8([]byte(tc.body))
			if tc.valid {
				if err != nil {
					t.Fatalf("valid body refused: %v", err)
				}
				return
			}
			checkValidation(t, err, tc.wantField, "not valid UTF-8")
		})
	}
}

// TestCheckUTF8RefusesLoneSurrogates (issue 15, finding 8): a \u escape of
// a UTF-16 surrogate that is not half of a pair names no character;
// encoding/json stores U+FFFD in its place, as it does for a bad byte, so
// it is refused the same way, naming the field. A pair, and a backslash
// escaped before "u", are fine.
func TestCheckUTF8RefusesLoneSurrogates(t *testing.T) {
	const node = `"node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"`
	tests := map[string]struct {
		body      string
		wantField string // "" with valid false: the body as a whole
		valid     bool
	}{
		"a pair":                     {body: `{"name": "\ud83d\ude00", ` + node + `}`, valid: true},
		"a pair in capitals":         {body: `{"name": "\uD83D\uDE00", ` + node + `}`, valid: true},
		"the last pair":              {body: `{"name": "\udbff\udfff", ` + node + `}`, valid: true},
		"an escaped backslash":       {body: `{"name": "a\\ud800", ` + node + `}`, valid: true},
		"other escapes":              {body: `{"name": "\u00e9\n\"\\\/\ufffd\ud7ff\ue000", ` + node + `}`, valid: true},
		"high alone":                 {body: `{"name": "\ud800", ` + node + `}`, wantField: "name"},
		"low alone":                  {body: `{"description": "x\udc00y", ` + node + `}`, wantField: "description"},
		"high then a letter":         {body: `{"metadata": {"k": "\ud800\u0041"}, ` + node + `}`, wantField: "metadata.k"},
		"high then high":             {body: `{"metadata": {"k": "\ud800\ud800\udc00"}, ` + node + `}`, wantField: "metadata.k"},
		"high then a plain char":     {body: `{"name": "\udbffz", ` + node + `}`, wantField: "name"},
		"low then high":              {body: `{"name": "\udc00\ud800", ` + node + `}`, wantField: "name"},
		"after an escaped backslash": {body: `{"name": "\\\ud800", ` + node + `}`, wantField: "name"},
		"in a metadata key":          {body: `{"metadata": {"\udfff": "v"}, ` + node + `}`, wantField: "metadata"},
		"in an array":                {body: `{"x": ["a", {"y": "\uDABC"}], ` + node + `}`, wantField: "x.1.y"},
		"in a top-level key":         {body: `{"n\ud800": "a", ` + node + `}`},
		"high at the very end":       {body: `{"name": "\ud800`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckUTF8([]byte(tc.body))
			if tc.valid {
				if err != nil {
					t.Fatalf("valid body refused: %v", err)
				}
				return
			}
			checkValidation(t, err, tc.wantField, "lone UTF-16 surrogate")
		})
	}
}

func TestDecodeRefusesTrailingData(t *testing.T) {
	for _, body := range []string{`{} {}`, `{}x`, `{"a": 1}]`} {
		if _, err := Decode([]byte(body)); err == nil {
			t.Errorf("Decode(%q) accepted trailing data", body)
		}
	}
	if _, err := Decode([]byte(" {} \n")); err != nil {
		t.Errorf("Decode refused trailing white space: %v", err)
	}
}
