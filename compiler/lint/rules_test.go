package lint_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/lint"
	"egmc.dev/egmc/golden"
)

// testCompiler is the tests' one Compiler, as egmc has one per process.
var testCompiler = compiler.New()

// TestEveryRule checks each rule of the catalogue with its archive in
// testdata/rules/<ID>.txtar: trigger files that produce exactly the
// findings of "want" (id, position, message), and close neighbour files
// that produce no finding of the rule. Rules that egmc applies instead
// have "want-in-output": lines that the trigger's generated output holds
// and the neighbour's does not. EGMC_UPDATE=1 rewrites "want".
func TestEveryRule(t *testing.T) {
	s, err := testCompiler.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			file := filepath.Join("testdata", "rules", r.ID+".txtar")
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatalf("every rule needs a test archive: %v", err)
			}
			trigger, neighbour := inputs(ar, "trigger/"), inputs(ar, "neighbour/")
			if len(trigger) == 0 || len(neighbour) == 0 {
				t.Fatalf("%s needs trigger/ and neighbour/ files", file)
			}
			if r.Checks == "applied" {
				checkApplied(t, ar, trigger, neighbour)
				return
			}
			got := findings(t, trigger, r.ID)
			if len(got) == 0 {
				t.Errorf("the trigger files produce no %s finding", r.ID)
			}
			golden.CheckTxtarWant(t, file, ar, got.Error()+"\n")
			if n := findings(t, neighbour, r.ID); len(n) > 0 {
				t.Errorf("the neighbour files produce %s findings:\n%s", r.ID, n)
			}
		})
	}
}

// inputs returns the archive's files under dir, named without it.
func inputs(ar *txtar.Archive, dir string) []lint.Input {
	var in []lint.Input
	for _, f := range ar.Files {
		if name, ok := strings.CutPrefix(f.Name, dir); ok {
			in = append(in, lint.Input{Name: name, Data: f.Data})
		}
	}
	return in
}

// findings lints the inputs and keeps the findings of one rule.
func findings(t *testing.T, in []lint.Input, id string) diag.List {
	t.Helper()
	res, err := lint.Run(context.Background(), testCompiler, in)
	if err != nil {
		t.Fatal(err)
	}
	var out diag.List
	for _, d := range res.Diagnostics {
		if d.Rule == id {
			out = append(out, d)
			continue
		}
		if d.Severity == diag.Error {
			t.Fatalf("unexpected error in the test files: %s", d)
		}
	}
	return out
}

// checkApplied builds the trigger and neighbour intents and looks for the
// want-in-output lines in their output.
func checkApplied(t *testing.T, ar *txtar.Archive, trigger, neighbour []lint.Input) {
	t.Helper()
	var want []string
	for _, f := range ar.Files {
		if f.Name == "want-in-output" {
			want = strings.Split(strings.TrimSpace(string(f.Data)), "\n")
		}
	}
	if len(want) == 0 {
		t.Fatal("an applied rule needs want-in-output")
	}
	got, other := output(t, trigger), output(t, neighbour)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("the trigger's output lacks %q", w)
		}
		if strings.Contains(other, w) {
			t.Errorf("the neighbour's output holds %q", w)
		}
	}
}

// output is the stream and Helm values of the intent among the inputs.
func output(t *testing.T, in []lint.Input) string {
	t.Helper()
	res, err := testCompiler.CompileBytes(context.Background(), in[0].Name, in[0].Data, compiler.Options{Files: true})
	if err != nil {
		t.Fatalf("%s: %v", in[0].Name, err)
	}
	b, err := res.Stream()
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, v := range res.Values {
		out += "---\n" + string(v.YAML)
	}
	return out
}
