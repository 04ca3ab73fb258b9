package compiler_test

import (
	"fmt"
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

// TestTooManyHostnames: more than unify.MaxHostnames distinct route
// hostnames, or more than unify.MaxRouteHostnames in all, are refused at
// the first hostname past the bound, before anything is generated.
func TestTooManyHostnames(t *testing.T) {
	intent := func(routes, perRoute, distinct int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: shop}\nspec:\n  mesh: {provider: none}\n  routes:\n")
		for i := range routes {
			fmt.Fprintf(&b, "  - {name: r%d, hostnames: [", i)
			for j := range perRoute {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "h%d.example.com", (i*perRoute+j)%distinct)
			}
			b.WriteString("], backend: {service: a, namespace: a, port: 80}}\n")
		}
		return []byte(b.String())
	}
	for name, c := range map[string]struct {
		src  []byte
		want string
	}{
		"distinct": {intent(320, 16, 1<<30), fmt.Sprintf("fleet.yaml:319:182: the routes serve more than %d distinct hostnames", unify.MaxHostnames)},
		"in all":   {intent(1260, 16, 100), fmt.Sprintf("fleet.yaml:1257:31: the routes list more than %d hostnames in all", unify.MaxRouteHostnames)},
	} {
		_, err := compileBytes("fleet.yaml", c.src)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want it to start with %q", name, err, c.want)
		}
	}
}
