// Package cache is egmc's content-addressed cache of compile results, in
// the manner of Go's build cache: a result is stored under the SHA-256 of
// everything that determines it (the egmc build, the profile, the intent
// without its routes, one route and its index), so an unchanged route is
// never evaluated twice, across processes: an Argo CD refresh or a
// pre-commit run of an unchanged or one-route-changed intent evaluates
// only what changed.
//
// An entry is one file, written to a temporary file and renamed into
// place, so a reader never sees half an entry. Each entry carries the
// SHA-256 of its data, checked on every read: a corrupt or truncated
// entry is a miss (and is removed), never a result. The cache is bounded:
// when it has grown past its size limit, the least recently used entries
// are removed (checked at most once an hour, by the first process that
// writes).
package cache

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxBytes bounds the cache's size unless the caller sets another
// bound.
const DefaultMaxBytes = 256 << 20

// magic starts every entry; a change of the entry format changes it.
const magic = "egmc-cache-v1\n"

// A Key names an entry: the SHA-256 of its inputs.
type Key [sha256.Size]byte

// NewKey hashes parts into a key. Each part is length-prefixed, so no two
// different lists of parts give the same stream of bytes.
func NewKey(parts ...[]byte) Key {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// String is the key in hexadecimal.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Cache is a cache directory. Its methods are safe for concurrent use,
// by goroutines and by processes sharing the directory.
type Cache struct {
	dir      string
	maxBytes int64
	// hits and misses count Get's answers, for tests and benchmarks.
	hits, misses atomic.Int64
	trimOnce     sync.Once
}

// Open opens (creating it when needed) the cache directory dir, bounded
// to maxBytes (DefaultMaxBytes when 0).
func Open(dir string, maxBytes int64) (*Cache, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Cache{dir: dir, maxBytes: maxBytes}, nil
}

// Default opens the cache the environment names: $EGMC_CACHE, or egmc/
// under the user's cache directory. EGMC_CACHE=off turns the cache off: it
// returns nil, nil.
func Default() (*Cache, error) {
	dir := os.Getenv("EGMC_CACHE")
	switch dir {
	case "off":
		return nil, nil
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(base, "egmc")
	}
	return Open(dir, 0)
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Stats returns how many Gets hit and missed.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// path is the file of an entry: two levels, as Go's cache.
func (c *Cache) path(k Key) string {
	s := k.String()
	return filepath.Join(c.dir, s[:2], s)
}

// Get returns the data stored under k. A missing, unreadable or corrupt
// entry is a miss; a corrupt one is removed.
func (c *Cache) Get(k Key) ([]byte, bool) {
	p := c.path(k)
	b, err := os.ReadFile(p)
	if err != nil {
		c.misses.Add(1)
		return nil, false
	}
	data, ok := decode(b)
	if !ok {
		os.Remove(p)
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	c.touch(p)
	return data, true
}

// touch marks an entry used, at most once an hour, for the trim's
// least-recently-used order.
func (c *Cache) touch(p string) {
	now := time.Now()
	if fi, err := os.Stat(p); err == nil && now.Sub(fi.ModTime()) > time.Hour {
		os.Chtimes(p, now, now)
	}
}

// trimEvery is how often, at most, a process walks the cache to trim it:
// a walk costs a stat per entry, too much for every build.
const trimEvery = time.Hour

// Put stores data under k atomically. The first Put of a process trims
// the cache when no process has trimmed it for trimEvery (so the cache
// can outgrow its bound by what an hour of builds writes).
func (c *Cache) Put(k Key, data []byte) error {
	c.trimOnce.Do(c.maybeTrim)
	p := c.path(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(encode(data))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// maybeTrim trims the cache when its trim stamp (the file trim.txt) is
// older than trimEvery or missing, and renews the stamp.
func (c *Cache) maybeTrim() {
	stamp := filepath.Join(c.dir, "trim.txt")
	if fi, err := os.Stat(stamp); err == nil && time.Since(fi.ModTime()) < trimEvery {
		return
	}
	if err := os.WriteFile(stamp, nil, 0o644); err != nil {
		return
	}
	c.Trim()
}

// encode is an entry's file: the magic line, the hex SHA-256 of data and
// a newline, then data.
func encode(data []byte) []byte {
	sum := sha256.Sum256(data)
	b := make([]byte, 0, len(magic)+2*len(sum)+1+len(data))
	b = append(b, magic...)
	b = hex.AppendEncode(b, sum[:])
	b = append(b, '\n')
	return append(b, data...)
}

// decode checks an entry's file and returns its data.
func decode(b []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(magic))
	if !ok || len(rest) < 2*sha256.Size+1 || rest[2*sha256.Size] != '\n' {
		return nil, false
	}
	var sum [sha256.Size]byte
	if _, err := hex.Decode(sum[:], rest[:2*sha256.Size]); err != nil {
		return nil, false
	}
	data := rest[2*sha256.Size+1:]
	if sha256.Sum256(data) != sum {
		return nil, false
	}
	return data, true
}

// Trim removes the least recently used entries, and temporary files left
// by interrupted writes, until the cache holds at most three quarters of
// its bound; it does nothing while the cache is within its bound.
func (c *Cache) Trim() error {
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var entries []entry
	var total int64
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if p == filepath.Join(c.dir, "trim.txt") {
			return nil
		}
		if filepath.Base(p)[0] == '.' && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(p) // an interrupted write's temporary file
			return nil
		}
		entries = append(entries, entry{p, fi.Size(), fi.ModTime()})
		total += fi.Size()
		return nil
	})
	if err != nil {
		return fmt.Errorf("trimming the cache %s: %w", c.dir, err)
	}
	if total <= c.maxBytes {
		return nil
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.used.Compare(b.used) })
	for _, e := range entries {
		if total <= c.maxBytes/4*3 {
			break
		}
		if os.Remove(e.path) == nil {
			total -= e.size
		}
	}
	return nil
}

// BuildID identifies the running egmc build for cache keys: the VCS
// revision it was built from when the tree was clean; else the Go build
// ID the linker wrote into the executable (a hash of its content), read
// from its ELF note; else the SHA-256 of the executable. A development
// build's revision does not say what it contains, so it is never the key
// of one. An empty ID means the build cannot be identified, and a caller
// must not cache.
var BuildID = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev string
		modified := true
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value != "false"
			}
		}
		if rev != "" && !modified {
			return "vcs:" + rev + ":" + bi.GoVersion
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if id := goBuildID(exe); id != "" {
		return "go:" + id
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return fmt.Sprintf("exe:%x", h.Sum(nil))
})

// goBuildID reads the Go build ID of an ELF executable from its
// .note.go.buildid section (a note of type 4 named "Go"), or returns "".
func goBuildID(exe string) string {
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	order := f.ByteOrder
	nameSize, descSize, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
	name := (nameSize + 3) &^ 3
	if typ != 4 || nameSize != 4 || string(data[12:14]) != "Go" || uint64(12+name)+uint64(descSize) > uint64(len(data)) {
		return ""
	}
	return string(data[12+name : 12+name+descSize])
}
