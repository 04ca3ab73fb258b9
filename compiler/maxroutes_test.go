package compiler_test

import (
	"strings"
	"testing"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/compiler/unify"
)

// TestTooManyRoutes: an intent over unify.MaxRoutes is refused at its
// routes field, before the schema or a profile evaluates it.
func TestTooManyRoutes(t *testing.T) {
	_, err := compileBytes("fleet.yaml", bench.Intent(unify.MaxRoutes+1))
	if err == nil {
		t.Fatal("compiled an intent over the route limit")
	}
	want := "fleet.yaml:6:3: spec.routes holds 5001 routes; egmc compiles at most 5000 per intent"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want it to start with %q", err, want)
	}
}
