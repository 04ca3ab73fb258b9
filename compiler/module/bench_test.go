package module

import "testing"

// BenchmarkCompileSchema is the start-up cost every process pays: the
// embedded schema package, then the profile an intent selects.
func BenchmarkCompileSchema(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := NewEmbedded().Schema()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Profile("istio-sidecar"); err != nil {
			b.Fatal(err)
		}
	}
}
