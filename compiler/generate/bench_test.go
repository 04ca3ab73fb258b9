package generate

import (
	"context"
	"fmt"
	"testing"

	"cuelang.org/go/cue/cuecontext"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
)

// BenchmarkGenerate measures the route-by-route evaluation of a valid
// intent, given as JSON, without a cache and without validation.
func BenchmarkGenerate(b *testing.B) {
	s, err := module.NewEmbedded().Schema()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			in, err := load.Parse("intent.yaml", load.YAML, bench.Intent(n))
			if err != nil {
				b.Fatal(err)
			}
			j, err := cuecontext.New().BuildFile(in.File).MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, problems, err := Generate(context.Background(), s, j, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if s.HasError(problems) {
					b.Fatal(problems)
				}
			}
		})
	}
}
