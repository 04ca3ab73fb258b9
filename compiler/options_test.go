package compiler_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"egmc.dev/egmc/compiler"
)

// lintBytes compiles an intent's source as egmc lint does.
func lintBytes(filename string, src []byte) (*compiler.Result, error) {
	return testCompiler.CompileBytes(context.Background(), filename, src, compiler.Options{Lint: true})
}

// TestLintMatchesBuild: what lint reads of an intent (the objects
// in order, the warnings, the errors) is what build reads.
func TestLintMatchesBuild(t *testing.T) {
	files, err := filepath.Glob("../examples/*/intent.*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := compileBytes(f, src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lint, err := lintBytes(f, src)
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

// TestLintSameErrors: lint reports a user mistake exactly as build.
func TestLintSameErrors(t *testing.T) {
	src := []byte(`apiVersion: egmc.dev/v1alpha1
kind: Intent
metadata: {name: shop}
spec:
  mesh: {provider: istio, mode: sidecar}
  routes:
    - {name: a, hostnames: [a.example.com], backend: {service: a, namespace: ns, port: 80}}
    - {name: b, hostnames: [a.example.com], backend: {service: b, namespace: ns, port: 80}}
`)
	_, buildErr := compileBytes("intent.yaml", src)
	_, lintErr := lintBytes("intent.yaml", src)
	if buildErr == nil || lintErr == nil {
		t.Fatalf("want errors, got build %v, lint %v", buildErr, lintErr)
	}
	if d := cmp.Diff(buildErr.Error(), lintErr.Error()); d != "" {
		t.Errorf("(-build +lint):\n%s", d)
	}
}

// TestOnlyWhatIsAsked: a compile reads the output directory's files and
// the explanation only when asked, and refuses to write a directory it
// did not read the files of.
func TestOnlyWhatIsAsked(t *testing.T) {
	src, err := os.ReadFile("../examples/teg-istio-sidecar-httpbin/intent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts             compiler.Options
		files, explained bool
	}{
		{compiler.Options{}, false, false},
		{compiler.Options{Lint: true}, false, false},
		{compiler.Options{Files: true}, true, false},
		{compiler.Options{Explain: true}, false, true},
		{everything, true, true},
	} {
		res, err := testCompiler.CompileBytes(context.Background(), "intent.yaml", src, tc.opts)
		if err != nil {
			t.Fatalf("%+v: %v", tc.opts, err)
		}
		if got := res.Runbook != nil; got != tc.files {
			t.Errorf("%+v: runbook compiled: %v, want %v", tc.opts, got, tc.files)
		}
		if got := res.Explain != nil; got != tc.explained {
			t.Errorf("%+v: explanation compiled: %v, want %v", tc.opts, got, tc.explained)
		}
		_, err = res.Files()
		if (err == nil) != tc.files {
			t.Errorf("%+v: Files() error %v", tc.opts, err)
		}
	}
}

// TestCancelled: a compile whose context is done stops with its error.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src, err := os.ReadFile("../examples/teg-istio-sidecar-httpbin/intent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testCompiler.CompileBytes(ctx, "intent.yaml", src, everything); err != context.Canceled {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
}
