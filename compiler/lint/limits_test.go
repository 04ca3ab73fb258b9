package lint_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"egmc.dev/egmc/compiler/lint"
)

// TestTooManyObjects: a run over lint.MaxObjects manifest objects is
// refused at the first object past the limit, before the manifest rules
// run; one at the limit is checked.
func TestTooManyObjects(t *testing.T) {
	manifests := func(n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, namespace: x}\n", i)
		}
		return []byte(b.String())
	}
	res, err := lint.Run(context.Background(), testCompiler, []lint.Input{{Name: "m.yaml", Data: manifests(lint.MaxObjects + 1)}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("m.yaml:%d:1: egmc lint checks at most %d manifest objects per run", 4*lint.MaxObjects+2, lint.MaxObjects)
	if got := res.Diagnostics.Error(); !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	half := manifests(lint.MaxObjects / 2)
	res, err = lint.Run(context.Background(), testCompiler, []lint.Input{{Name: "a.yaml", Data: half}, {Name: "b.yaml", Data: half}})
	if err != nil || len(res.Diagnostics) != 0 || res.Manifests != 2 {
		t.Errorf("at the limit: %v, %v", res, err)
	}
}
