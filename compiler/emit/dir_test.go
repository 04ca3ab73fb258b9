package emit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func managedYAML(name string) bool { return strings.HasSuffix(name, ".yaml") }

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestWriteDirReplacesManagedFiles: managed files are replaced (stale ones
// removed), others kept, and nothing is left beside the directory.
func TestWriteDirReplacesManagedFiles(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := WriteDir(dir, []File{{"a.yaml", []byte("a1")}, {"stale.yaml", []byte("s")}}, managedYAML); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, []File{{"a.yaml", []byte("a2")}, {"b.yaml", []byte("b")}}, managedYAML); err != nil {
		t.Fatal(err)
	}
	got := readDir(t, dir)
	want := map[string]string{"a.yaml": "a2", "b.yaml": "b", "README.md": "mine"}
	if len(got) != len(want) {
		t.Fatalf("got files %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("temporary directories left beside the output: %v", entries)
	}
}

// TestWriteDirFailureLeavesDirAlone: when writing fails, the directory is
// exactly as it was.
func TestWriteDirFailureLeavesDirAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, []File{{"a.yaml", []byte("old")}}, managedYAML); err != nil {
		t.Fatal(err)
	}
	err := WriteDir(dir, []File{{"a.yaml", []byte("new")}, {"sub/b.yaml", []byte("x")}}, managedYAML)
	if err == nil {
		t.Fatal("want an error writing into a missing subdirectory")
	}
	got := readDir(t, dir)
	if len(got) != 1 || got["a.yaml"] != "old" {
		t.Errorf("directory changed by a failed write: %v", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("temporary directories left beside the output: %v", entries)
	}
}

func TestMarkdown(t *testing.T) {
	r := &Runbook{
		Title: "T",
		Intro: []string{"intro"},
		Sections: []Section{{
			Title: "S",
			Intro: "about",
			Steps: []Step{{Text: "do", Commands: []string{"a", "b"}}, {Text: "note one"}, {Text: "note two"}},
		}},
	}
	want := "# T\n\nintro\n\n## 1. S\n\nabout\n\n1. do\n\n   ```sh\n   a\n   b\n   ```\n\n- note one\n- note two\n"
	if got := string(r.Markdown()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestWriteDirAbort: an interrupt just before the replacement leaves the
// directory as it was and removes the temporary one; later writes fail.
func TestWriteDirAbort(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := WriteDir(dir, []File{{"a.yaml", []byte("old")}}, managedYAML); err != nil {
		t.Fatal(err)
	}
	beforeSwap = Abort
	defer func() {
		beforeSwap = func() {}
		writes.aborted = false
	}()
	if err := WriteDir(dir, []File{{"a.yaml", []byte("new")}}, managedYAML); err != errAborted {
		t.Fatalf("WriteDir = %v, want %v", err, errAborted)
	}
	if got := readDir(t, dir); len(got) != 1 || got["a.yaml"] != "old" {
		t.Errorf("after an interrupt the directory holds %v", got)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("temporary directories left beside the output: %v", entries)
	}
	beforeSwap = func() {}
	if err := WriteDir(dir, []File{{"a.yaml", []byte("new")}}, managedYAML); err != errAborted {
		t.Errorf("WriteDir after Abort = %v, want %v", err, errAborted)
	}
}
