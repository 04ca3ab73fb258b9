package cache

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPutGet(t *testing.T) {
	c, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey([]byte("a"), []byte("b"))
	if _, ok := c.Get(k); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(k, []byte("data")); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k)
	if !ok || string(got) != "data" {
		t.Fatalf("got %q, %v", got, ok)
	}
	if h, m := c.Stats(); h != 1 || m != 1 {
		t.Errorf("stats %d hits %d misses, want 1 and 1", h, m)
	}
}

// TestKeysAreUnambiguous: moving bytes from one part to the next gives
// another key.
func TestKeysAreUnambiguous(t *testing.T) {
	if NewKey([]byte("ab"), []byte("c")) == NewKey([]byte("a"), []byte("bc")) {
		t.Error("two part lists with the same bytes share a key")
	}
}

// TestCorruptEntriesAreMisses: a truncated, altered or foreign entry is
// never returned, and is removed.
func TestCorruptEntriesAreMisses(t *testing.T) {
	c, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey([]byte("route"))
	for name, corrupt := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)-1] },
		"altered":   func(b []byte) []byte { return bytes.Replace(b, []byte("data"), []byte("dada"), 1) },
		"no header": func(b []byte) []byte { return []byte("data") },
		"empty":     func(b []byte) []byte { return nil },
		"bad sum":   func(b []byte) []byte { return bytes.Replace(b, b[len(magic):len(magic)+4], []byte("zzzz"), 1) },
	} {
		if err := c.Put(k, []byte("some data")); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(c.path(k))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.path(k), corrupt(b), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Get(k); ok {
			t.Errorf("%s: got %q from a corrupt entry", name, got)
		}
		if _, err := os.Stat(c.path(k)); !os.IsNotExist(err) {
			t.Errorf("%s: the corrupt entry is still there (%v)", name, err)
		}
	}
}

// TestTrim: past its bound, the cache drops its least recently used
// entries down to three quarters of the bound, and interrupted writes'
// temporary files.
func TestTrim(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	c.trimOnce.Do(func() {}) // trim only when the test says so
	data := bytes.Repeat([]byte("x"), 1000)
	old := time.Now().Add(-48 * time.Hour)
	var keys []Key
	for i := range 20 {
		k := NewKey([]byte{byte(i)})
		keys = append(keys, k)
		if err := c.Put(k, data); err != nil {
			t.Fatal(err)
		}
		// entry i was last used i hours after old
		used := old.Add(time.Duration(i) * time.Hour)
		os.Chtimes(c.path(k), used, used)
	}
	tmp := filepath.Join(dir, "00", ".tmp-left")
	os.MkdirAll(filepath.Dir(tmp), 0o755)
	os.WriteFile(tmp, data, 0o644)
	os.Chtimes(tmp, old, old)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	var total int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			total += fi.Size()
			if strings.HasPrefix(d.Name(), ".tmp") {
				t.Errorf("temporary file %s left", p)
			}
		}
		return nil
	})
	if total > 7500 {
		t.Errorf("%d bytes after the trim, want at most 7500", total)
	}
	if _, ok := c.Get(keys[19]); !ok {
		t.Error("the most recently used entry was trimmed")
	}
	if _, ok := c.Get(keys[0]); ok {
		t.Error("the least recently used entry was kept")
	}
}

func TestDefault(t *testing.T) {
	t.Setenv("EGMC_CACHE", "off")
	if c, err := Default(); c != nil || err != nil {
		t.Errorf("EGMC_CACHE=off: got %v, %v", c, err)
	}
	dir := filepath.Join(t.TempDir(), "c")
	t.Setenv("EGMC_CACHE", dir)
	c, err := Default()
	if err != nil || c.Dir() != dir {
		t.Fatalf("EGMC_CACHE=%s: got %v, %v", dir, c, err)
	}
}

func TestBuildID(t *testing.T) {
	if BuildID() == "" {
		t.Error("the test binary has no build ID")
	}
}

// TestGoBuildID reads the test binary's Go build ID as go tool buildid
// prints it.
func TestGoBuildID(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "tool", "buildid", exe).Output()
	if err != nil {
		t.Fatalf("go tool buildid: %v", err)
	}
	if got, want := goBuildID(exe), strings.TrimSpace(string(out)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTrimAtMostHourly: a process trims on its first Put only when no
// trim ran within trimEvery; the stamp survives the trim.
func TestTrimAtMostHourly(t *testing.T) {
	dir := t.TempDir()
	// fill puts n entries of 1000 bytes from a fresh process's Cache.
	fill := func(n int) {
		c, err := Open(dir, 2000)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := c.Put(NewKey([]byte{byte(i)}), bytes.Repeat([]byte("x"), 1000)); err != nil {
				t.Fatal(err)
			}
		}
	}
	size := func() (n int64) {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				fi, _ := d.Info()
				n += fi.Size()
			}
			return nil
		})
		return n
	}
	fill(10) // trims the empty cache, stamps it, then writes 10 KB
	fill(1)  // stamped a moment ago: no trim
	if n := size(); n < 10000 {
		t.Fatalf("%d bytes: trimmed although a trim ran within the hour", n)
	}
	old := time.Now().Add(-2 * trimEvery)
	os.Chtimes(filepath.Join(dir, "trim.txt"), old, old)
	fill(1) // trims to three quarters of 2000 bytes, then writes one entry
	if n := size(); n > 1500+1100 {
		t.Errorf("%d bytes after a stale stamp, want at most the trimmed 1500 and one entry", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "trim.txt")); err != nil {
		t.Errorf("the trim removed its stamp: %v", err)
	}
}
