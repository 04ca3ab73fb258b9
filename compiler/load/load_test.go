package load

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue/ast"

	"egmc.dev/egmc/compiler/diag"
)

// TestRefusals checks that input which is not a hermetic intent is refused
// with a positioned message.
func TestRefusals(t *testing.T) {
	cases := []struct {
		name, file, src, want string
	}{
		{"empty", "i.yaml", " \n\n", "i.yaml:1:1: the intent is empty"},
		{"not utf-8", "i.yaml", "a: 1\nb: \xff\n", "i.yaml:2:4: the intent is not valid UTF-8"},
		{"nul byte", "i.cue", "a: 1\x00", "i.cue:1:5: the intent holds a NUL byte"},
		{"yaml syntax", "i.yaml", "a: [\n", "i.yaml:1:4: syntax error: sequence end token ']' not found"},
		{"cue syntax", "i.cue", "a: {\n", "i.cue:1:6: syntax error: expected '}', found 'EOF'"},
		{"two documents", "i.yaml", "a: 1\n---\nb: 2\n", "i.yaml:2:1: the file holds several YAML documents"},
		{"scalar document", "i.yaml", "just text\n", "i.yaml:1:1: the intent must be a YAML mapping"},
		{"module import", "i.cue", "import \"example.com/x\"\na: 1\n", `i.cue:1:8: import "example.com/x" is not allowed`},
		{"file embedding", "i.cue", "@extern(embed)\na: _ @embed(file=x.json)\n", "i.cue:1:1: file embedding (@extern) is not allowed"},
		{"CR line breaks", "i.yaml", "a: 1\rb: 2\rc: 3\r", "i.yaml:1:5: the file holds a carriage return (CR) without a line feed"},
		{"CR at the end", "i.yaml", "a: 1\n\r", "i.yaml:2:1: the file holds a carriage return"},
		{"NEL line breaks", "i.yaml", "a: 1\nb: 2\u0085c: 3\u0085", "i.yaml:2:5: the file holds a next-line character (U+0085)"},
		{"LS line breaks", "i.yaml", "a: 1\u2028b: 2\u2028", "i.yaml:1:5: the file holds a line separator (U+2028)"},
		{"PS in a string", "i.yaml", "a: \"x\u2029y\"\n", "i.yaml:1:6: the file holds a paragraph separator (U+2029)"},
		{"CR line breaks in CUE", "i.cue", "a: 1\rb: 2\r", "i.cue:1:5: the file holds a carriage return"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			format, err := FormatOf(c.file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(c.file, format, []byte(c.src))
			var l diag.List
			if !errors.As(err, &l) {
				t.Fatalf("got %v, want diagnostics", err)
			}
			if !strings.HasPrefix(l.Error(), c.want) {
				t.Errorf("got %q, want prefix %q", l.Error(), c.want)
			}
		})
	}
}

// TestDecoderPanicIsAnError: a panic of CUE's YAML decoder is a syntax
// error of the file, not a crash of egmc: lone CR line breaks crash
// cuelang.org/go v0.17.1's decoder (checkText refuses them first).
func TestDecoderPanicIsAnError(t *testing.T) {
	_, err := noPanic("i.yaml", func() (*ast.File, error) { panic("index out of range") })
	var l diag.List
	if !errors.As(err, &l) || !strings.HasPrefix(l.Error(), "i.yaml:1:1: syntax error: the YAML decoder failed") {
		t.Errorf("got %v, want a syntax error at i.yaml:1:1", err)
	}
	// the decoder itself, past checkText: no panic escapes.
	if _, err := extractYAML("i.yaml", []byte("a: 1\rb: 2\rc: 3\r")); err != nil {
		t.Logf("lone CR line breaks: %v", err)
	}
}

// TestCRLFIsALineBreak: Windows line endings are accepted, with the
// positions of LF ones.
func TestCRLFIsALineBreak(t *testing.T) {
	for _, name := range []string{"i.yaml", "i.cue"} {
		format, _ := FormatOf(name)
		if _, err := Parse(name, format, []byte("a: 1\r\nb: 2\r\n")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAccepts checks that CUE's own features and the standard library
// are allowed in a CUE intent.
func TestAccepts(t *testing.T) {
	src := "package x\n\nimport \"strings\"\n\n_h: strings.ToLower(\"A\")\n// a comment\nb: _h\n"
	if _, err := Parse("i.cue", CUE, []byte(src)); err != nil {
		t.Fatal(err)
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]Format{"a.cue": CUE, "a.yaml": YAML, "a.YML": YAML} {
		if got, err := FormatOf(name); err != nil || got != want {
			t.Errorf("FormatOf(%s) = %v, %v", name, got, err)
		}
	}
	if _, err := FormatOf("a.json"); err == nil {
		t.Error("a.json: want an error")
	}
}

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("a: \""+strings.Repeat("x", MaxSize)+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(big); err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("got %v, want a size error", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("got %v, want a missing-file error", err)
	}
}
