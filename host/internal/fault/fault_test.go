package fault_test

import (
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/fault"
)

// TestBody: the document upstream Mogan answers, byte for byte.
func TestBody(t *testing.T) {
	tests := map[string]struct {
		status  int
		message string
		want    string
	}{
		"client": {409, `Node "x" is already managed.`,
			`{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node \\\"x\\\" is already managed.\", \"debuginfo\": null}"}`},
		"server": {503, "Ironic is unavailable",
			`{"error_message": "{\"faultcode\": \"Server\", \"faultstring\": \"Ironic is unavailable\", \"debuginfo\": null}"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := string(fault.Body(tc.status, tc.message)); got != tc.want {
				t.Errorf("Body = %s\nwant   %s", got, tc.want)
			}
		})
	}
}
