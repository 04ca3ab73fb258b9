package golden_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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

// TestExamples compiles every example and compares its stream, Helm
// values and runbook with golden/<example>/.
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
			golden.Check(t, filepath.Join(name, "RUNBOOK.md"), res.Runbook.Markdown())
			golden.Check(t, filepath.Join(name, "explain.txt"), res.Explain.Text())
			golden.Check(t, filepath.Join(name, "explain.mmd"), res.Explain.Mermaid())
			want := map[string]bool{}
			for _, v := range res.Values {
				golden.Check(t, filepath.Join(name, v.File), v.YAML)
				want[v.File] = true
			}
			checkNoStaleValues(t, name, want)
		})
	}
}

// checkNoStaleValues fails when golden/<name> holds a values file the
// example no longer produces (or removes it under -update).
func checkNoStaleValues(t *testing.T, name string, want map[string]bool) {
	t.Helper()
	stale, _ := filepath.Glob(filepath.Join(name, "*-values.yaml"))
	for _, f := range stale {
		if want[filepath.Base(f)] {
			continue
		}
		if golden.Update() {
			os.Remove(f)
			continue
		}
		t.Errorf("%s is no longer produced by the example: rerun with EGMC_UPDATE=1", f)
	}
}
