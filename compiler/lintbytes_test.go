package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLintBytesMatchesCompile: what lint reads of an intent (the objects
// in order, the warnings, the errors) is what build reads.
func TestLintBytesMatchesCompile(t *testing.T) {
	files, err := filepath.Glob("../examples/*/intent.*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := CompileBytes(f, src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lint, err := LintBytes(f, src)
		if err != nil {
			t.Fatalf("%s: lint: %v", f, err)
		}
		var want, got []string
		for _, o := range res.Objects {
			want = append(want, o.ID())
		}
		for _, o := range lint.Objects {
			got = append(got, o.ID())
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: objects (-build +lint):\n%s", f, d)
		}
		if d := cmp.Diff(res.Warnings.Error(), lint.Warnings.Error()); d != "" {
			t.Errorf("%s: warnings (-build +lint):\n%s", f, d)
		}
	}
}

// TestLintBytesSameErrors: lint reports a user mistake exactly as build.
func TestLintBytesSameErrors(t *testing.T) {
	src := []byte(`apiVersion: egmc.dev/v1alpha1
kind: Intent
metadata: {name: shop}
spec:
  mesh: {provider: istio, mode: sidecar}
  routes:
    - {name: a, hostnames: [a.example.com], backend: {service: a, namespace: ns, port: 80}}
    - {name: b, hostnames: [a.example.com], backend: {service: b, namespace: ns, port: 80}}
`)
	_, buildErr := CompileBytes("intent.yaml", src)
	_, lintErr := LintBytes("intent.yaml", src)
	if buildErr == nil || lintErr == nil {
		t.Fatalf("want errors, got build %v, lint %v", buildErr, lintErr)
	}
	if d := cmp.Diff(buildErr.Error(), lintErr.Error()); d != "" {
		t.Errorf("(-build +lint):\n%s", d)
	}
}
