package client

import (
	"bytes"
	"encoding/json"
)

// unmarshalNumber decodes keeping numbers as json.Number, so they are
// printed back as the API sent them.
func unmarshalNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
