package compiler_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/cache"
	"egmc.dev/egmc/internal/intentgen"
)

// cacheInputs are the examples and 24 generated intents (every profile
// and route feature, some refused by the rules).
func cacheInputs(t *testing.T) map[string][]byte {
	in := map[string][]byte{}
	for _, f := range exampleFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in[f] = b
	}
	for seed := uint64(2000); seed < 2024; seed++ {
		in[fmt.Sprintf("random-%d.yaml", seed)] = intentgen.Random(seed, 1+int(seed%12))
	}
	return in
}

// TestCacheColdAndWarmAreIdentical: with a cache, cold and warm, and with
// a cache whose every entry is corrupt, each input compiles to the same
// bytes (or the same error) as without one; the warm compile evaluates
// nothing the cache holds (no miss).
func TestCacheColdAndWarmAreIdentical(t *testing.T) {
	dir := t.TempDir()
	store, err := cache.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	cached := compiler.New(compiler.WithCache(store))
	inputs := cacheInputs(t)
	want := map[string]string{}
	for name, src := range inputs {
		want[name] = render(t, testCompiler, name, src)
		if cold := render(t, cached, name, src); cold != want[name] {
			t.Errorf("%s: cold cache differs:\n%s", name, diffLines(want[name], cold))
		}
		hits, misses := store.Stats()
		if warm := render(t, cached, name, src); warm != want[name] {
			t.Errorf("%s: warm cache differs:\n%s", name, diffLines(want[name], warm))
		}
		h, m := store.Stats()
		if m != misses {
			t.Errorf("%s: the warm compile missed the cache %d times", name, m-misses)
		}
		if h == hits && !strings.HasPrefix(want[name], "error: ") {
			t.Errorf("%s: the warm compile read nothing from the cache", name)
		}
	}
	corruptAll(t, dir)
	for name, src := range inputs {
		if got := render(t, cached, name, src); got != want[name] {
			t.Errorf("%s: with corrupt entries:\n%s", name, diffLines(want[name], got))
		}
	}
}

// corruptAll flips the last byte of every cache entry.
func corruptAll(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			return err
		}
		b[len(b)-1] ^= 0xff
		n++
		return os.WriteFile(p, b, 0o644)
	})
	if err != nil || n == 0 {
		t.Fatalf("corrupting %d entries: %v", n, err)
	}
}

// TestCacheOneRouteChanged: after a route changes, the rebuild evaluates
// that route (and what it shares) and reads every other route from the
// cache.
func TestCacheOneRouteChanged(t *testing.T) {
	store, err := cache.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	cached := compiler.New(compiler.WithCache(store))
	intent := func(prefix string) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: fleet}\nspec:\n  mesh: {provider: istio, mode: sidecar}\n  routes:\n")
		for i := range 20 {
			p := fmt.Sprintf("/p%d/", i)
			if i == 7 {
				p = prefix
			}
			fmt.Fprintf(&b, "    - {name: r%d, hostnames: [h%d.example.com], match: {pathPrefix: %s}, backend: {service: s%d, namespace: ns%d, port: 8080}, timeout: 10s}\n", i, i, p, i, i%3)
		}
		return []byte(b.String())
	}
	render(t, cached, "fleet.yaml", intent("/p7/"))
	hits, misses := store.Stats()
	changed := intent("/q7/")
	got := render(t, cached, "fleet.yaml", changed)
	if want := render(t, testCompiler, "fleet.yaml", changed); got != want {
		t.Fatalf("the rebuild differs from an uncached build:\n%s", diffLines(want, got))
	}
	h, m := store.Stats()
	// route r7 misses; so does the reduce of its hostname (the
	// VirtualService matches the new prefix). The 19 other routes and 19
	// hostnames hit. Twice: render compiles the stream alone, then
	// everything, and the two keep entries of their own.
	if m-misses != 4 || h-hits != 76 {
		t.Errorf("rebuild: %d misses and %d hits, want 4 and 76", m-misses, h-hits)
	}
}
