package unify

import (
	"fmt"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
)

// BenchmarkResolveWhole measures resolving the whole intent against
// #Intent: what the compiler does only to place the errors of an intent
// that does not resolve route by route.
func BenchmarkResolveWhole(b *testing.B) {
	s, err := module.NewEmbedded().Schema()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100, 1000} {
		in, err := load.Parse("intent.yaml", load.YAML, bench.Intent(n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v := s.Intent().Unify(cuecontext.New().BuildFile(in.File))
				if err := v.Validate(cue.Concrete(true)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBounds measures the shape check every intent pays before the
// schema sees it.
func BenchmarkBounds(b *testing.B) {
	s, err := module.NewEmbedded().Schema()
	if err != nil {
		b.Fatal(err)
	}
	in, err := load.Parse("intent.yaml", load.YAML, bench.Intent(1000))
	if err != nil {
		b.Fatal(err)
	}
	user := cuecontext.New().BuildFile(in.File)
	loc := &locator{file: in.File, user: user}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := checkBounds(user, s.Intent(), loc); d != nil {
			b.Fatal(d)
		}
	}
}

// BenchmarkShape measures the shape check every valid intent pays.
func BenchmarkShape(b *testing.B) {
	in, err := load.Parse("intent.yaml", load.YAML, bench.Intent(1000))
	if err != nil {
		b.Fatal(err)
	}
	user := cuecontext.New().BuildFile(in.File)
	j, err := user.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	loc := &locator{file: in.File, user: user}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := checkShape(j, loc, Options{}.limits()); d != nil {
			b.Fatal(d)
		}
	}
}
