package unify

import (
	"context"
	"fmt"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/compiler/load"
)

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

// BenchmarkUnify measures resolving the whole intent against #Intent (what
// the compiler does only to place the errors of an intent that does not
// resolve) and the route-by-route evaluation of a valid intent.
func BenchmarkUnify(b *testing.B) {
	s, err := NewEmbedded().Schema()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100, 1000} {
		in, err := load.Parse("intent.yaml", load.YAML, bench.Intent(n))
		if err != nil {
			b.Fatal(err)
		}
		resolve := func() cue.Value {
			v := s.intent.Unify(cuecontext.New().BuildFile(in.File))
			if err := v.Validate(cue.Concrete(true)); err != nil {
				b.Fatal(err)
			}
			return v
		}
		b.Run(fmt.Sprintf("routes=%d/intent", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				resolve()
			}
		})
		b.Run(fmt.Sprintf("routes=%d/generate", n), func(b *testing.B) {
			j, err := cuecontext.New().BuildFile(in.File).MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g, err := s.generateJSON(context.Background(), j, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if s.hasError(g.problems) {
					b.Fatal(g.problems)
				}
			}
		})
	}
}
