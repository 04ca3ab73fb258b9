package compiler_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/lint"
	"egmc.dev/egmc/golden"
)

// lintAgrees checks that egmc lint refuses the file egmc build refused,
// with the same errors: the pre-commit hook must not let through what
// the build refuses.
func lintAgrees(t *testing.T, name string, data []byte, build diag.List) {
	t.Helper()
	res, err := lint.Run(context.Background(), compiler.New(), []lint.Input{{Name: name, Data: data}})
	var got diag.List
	if err != nil {
		if !errors.As(err, &got) {
			t.Fatalf("lint: %v", err)
		}
	} else {
		got = res.Diagnostics
	}
	if got, want := errorsOf(got).Error(), errorsOf(build).Error(); got != want {
		t.Errorf("lint and build disagree:\nlint:\n%s\nbuild:\n%s", got, want)
	}
}

// errorsOf keeps the errors of a list.
func errorsOf(l diag.List) diag.List {
	var out diag.List
	for _, d := range l {
		if d.Severity == diag.Error {
			out = append(out, d)
		}
	}
	return out
}

// TestBadIntents compiles each archive in testdata/errors: its intent file
// (the first file, intent.yaml or intent.cue) must fail with exactly the
// diagnostics of its "want" file, each at a position in the intent.
// EGMC_UPDATE=1 rewrites the want files.
func TestBadIntents(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no archives: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			intent := ar.Files[0]
			_, err = compileBytes(intent.Name, intent.Data)
			var l diag.List
			if !errors.As(err, &l) {
				t.Fatalf("got %v, want diagnostics", err)
			}
			for _, d := range l {
				if d.Filename != intent.Name || d.Line == 0 || d.Column == 0 {
					t.Errorf("diagnostic without a position in %s: %s", intent.Name, d)
				}
			}
			golden.CheckTxtarWant(t, file, ar, l.Error()+"\n")
			lintAgrees(t, intent.Name, intent.Data, l)
		})
	}
}
