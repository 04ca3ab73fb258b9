package conformance

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayoutIsEgmcs checks that ValuesDir is the ValuesDir constant of
// egmc's compiler/layout package, read from its source: the one
// definition of the output layout.
func TestLayoutIsEgmcs(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../compiler/layout/layout.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	obj := f.Scope.Lookup("ValuesDir")
	if obj == nil {
		t.Fatal("compiler/layout declares no ValuesDir")
	}
	spec, ok := obj.Decl.(*ast.ValueSpec)
	if !ok || len(spec.Values) != 1 {
		t.Fatalf("ValuesDir is not a constant with one value")
	}
	lit, ok := spec.Values[0].(*ast.BasicLit)
	if !ok {
		t.Fatalf("ValuesDir is not a string literal")
	}
	want, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	if ValuesDir != want {
		t.Errorf("ValuesDir = %q, but compiler/layout.ValuesDir = %q", ValuesDir, want)
	}
}

// TestLoadExampleReadsTheMeshConfig: every golden example with Istio
// values gives its mesh config to the checks (a wrong path would leave
// them on Istio's defaults without a word), and a directory of the old
// layout is refused.
func TestLoadExampleReadsTheMeshConfig(t *testing.T) {
	dirs, err := filepath.Glob("../../golden/*/" + ValuesDir + "/istiod-values.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden istiod-values.yaml found (%v)", err)
	}
	for _, f := range dirs {
		s, err := LoadExample(filepath.Dir(filepath.Dir(f)))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.MeshConfig) == 0 {
			t.Errorf("%s: no mesh config read", f)
		}
	}
	old := t.TempDir()
	for _, name := range []string{"stream.yaml", "istiod-values.yaml"} {
		if err := os.WriteFile(filepath.Join(old, name), []byte("meshConfig: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadExample(old); err == nil || !strings.Contains(err.Error(), "build it again") {
		t.Errorf("LoadExample on the old layout: %v", err)
	}
}
