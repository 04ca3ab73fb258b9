package emit

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// staleYAML: egmc "wrote" the .yaml files that start with "egmc".
func staleYAML(name string, head []byte) bool {
	return strings.HasSuffix(name, ".yaml") && strings.HasPrefix(string(head), "egmc")
}

// flat is an owner that writes in the directory itself.
var flat = Owner{Dirs: []string{"."}, Files: listFiles("."), Wrote: staleYAML}

// withHelm is an owner that writes in the directory and its helm/.
var withHelm = Owner{Dirs: []string{".", "helm"}, Files: listFiles(".", "helm"), Wrote: staleYAML}

// listFiles lists the regular files of the subdirectories of dir.
func listFiles(subs ...string) func(string) ([]string, error) {
	return func(dir string) ([]string, error) {
		var names []string
		for _, sub := range subs {
			entries, err := os.ReadDir(filepath.Join(dir, sub))
			if os.IsNotExist(err) && sub != "." {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if e.Type().IsRegular() {
					names = append(names, path.Join(sub, e.Name()))
				}
			}
		}
		return names, nil
	}
}

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

func checkDir(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := readDir(t, dir)
	if len(got) != len(want) {
		t.Fatalf("got files %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestWriteDirReplacesItsOwnFiles: egmc's files are replaced, its stale
// ones removed, everything else kept (a README, a user's file named like
// egmc's but not written by it).
func TestWriteDirReplacesItsOwnFiles(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc a1")}, {"stale.yaml", []byte("egmc s")}}, flat); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"README.md": "mine", "my-values.yaml": "user values"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc a2")}, {"b.yaml", []byte("egmc b")}}, flat); err != nil {
		t.Fatal(err)
	}
	checkDir(t, dir, map[string]string{"a.yaml": "egmc a2", "b.yaml": "egmc b", "README.md": "mine", "my-values.yaml": "user values"})
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("files left beside the output: %v", entries)
	}
}

// TestWriteDirKeepsModes: a replaced file keeps its mode, the directory
// its own; a new file gets 0644 less the umask.
func TestWriteDirKeepsModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("egmc old"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc new")}, {"b.yaml", []byte("egmc b")}}, flat); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"": 0o700 | os.ModeDir, "a.yaml": 0o600, "b.yaml": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%q: mode %v, want %v", name, fi.Mode(), want)
		}
	}
}

// TestWriteDirThroughALink: a symbolic link to a directory stays a link,
// and the files land where it points.
func TestWriteDirThroughALink(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(parent, "link")
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(link, []File{{"a.yaml", []byte("egmc a")}}, flat); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", fi, err)
	}
	checkDir(t, target, map[string]string{"a.yaml": "egmc a"})
	broken := filepath.Join(parent, "broken")
	if err := os.Symlink("missing", broken); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(broken, []File{{"a.yaml", nil}}, flat); err == nil || !strings.Contains(err.Error(), "symbolic link to a missing directory") {
		t.Errorf("a link to nowhere: %v", err)
	}
}

// TestWriteDirIntoTheWorkingDirectory: -o . writes in place (it once
// copied the directory into itself).
func TestWriteDirIntoTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("mine.txt", []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{".", "./", dir} {
		if err := WriteDir(d, []File{{"a.yaml", []byte("egmc " + d)}}, flat); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
	}
	checkDir(t, dir, map[string]string{"a.yaml": "egmc " + dir, "mine.txt": "mine"})
}

// TestWriteDirFailureLeavesDirAlone: when writing fails, the directory is
// exactly as it was and no temporary file is left.
func TestWriteDirFailureLeavesDirAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc old")}}, flat); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "b.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteDir(dir, []File{{"a.yaml", []byte("egmc new")}, {"b.yaml", []byte("x")}}, flat)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("got %v, want an error for the directory in b.yaml's place", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.yaml")); string(b) != "egmc old" {
		t.Errorf("a.yaml changed by a failed write: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, tmpPattern)); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := WriteDir(dir, []File{{"../x.yaml", nil}}, flat); err == nil {
		t.Error("wrote a file outside the directory")
	}
}

// TestWriteDirRemovesLeftovers: temporary files of an interrupted run in
// the directory, and the directories egmc before v0.2 left beside it, are
// removed; other hidden files are not.
func TestWriteDirRemovesLeftovers(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	for _, d := range []string{dir, filepath.Join(parent, ".out.egmc-123"), filepath.Join(parent, ".other.egmc-1")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{".egmc-abc.tmp", ".keep"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc a")}}, flat); err != nil {
		t.Fatal(err)
	}
	checkDir(t, dir, map[string]string{"a.yaml": "egmc a", ".keep": ""})
	entries, _ := os.ReadDir(parent)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != ".other.egmc-1,out" {
		t.Errorf("beside the output: %v", names)
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

// TestWriteDirAbort: an interrupt just before the renames leaves the
// directory as it was and removes the temporary files; later writes fail.
func TestWriteDirAbort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc old")}}, flat); err != nil {
		t.Fatal(err)
	}
	beforeRename = Abort
	defer func() {
		beforeRename = func() {}
		writes.aborted = false
	}()
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc new")}, {"b.yaml", []byte("egmc b")}}, flat); err != errAborted {
		t.Fatalf("WriteDir = %v, want %v", err, errAborted)
	}
	checkDir(t, dir, map[string]string{"a.yaml": "egmc old"})
	beforeRename = func() {}
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc new")}}, flat); err != errAborted {
		t.Errorf("WriteDir after Abort = %v, want %v", err, errAborted)
	}
}

// TestWriteDirSubdirectory: files go into the owner's subdirectory,
// created when missing; its stale files are removed even when a build
// writes nothing there, and the subdirectory with them once empty; a
// user's file there keeps it; names outside the owner's directories are
// refused.
func TestWriteDirSubdirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	owner := withHelm
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc a")}, {"helm/v.yaml", []byte("egmc v")}}, owner); err != nil {
		t.Fatal(err)
	}
	checkDir(t, filepath.Join(dir, "helm"), map[string]string{"v.yaml": "egmc v"})
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc a")}}, owner); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "helm")); !os.IsNotExist(err) {
		t.Errorf("helm/ left behind empty: %v", err)
	}
	if err := WriteDir(dir, []File{{"helm/v.yaml", []byte("egmc v")}}, owner); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "helm", "mine.yaml"), []byte("user"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, []File{{"a.yaml", []byte("egmc a")}}, owner); err != nil {
		t.Fatal(err)
	}
	checkDir(t, filepath.Join(dir, "helm"), map[string]string{"mine.yaml": "user"})
	for _, name := range []string{"other/v.yaml", "helm/../../x.yaml", "helm/.hidden", "helm/"} {
		if err := WriteDir(dir, []File{{name, nil}}, owner); err == nil {
			t.Errorf("wrote %q", name)
		}
	}
}

// TestWriteDirSubdirectoryFailure: a failed write removes the
// subdirectory it created, and a file in the subdirectory's place is
// reported, not replaced.
func TestWriteDirSubdirectoryFailure(t *testing.T) {
	dir := t.TempDir()
	owner := withHelm
	if err := os.Mkdir(filepath.Join(dir, "b.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteDir(dir, []File{{"helm/v.yaml", []byte("egmc v")}, {"b.yaml", []byte("x")}}, owner)
	if err == nil {
		t.Fatal("no error for the directory in b.yaml's place")
	}
	if _, err := os.Lstat(filepath.Join(dir, "helm")); !os.IsNotExist(err) {
		t.Errorf("a failed write left helm/: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "helm"), []byte("user"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = WriteDir(dir, []File{{"helm/v.yaml", []byte("egmc v")}}, owner)
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("got %v, want an error for the file in helm/'s place", err)
	}
}
