package schema

import (
	"fmt"
	"testing"
)

// manageDocWithKeys is a valid manage body whose metadata has n keys, as
// json.Unmarshal into an any decodes it.
func manageDocWithKeys(n int) map[string]any {
	md := make(map[string]any, n)
	for i := range n {
		md[fmt.Sprintf("key-%06d", i)] = "value"
	}
	return map[string]any{
		"name":      "bench",
		"node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2",
		"metadata":  md,
	}
}

// BenchmarkValidateMetadataKeys validates bodies of 100, 1,000 and 10,000
// metadata keys (the quota is the API's, not the schema's): ns/key must stay
// flat as the key count grows, i.e. validation is linear in the input.
func BenchmarkValidateMetadataKeys(b *testing.B) {
	v, err := ManageServer()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 1000, 10000} {
		doc := manageDocWithKeys(n)
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := v.Validate(doc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
	}
}
