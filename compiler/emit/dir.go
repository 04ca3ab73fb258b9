package emit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// writes tracks the temporary directories of WriteDir calls in flight, so
// that Abort can remove them when the process is interrupted.
var writes struct {
	sync.Mutex
	aborted bool
	tmp     map[string]bool
}

// errAborted is returned by a WriteDir that Abort stopped.
var errAborted = fmt.Errorf("interrupted: the output directory was left as it was")

// Abort stops every WriteDir in flight and removes its temporary
// directory; later calls fail. A replacement already under way finishes
// first, so each output directory holds either its old contents or its
// complete new ones. egmc calls it when interrupted, before exiting.
func Abort() {
	writes.Lock()
	defer writes.Unlock()
	writes.aborted = true
	for tmp := range writes.tmp {
		os.RemoveAll(tmp)
	}
}

// track records tmp as in flight, or reports that writing was aborted.
func track(tmp string) error {
	writes.Lock()
	defer writes.Unlock()
	if writes.aborted {
		return errAborted
	}
	if writes.tmp == nil {
		writes.tmp = map[string]bool{}
	}
	writes.tmp[tmp] = true
	return nil
}

func untrack(tmp string) {
	writes.Lock()
	defer writes.Unlock()
	delete(writes.tmp, tmp)
}

// beforeSwap is a test hook run just before the replacement.
var beforeSwap = func() {}

// File is one file of an output directory.
type File struct {
	Name string
	Data []byte
}

// WriteDir replaces the contents egmc manages in dir with files,
// atomically: the files are written to a temporary directory beside dir,
// which then takes dir's place with one rename. When anything fails
// before that rename, or the process is interrupted (see Abort), dir is
// left exactly as it was. Files in dir that egmc did not write are carried
// over untouched, so a README or a kustomization.yaml next to the
// manifests survives.
func WriteDir(dir string, files []File, managed func(name string) bool) (err error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".egmc-*")
	if err != nil {
		return err
	}
	defer func() {
		untrack(tmp)
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := track(tmp); err != nil {
		return err
	}
	if err := carryOver(dir, tmp, managed); err != nil {
		return err
	}
	if err := writeFiles(tmp, files); err != nil {
		return err
	}
	beforeSwap()
	writes.Lock() // Abort waits for a replacement under way
	defer writes.Unlock()
	if writes.aborted {
		return errAborted
	}
	return swap(dir, tmp)
}

// carryOver copies the files of dir that egmc does not manage into tmp.
func carryOver(dir, tmp string, managed func(string) bool) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if managed(e.Name()) {
			continue
		}
		if err := os.Link(filepath.Join(dir, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			if err := copyEntry(filepath.Join(dir, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyEntry(from, to string) error {
	return os.CopyFS(to, os.DirFS(from))
}

func writeFiles(dir string, files []File) error {
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return syncDir(dir)
}

// swap puts tmp in dir's place: a missing dir is a single rename, an
// existing one is exchanged with tmp in one step where the system can
// (exchange), and else moved aside first; the old contents are removed
// once tmp is in place.
func swap(dir, tmp string) error {
	switch _, err := os.Lstat(dir); {
	case os.IsNotExist(err):
		return os.Rename(tmp, dir)
	case err != nil:
		return err
	}
	if exchange(tmp, dir) == nil {
		return os.RemoveAll(tmp) // tmp now holds the old contents
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("replacing %s: %v; the previous contents are in %s", dir, err, old)
		}
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	return os.RemoveAll(old)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
