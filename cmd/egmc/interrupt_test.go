package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"egmc.dev/egmc/bench"
)

// TestInterruptedBuildLeavesDirAlone interrupts `egmc build -o DIR` at
// several moments and checks that DIR holds either its previous contents
// or the complete new output, never a mix, and that nothing is left
// beside it.
func TestInterruptedBuildLeavesDirAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the egmc binary")
	}
	work := t.TempDir()
	egmc := filepath.Join(work, "egmc")
	if out, err := exec.Command("go", "build", "-o", egmc, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	intent := filepath.Join(work, "intent.yaml")
	if err := os.WriteFile(intent, bench.Intent(100), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := filepath.Join(work, "complete")
	if out, err := exec.Command(egmc, "build", intent, "-o", complete).CombinedOutput(); err != nil {
		t.Fatalf("egmc build: %v\n%s", err, out)
	}
	want := snapshot(t, complete)

	for _, delay := range []time.Duration{0, 100 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "out")
		old := map[string]string{"old.yaml": "kind: Old\n", "README.md": "kept\n"}
		for name, data := range old {
			writeFile(t, filepath.Join(dir, name), data)
		}
		cmd := exec.Command(egmc, "build", intent, "-o", dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil: // finished before the signal
		case errors.As(err, &exit) && exit.ExitCode() == 130:
		case errors.As(err, &exit) && exit.ExitCode() == -1: // killed before egmc set up its handler
		default:
			t.Fatalf("after %v: egmc exited with %v, want 0 or 130", delay, err)
		}
		t.Logf("signalled after %v: %v", delay, err)
		got := snapshot(t, dir)
		if !same(got, old) && !same(got, withKept(want, old)) {
			t.Errorf("after %v: the directory holds %d files, neither the old nor the complete output", delay, len(got))
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 1 {
			t.Errorf("after %v: left beside the output: %v", delay, entries)
		}
	}
}

// withKept is the complete output in a directory that held old: the
// files egmc does not manage (here, all of old) are kept beside it.
func withKept(files, old map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range old {
		out[k] = v
	}
	for k, v := range files {
		out[k] = v
	}
	return out
}

// snapshot maps every file under dir to its content and every
// subdirectory to "<dir>" (so that an empty one left behind shows).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out[rel] = "<dir>"
			return nil
		}
		b, err := os.ReadFile(path)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func same(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
