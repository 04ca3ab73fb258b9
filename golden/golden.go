// Package golden holds egmc's golden files, the expected output of every
// example in examples/, and the helpers that compare a result with them.
//
// Golden files are compared byte for byte, as egmc promises the same bytes
// on every machine; a difference is shown as a unified diff. Run the tests
// with -update, or with EGMC_UPDATE=1, to rewrite them; CI runs the
// rewrite and fails if git then shows a change.
// Every test package that compares golden files imports this package, so
// the -update flag is defined wherever `go test ./... -update` runs.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	udiff "github.com/aymanbagabas/go-udiff"
	"github.com/rogpeppe/go-internal/txtar"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

// Update tells whether golden files are to be rewritten (-update or
// EGMC_UPDATE=1).
func Update() bool {
	return *update || os.Getenv("EGMC_UPDATE") == "1"
}

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Check compares got with the golden file at path byte for byte (egmc
// promises the same bytes, not merely the same data), or rewrites the
// file when Update is set. A difference is shown as a unified diff of the
// text.
func Check(t TB, path string, got []byte) {
	t.Helper()
	if Update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("%v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("%v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run the tests with EGMC_UPDATE=1 to create it)", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	diff := udiff.Unified(path+" (golden)", "got", string(want), string(got))
	if diff == "" {
		diff = "(the same text but for bytes a text diff does not show)"
	}
	t.Errorf("%s differs; if the change is intended, rerun with EGMC_UPDATE=1 and review the diff:\n%s", path, diff)
}

// CheckTxtarWant compares got with the "want" file of the txtar archive
// ar read from file, or rewrites that file in the archive when Update is
// set.
func CheckTxtarWant(t TB, file string, ar *txtar.Archive, got string) {
	t.Helper()
	for i, f := range ar.Files {
		if f.Name != "want" {
			continue
		}
		if Update() {
			ar.Files[i].Data = []byte(got)
			if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
				t.Fatalf("%v", err)
			}
			return
		}
		if string(f.Data) != got {
			t.Errorf("got:\n%swant:\n%s", got, f.Data)
		}
		return
	}
	t.Fatalf("%s has no want file", file)
}

// Documents decodes a YAML stream into one value per document.
func Documents(stream []byte) ([]any, error) {
	var docs []any
	for i, d := range Split(stream) {
		var v any
		if err := yaml.Unmarshal(d, &v); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		docs = append(docs, v)
	}
	return docs, nil
}

// Split cuts a YAML stream at its "---" lines.
func Split(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(stream, []byte("\n---\n")) {
		d = bytes.TrimPrefix(d, []byte("---\n"))
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}
