package emit

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// writes tracks the temporary files of WriteDir calls in flight, so that
// Abort can remove them when the process is interrupted.
var writes struct {
	sync.Mutex
	aborted bool
	tmp     map[string]bool
	dirs    map[string]bool // subdirectories created by WriteDir calls in flight
}

// errAborted is returned by a WriteDir that Abort stopped.
var errAborted = fmt.Errorf("interrupted: the output directory was left as it was")

// Abort stops every WriteDir in flight and removes its temporary files
// and the subdirectories it created;
// later calls fail. Renames already under way finish first, so each
// output directory holds either its old files or its complete new ones.
// egmc calls it when interrupted, before exiting.
func Abort() {
	writes.Lock()
	defer writes.Unlock()
	writes.aborted = true
	for tmp := range writes.tmp {
		os.Remove(tmp)
	}
	for d := range writes.dirs {
		os.Remove(d) // empty once its temporary files are gone
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

// beforeRename is a test hook run after every file is written, just
// before the first one is renamed into place.
var beforeRename = func() {}

// File is one file of an output directory.
type File struct {
	// Name is the file's slash-separated path relative to the directory:
	// a file name, or one of Owner.Dirs and a file name.
	Name string
	Data []byte
}

// Owner says which files of an output directory are egmc's.
type Owner struct {
	// Dirs are the directories, relative to the output directory ("."
	// is the directory itself), that egmc writes files in: the only ones
	// WriteDir creates.
	Dirs []string
	// Files lists the regular files of an output directory that egmc
	// may have written, as slash-separated paths relative to it.
	Files func(dir string) ([]string, error)
	// Wrote tells whether egmc wrote a file, given its slash-separated
	// path and first bytes.
	Wrote func(name string, head []byte) bool
}

// tmpPattern names egmc's temporary files in an output directory; those
// an interrupted run left are removed by the next.
const tmpPattern = ".egmc-*.tmp"

// maxStale is the most bytes WriteDir reads of a file to ask whether egmc
// wrote it.
const maxStale = 64 << 10

// WriteDir writes files into dir and removes the files of an earlier
// build that it no longer writes, touching nothing else:
//
//   - dir is created (0755 less the umask) when missing; when it is a
//     symbolic link, the files are written where it points; so are the
//     subdirectories of owner.Dirs that files are written in;
//   - each file is first written in full to a temporary file in its
//     directory (with the mode of the file it replaces, or 0644 less the
//     umask), and only when every one is written are they renamed into
//     place, each rename atomic: a failure or an interrupt (Abort) before
//     that leaves dir exactly as it was;
//   - a file owner.Files lists that files does not hold is removed only
//     when owner.Wrote says egmc wrote it (given its name and first bytes): a
//     user's file, even one named like egmc's, stays; a subdirectory
//     left empty by that is removed;
//   - temporary files of an earlier interrupted run are removed, and so
//     are the directories beside dir that egmc before v0.2 left there.
func WriteDir(dir string, files []File, owner Owner) (err error) {
	real, err := outputDir(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := checkName(f.Name, owner.Dirs); err != nil {
			return err
		}
	}
	removeLeftovers(dir, real, owner.Dirs)
	created, err := makeSubdirs(real, files)
	temps := make([]string, len(files))
	defer func() {
		for _, t := range temps {
			if t != "" {
				untrack(t)
				if err != nil {
					os.Remove(t)
				}
			}
		}
		writes.Lock()
		for _, d := range created {
			delete(writes.dirs, d)
			if err != nil {
				os.Remove(d)
			}
		}
		writes.Unlock()
	}()
	if err != nil {
		return err
	}
	for i, f := range files {
		if temps[i], err = writeTemp(real, f); err != nil {
			return err
		}
	}
	old, err := staleFiles(real, files, owner)
	if err != nil {
		return err
	}
	beforeRename()
	writes.Lock() // Abort waits for the renames under way
	defer writes.Unlock()
	if writes.aborted {
		return errAborted
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(real, filepath.FromSlash(f.Name))); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, filepath.FromSlash(f.Name)), err)
		}
		delete(writes.tmp, temps[i]) // untrack, under the lock held here
		temps[i] = ""
	}
	for _, name := range old {
		if err := os.Remove(filepath.Join(real, filepath.FromSlash(name))); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing %s, which egmc no longer writes: %w", filepath.Join(dir, filepath.FromSlash(name)), err)
		}
	}
	return syncDirs(real, owner.Dirs)
}

// checkName checks that a file's name is a plain file name in one of
// dirs, so that no file lands outside the output directory.
func checkName(name string, dirs []string) error {
	sub, base := path.Split(name)
	sub = strings.TrimSuffix(sub, "/")
	if sub == "" {
		sub = "."
	}
	if base == "" || base[0] == '.' || strings.Contains(base, `\`) || !slices.Contains(dirs, sub) {
		return fmt.Errorf("output file name %q: not a plain file name in %s", name, strings.Join(dirs, ", "))
	}
	return nil
}

// mkdirTracked creates a directory and records it for Abort.
func mkdirTracked(p string) error {
	writes.Lock()
	defer writes.Unlock()
	if writes.aborted {
		return errAborted
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		return err
	}
	if writes.dirs == nil {
		writes.dirs = map[string]bool{}
	}
	writes.dirs[p] = true
	return nil
}

// makeSubdirs creates the subdirectories files are written in, and
// returns those it created.
func makeSubdirs(real string, files []File) ([]string, error) {
	var created []string
	for _, f := range files {
		sub := path.Dir(f.Name)
		if sub == "." {
			continue
		}
		p := filepath.Join(real, filepath.FromSlash(sub))
		err := mkdirTracked(p)
		switch {
		case err == nil:
			created = append(created, p)
		case os.IsExist(err):
			if fi, serr := os.Stat(p); serr != nil || !fi.IsDir() {
				return created, fmt.Errorf("%s is not a directory: egmc writes its %s files there; move it away", p, sub)
			}
		default:
			return created, err
		}
	}
	return created, nil
}

// outputDir returns the directory the files go to: dir, created when
// missing, or the directory dir links to.
func outputDir(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if os.IsNotExist(err) {
		if _, lerr := os.Lstat(dir); lerr == nil {
			return "", fmt.Errorf("%s is a symbolic link to a missing directory: create it, or remove the link", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		return dir, nil
	}
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return real, nil
}

// removeLeftovers removes what interrupted runs left: temporary files in
// the directory, and the temporary directories beside it of egmc before
// v0.2 (.<name>.egmc-*, which replaced the whole directory).
func removeLeftovers(dir, real string, dirs []string) {
	for _, sub := range dirs {
		old, _ := filepath.Glob(filepath.Join(real, filepath.FromSlash(sub), tmpPattern))
		for _, p := range old {
			os.Remove(p)
		}
	}
	base := filepath.Base(filepath.Clean(dir))
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return
	}
	beside, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Clean(dir)), "."+base+".egmc-*"))
	for _, p := range beside {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			os.RemoveAll(p)
		}
	}
}

// writeTemp writes f to a temporary file in its directory under dir,
// with the mode of the file it will replace, synced, and returns its path.
func writeTemp(dir string, f File) (string, error) {
	mode := os.FileMode(0o644)
	target := filepath.Join(dir, filepath.FromSlash(f.Name))
	if fi, err := os.Lstat(target); err == nil {
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%s is not a regular file: egmc writes its output there; move it away", target)
		}
		mode = fi.Mode().Perm()
	}
	t, err := createTemp(filepath.Dir(target), mode)
	if err != nil {
		return "", err
	}
	if err := track(t.Name()); err != nil {
		t.Close()
		os.Remove(t.Name())
		return "", err
	}
	_, err = t.Write(f.Data)
	if err == nil {
		err = t.Sync()
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err == nil && mode != 0o644 {
		err = os.Chmod(t.Name(), mode) // the replaced file's own mode, umask or not
	}
	if err != nil {
		os.Remove(t.Name())
		untrack(t.Name())
		return "", err
	}
	return t.Name(), nil
}

// createTemp creates a new temporary file in dir, with mode less the
// umask (os.CreateTemp would make it 0600).
func createTemp(dir string, mode os.FileMode) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, strings.Replace(tmpPattern, "*", strconv.FormatUint(rand.Uint64(), 36), 1))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
		if !os.IsExist(err) {
			return f, err
		}
	}
	return nil, fmt.Errorf("creating a temporary file in %s: too many tries", dir)
}

// staleFiles lists the files the owner lists that files does not hold
// and that the owner says egmc wrote.
func staleFiles(dir string, files []File, owner Owner) ([]string, error) {
	writing := map[string]bool{}
	for _, f := range files {
		writing[f.Name] = true
	}
	present, err := owner.Files(dir)
	if err != nil {
		return nil, err
	}
	var old []string
	for _, name := range present {
		if writing[name] {
			continue
		}
		head, err := readHead(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		if owner.Wrote(name, head) {
			old = append(old, name)
		}
	}
	sort.Strings(old)
	return old, nil
}

// readHead reads the first maxStale bytes of a file.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxStale))
}

// syncDirs syncs the directories egmc wrote in, and removes those of
// its subdirectories that removing stale files left empty.
func syncDirs(dir string, dirs []string) error {
	for _, sub := range dirs {
		p := filepath.Join(dir, filepath.FromSlash(sub))
		if sub != "." {
			fi, lerr := os.Lstat(p)
			if entries, err := os.ReadDir(p); lerr == nil && fi.IsDir() && err == nil && len(entries) == 0 {
				os.Remove(p)
				continue
			}
		}
		if err := syncDir(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
