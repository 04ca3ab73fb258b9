// Package unify is the second stage of the compiler: it unifies a parsed
// intent with the embedded #Intent schema (types, defaults, closedness),
// runs the schema's cross-field checks (#Check), and evaluates the profile
// the intent selects. Every problem becomes a diagnostic at a position in
// the user's file.
package unify

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueload "cuelang.org/go/cue/load"

	"egmc.dev/egmc/profiles"
	"egmc.dev/egmc/schema"
)

// root is the virtual directory the embedded CUE module is loaded from;
// it keeps positions in schema and profile files machine-independent.
const root = "/egmc"

// moduleFile is cue.mod/module.cue of the embedded module (the repository
// root holds the same file for the cue command).
const moduleFile = `module: "egmc.dev/egmc@v0"
language: {
	version: "v0.17.0"
}
`

// Schema is the compiled schema, and the profiles compiled as intents ask
// for them. It is built once per process and safe for concurrent use.
type Schema struct {
	intent  cue.Value
	check   cue.Value
	overlay map[string]cueload.Source

	mu       sync.Mutex
	profiles map[string]*profile
}

type profile struct {
	once  sync.Once
	value cue.Value
	err   error
}

// Load returns the process-wide Schema, compiling it on first use.
var Load = sync.OnceValues(compile)

// compile loads the embedded schema package.
func compile() (*Schema, error) {
	overlay, err := overlayOf()
	if err != nil {
		return nil, err
	}
	v, err := build(overlay, "./schema")
	if err != nil {
		return nil, err
	}
	return &Schema{
		intent:   v.LookupPath(cue.ParsePath("#Intent")),
		check:    v.LookupPath(cue.ParsePath("#Check")),
		overlay:  overlay,
		profiles: map[string]*profile{},
	}, nil
}

// build compiles one package of the embedded module.
func build(overlay map[string]cueload.Source, dir string) (cue.Value, error) {
	cfg := &cueload.Config{Dir: root, ModuleRoot: root, Overlay: overlay}
	insts := cueload.Instances([]string{dir}, cfg)
	v := cuecontext.New().BuildInstance(insts[0])
	if err := v.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("compiling the embedded CUE package %s: %w", dir, err)
	}
	return v, nil
}

// Profile returns the compiled profile package of the given name (a
// directory of profiles/), compiling it on first use.
func (s *Schema) Profile(name string) (cue.Value, error) {
	s.mu.Lock()
	p := s.profiles[name]
	if p == nil {
		p = &profile{}
		s.profiles[name] = p
	}
	s.mu.Unlock()
	p.once.Do(func() {
		if _, err := fs.Stat(profiles.FS, name+"/profile.cue"); err != nil {
			p.err = fmt.Errorf("no profile %q", name)
			return
		}
		p.value, p.err = build(s.overlay, "./profiles/"+name)
	})
	return p.value, p.err
}

// overlayOf maps the embedded CUE files to paths under root.
func overlayOf() (map[string]cueload.Source, error) {
	overlay := map[string]cueload.Source{
		path.Join(root, "cue.mod/module.cue"): cueload.FromString(moduleFile),
	}
	add := func(fsys fs.FS, dir string) error {
		return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cue") {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			overlay[path.Join(root, dir, p)] = cueload.FromBytes(b)
			return nil
		})
	}
	if err := add(schema.FS, "schema"); err != nil {
		return nil, err
	}
	if err := add(profiles.FS, "profiles"); err != nil {
		return nil, err
	}
	return overlay, nil
}

// Intent returns the #Intent definition.
func (s *Schema) Intent() cue.Value { return s.intent }
