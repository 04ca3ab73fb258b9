package compiler_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/load"
)

// maxSeed is the largest seed: the fuzzer minimizes every input that finds
// new coverage, and minimizing one of the corpus' large bound cases (300
// keys, 120 routes) took longer than a bounded fuzz run has.
const maxSeed = 4 << 10

// seeds adds the examples and the bad-intent corpus of one format, each
// up to maxSeed bytes.
func seeds(f *testing.F, ext string) {
	files, _ := filepath.Glob("../examples/*/intent" + ext)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	archives, _ := filepath.Glob("testdata/errors/*.txtar")
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err == nil && filepath.Ext(ar.Files[0].Name) == ext && len(ar.Files[0].Data) <= maxSeed {
			f.Add(ar.Files[0].Data)
		}
	}
}

// checkError asserts the error contract: diagnostics, each at a position
// in the input file; never an internal error.
func checkError(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var internal *diag.Internal
	if errors.As(err, &internal) {
		t.Fatalf("internal error on user input: %v", err)
	}
	var l diag.List
	if !errors.As(err, &l) || len(l) == 0 {
		t.Fatalf("not diagnostics: %T %v", err, err)
	}
	for _, d := range l {
		if d.Filename != name || d.Line < 1 || d.Column < 1 || d.Message == "" {
			t.Fatalf("diagnostic without a position or message: %q", d.String())
		}
	}
}

// FuzzYAMLDecoding feeds arbitrary bytes to the YAML intent decoder.
func FuzzYAMLDecoding(f *testing.F) {
	seeds(f, ".yaml")
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := load.Parse("intent.yaml", load.YAML, src)
		checkError(t, "intent.yaml", err)
	})
}

// FuzzCUEDecoding feeds arbitrary bytes to the CUE intent decoder.
func FuzzCUEDecoding(f *testing.F) {
	seeds(f, ".cue")
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := load.Parse("intent.cue", load.CUE, src)
		checkError(t, "intent.cue", err)
	})
}

// FuzzCompile compiles arbitrary YAML intents end to end: no panic, and
// every error is a positioned diagnostic.
func FuzzCompile(f *testing.F) {
	seeds(f, ".yaml")
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := compileBytes("intent.yaml", src)
		checkError(t, "intent.yaml", err)
	})
}

// FuzzCompileCUE compiles arbitrary CUE intents end to end, the author's
// own evaluation bounded in the sandbox: no panic, no hang, and every
// error is a positioned diagnostic.
func FuzzCompileCUE(f *testing.F) {
	seeds(f, ".cue")
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := compileBytes("intent.cue", src)
		checkError(t, "intent.cue", err)
	})
}
