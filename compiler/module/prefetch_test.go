package module

import (
	"sync"
	"testing"
)

// TestProfilesCompileBesideTheSchema compiles profiles concurrently with
// each other and with the schema, as Prefetch does; make race runs it
// under the race detector.
func TestProfilesCompileBesideTheSchema(t *testing.T) {
	e := NewEmbedded()
	var wg sync.WaitGroup
	for _, name := range []string{"istio-sidecar", "istio-ambient", "cilium", "none", "istio-sidecar"} {
		wg.Go(func() {
			if _, err := e.Profile(name); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		if _, err := e.Schema(); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
}

func TestOnlyProfilesArePrefetched(t *testing.T) {
	e := NewEmbedded()
	for _, name := range []string{"", "istio", "common", "../schema", "istio-sidecar/..", "no-such"} {
		if isProfile(name) {
			t.Errorf("%q is taken for a profile", name)
		}
		if _, err := e.Profile(name); err == nil {
			t.Errorf("%q compiled as a profile", name)
		}
		e.Prefetch(name) // does nothing
	}
	if !isProfile("istio-ambient") {
		t.Error("istio-ambient is a profile")
	}
}
