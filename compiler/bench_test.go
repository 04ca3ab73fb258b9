package compiler

import (
	"context"
	"fmt"
	"testing"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/compiler/cache"
	"egmc.dev/egmc/compiler/emit"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/compiler/unify"
)

// BenchmarkCompile is the whole in-process compile (schema already
// compiled), cold and with every route in the cache (warm), then each
// stage after generate on its own: check validates the objects' JSON
// against the CRD schemas, emit writes the YAML stream. The module,
// unify and generate packages benchmark their own stages.
func BenchmarkCompile(b *testing.B) {
	c := New()
	s, err := c.Schema()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) { compileStages(b, c, s, bench.Intent(n)) })
	}
}

// compileStages runs the stage benchmarks of one intent; the setup runs
// only when the benchmark filter selects the intent.
func compileStages(b *testing.B, c *Compiler, s *module.Schema, src []byte) {
	ctx := context.Background()
	b.Run("all", func(b *testing.B) { buildStreams(b, c, src) })
	b.Run("warm", func(b *testing.B) {
		store, err := cache.Open(b.TempDir(), 0)
		if err != nil {
			b.Fatal(err)
		}
		warm := New(WithCache(store))
		if _, err := warm.CompileBytes(ctx, "intent.yaml", src, Options{}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		buildStreams(b, warm, src)
	})
	in, err := load.Parse("intent.yaml", load.YAML, src)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := load.Parse("intent.yaml", load.YAML, src); err != nil {
				b.Fatal(err)
			}
		}
	})
	u, err := unify.Unify(ctx, s, in, unify.Options{})
	if err != nil {
		b.Fatal(err)
	}
	objs := u.Objects
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := check(u.Profile, objs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("emit", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := emit.AppendStream(nil, objs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// buildStreams compiles src to its stream b.N times, as egmc build does.
func buildStreams(b *testing.B, c *Compiler, src []byte) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r, err := c.CompileBytes(context.Background(), "intent.yaml", src, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Stream(); err != nil {
			b.Fatal(err)
		}
	}
}
