package cli

import (
	"bytes"
	"egmc.dev/egmc/compiler"
	"os"
	"path/filepath"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"
	"cuelang.org/go/encoding/yaml"
)

// TestJSONSchemaChecksIntents decodes the generated JSON Schema back with
// CUE's JSON Schema decoder and checks that every YAML example satisfies
// it and that broken intents do not.
func TestJSONSchemaChecksIntents(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSONSchema(compiler.New(), &b); err != nil {
		t.Fatal(err)
	}
	ctx := cuecontext.New()
	schemaAST, err := jsonschema.Extract(ctx.CompileBytes(b.Bytes()), &jsonschema.Config{})
	if err != nil {
		t.Fatalf("the generated JSON Schema does not decode: %v", err)
	}
	sch := ctx.BuildFile(schemaAST)
	if err := sch.Err(); err != nil {
		t.Fatal(err)
	}
	check := func(name string, src []byte) error {
		f, err := yaml.Extract(name, src)
		if err != nil {
			t.Fatal(err)
		}
		return sch.Unify(ctx.BuildFile(f)).Validate(cue.Concrete(true))
	}
	files, _ := filepath.Glob("../../../examples/*/intent.yaml")
	if len(files) < 8 {
		t.Fatalf("only %d YAML examples", len(files))
	}
	for _, f := range files {
		src, _ := os.ReadFile(f)
		if err := check(f, src); err != nil {
			t.Errorf("%s does not satisfy the JSON Schema: %v", f, err)
		}
	}
	for name, src := range map[string]string{
		"unknown field": "apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: a}\nspec:\n  mesh: {provider: none, color: blue}\n  routes: []\n",
		"bad enum":      "apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: a}\nspec:\n  mesh: {provider: linkerd}\n  routes: []\n",
		"bad port":      "apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: a}\nspec:\n  mesh: {provider: none}\n  routes: [{name: a, hostnames: [a.example.com], backend: {service: a, namespace: a, port: 0}}]\n",
	} {
		if check(name+".yaml", []byte(src)) == nil {
			t.Errorf("%s: the JSON Schema accepts a broken intent", name)
		}
	}
}
