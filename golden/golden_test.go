package golden_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/layout"
	"egmc.dev/egmc/golden"
)

// Examples returns the intent file of every example, by example name.
func examples(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../examples/*/intent.*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found %d examples, want at least 8", len(files))
	}
	out := map[string]string{}
	for _, f := range files {
		out[filepath.Base(filepath.Dir(f))] = f
	}
	return out
}

// TestExamples compiles every example and compares its stream and
// explanation, and the files of its output directory other than the
// phase files (RUNBOOK.md, helm/*-values.yaml: the stream holds the
// objects), with golden/<example>/.
func TestExamples(t *testing.T) {
	for name, file := range examples(t) {
		t.Run(name, func(t *testing.T) {
			res, err := testCompiler.CompileFile(context.Background(), file, everything)
			if err != nil {
				t.Fatalf("compiling %s: %v", file, err)
			}
			stream, err := res.Stream()
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(name, "stream.yaml"), stream)
			golden.Check(t, filepath.Join(name, "explain.txt"), res.Explain.Text())
			golden.Check(t, filepath.Join(name, "explain.mmd"), res.Explain.Mermaid())
			files, err := res.Files()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, f := range files {
				if layout.IsPhaseFile(f.Name) {
					continue // the stream holds the objects
				}
				golden.Check(t, filepath.Join(name, filepath.FromSlash(f.Name)), f.Data)
				want[f.Name] = true
			}
			checkNoStaleValues(t, name, want)
		})
	}
}

// checkNoStaleValues fails when golden/<name> holds a values file the
// example no longer produces (or removes it under -update).
func checkNoStaleValues(t *testing.T, name string, want map[string]bool) {
	t.Helper()
	present, err := layout.Files(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range present {
		if want[f] || f == layout.Runbook {
			continue
		}
		if golden.Update() {
			os.Remove(filepath.Join(name, filepath.FromSlash(f)))
			continue
		}
		t.Errorf("%s/%s is no longer produced by the example: rerun with EGMC_UPDATE=1", name, f)
	}
}

// TestExamplesSayWhyTheyWarn: `egmc lint --strict examples/*` fails only
// on warnings the examples expect, so every rule an example warns on is
// named in the example itself, with the reason it stays.
func TestExamplesSayWhyTheyWarn(t *testing.T) {
	for name, file := range examples(t) {
		res, err := testCompiler.CompileFile(context.Background(), file, compiler.Options{})
		if err != nil {
			t.Fatalf("compiling %s: %v", file, err)
		}
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Warnings {
			if !strings.Contains(string(text), w.Rule) {
				t.Errorf("%s warns %s, and %s does not say why (name %s in a comment): %s", name, w.Rule, file, w.Rule, w.Message)
			}
		}
	}
}
