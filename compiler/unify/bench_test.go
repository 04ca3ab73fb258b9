package unify

import (
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
		s, err := compile()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Profile("istio-sidecar"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnify splits unify into its three steps: resolving the intent
// against #Intent, running #Check, and evaluating the profile.
func BenchmarkUnify(b *testing.B) {
	s, err := Load()
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
		b.Run(fmt.Sprintf("routes=%d/checks", n), func(b *testing.B) {
			resolved := resolve()
			loc := &locator{file: in.File}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if d := s.problems(resolved, loc); d.HasErrors() {
					b.Fatal(d)
				}
			}
		})
		b.Run(fmt.Sprintf("routes=%d/profile", n), func(b *testing.B) {
			resolved := resolve()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.generate(resolved); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
