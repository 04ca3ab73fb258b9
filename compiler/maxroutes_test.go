package compiler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/unify"
)

// TestTooManyRoutes: an intent over the route limit is refused at its
// routes field, before the schema or a profile evaluates it; the limit
// is unify.DefaultMaxRoutes unless the Compiler is given another, and
// never more than unify.CeilingRoutes.
func TestTooManyRoutes(t *testing.T) {
	for _, c := range []struct {
		name   string
		limit  int // WithMaxRoutes; 0: the default
		routes int
		want   string // "" compiles
	}{
		{"default", 0, unify.DefaultMaxRoutes + 1, fmt.Sprintf("fleet.yaml:6:3: spec.routes holds %d routes; egmc compiles at most %d per intent (the one running egmc may allow up to %d with --max-routes", unify.DefaultMaxRoutes+1, unify.DefaultMaxRoutes, unify.CeilingRoutes)},
		{"lowered", 3, 4, "fleet.yaml:6:3: spec.routes holds 4 routes; egmc compiles at most 3 per intent (the one running"},
		{"within", 3, 3, ""},
		{"ceiling", 100 * unify.CeilingRoutes, unify.CeilingRoutes + 1, fmt.Sprintf("fleet.yaml:6:3: spec.routes holds %d routes; egmc compiles at most %d per intent: split them", unify.CeilingRoutes+1, unify.CeilingRoutes)},
	} {
		cc := compiler.New(compiler.WithMaxRoutes(c.limit))
		_, err := cc.CompileBytes(context.Background(), "fleet.yaml", bench.Intent(c.routes), compiler.Options{})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%s: got %v, want it to start with %q", c.name, err, c.want)
		}
	}
}

// TestTooManyHostnames: more distinct route hostnames than twice the
// route limit, or more than four times it in all, are refused at the first
// hostname past the bound, before anything is generated.
func TestTooManyHostnames(t *testing.T) {
	const limit = unify.DefaultMaxRoutes
	// intent lists perRoute hostnames per route, cycling over distinct
	// names, and returns the position of hostname number at (from 0).
	intent := func(routes, perRoute, distinct, at int) ([]byte, string) {
		var b strings.Builder
		b.WriteString("apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: shop}\nspec:\n  mesh: {provider: none}\n  routes:\n")
		pos := ""
		for i := range routes {
			line := fmt.Sprintf("  - {name: r%d, hostnames: [", i)
			for j := range perRoute {
				if j > 0 {
					line += ", "
				}
				if i*perRoute+j == at {
					pos = fmt.Sprintf("fleet.yaml:%d:%d", 7+i, len(line)+1)
				}
				line += fmt.Sprintf("h%d.example.com", (i*perRoute+j)%distinct)
			}
			b.WriteString(line + "], backend: {service: a, namespace: a, port: 80}}\n")
		}
		return []byte(b.String()), pos
	}
	distinct, distinctAt := intent(2*limit/16+2, 16, 1<<30, 2*limit)
	inAll, inAllAt := intent(limit/4+1, 16, 100, 4*limit)
	for name, c := range map[string]struct {
		src  []byte
		want string
	}{
		"distinct": {distinct, fmt.Sprintf("%s: the routes serve more than %d distinct hostnames", distinctAt, 2*limit)},
		"in all":   {inAll, fmt.Sprintf("%s: the routes list more than %d hostnames in all", inAllAt, 4*limit)},
	} {
		_, err := compileBytes("fleet.yaml", c.src)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want it to start with %q", name, err, c.want)
		}
	}
}
