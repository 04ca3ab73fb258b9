// Package unify is the second stage of the compiler: it resolves a parsed
// intent against the embedded #Intent schema (types, defaults,
// closedness), runs the schema's checks, and evaluates the profile the
// intent selects, route by route (generate.go). Every problem becomes a
// diagnostic at a position in the user's file.
package unify

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
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

// Embedded is egmc's embedded CUE module, compiled as it is asked for:
// the schema package once, each profile package once. A compiler owns one
// for its life (there is no process-wide cache); it is safe for concurrent
// use.
type Embedded struct {
	overlay  func() (map[string]cueload.Source, error)
	schema   func() (*Schema, error)
	profiles sync.Map // name -> *profile
}

// NewEmbedded returns the embedded module, nothing compiled yet.
func NewEmbedded() *Embedded {
	e := &Embedded{overlay: sync.OnceValues(overlayOf)}
	e.schema = sync.OnceValues(e.compileSchema)
	return e
}

// Schema is the compiled schema package, and the profiles compiled as
// intents ask for them. It is safe for concurrent use.
type Schema struct {
	embedded *Embedded
	root     cue.Value
	intent   cue.Value
	check    cue.Value
	// route is #Route; global, routeChecks, claim and cross are the parts
	// of #Check the compiler runs route by route.
	route       cue.Value
	global      cue.Value
	routeChecks cue.Value
	claim       cue.Value
	cross       cue.Value
	// manifests is #ManifestCheck, the rules for the user's own objects.
	manifests cue.Value
	rules     map[string]Rule
}

// profile is one profile package, compiled once.
type profile struct {
	once  sync.Once
	value cue.Value
	err   error
}

// Schema returns the compiled schema package, compiling it on first use.
func (e *Embedded) Schema() (*Schema, error) { return e.schema() }

// compileSchema loads the embedded schema package.
func (e *Embedded) compileSchema() (*Schema, error) {
	ov, err := e.overlay()
	if err != nil {
		return nil, err
	}
	v, err := build(ov, "./schema")
	if err != nil {
		return nil, err
	}
	var rules map[string]Rule
	if err := v.LookupPath(cue.ParsePath("rules")).Decode(&rules); err != nil {
		return nil, fmt.Errorf("reading the rule catalogue: %w", err)
	}
	return &Schema{
		embedded:    e,
		root:        v,
		intent:      v.LookupPath(cue.ParsePath("#Intent")),
		check:       v.LookupPath(cue.ParsePath("#Check")),
		route:       v.LookupPath(cue.ParsePath("#Route")),
		global:      v.LookupPath(cue.ParsePath("#GlobalChecks")),
		routeChecks: v.LookupPath(cue.ParsePath("#RouteChecks")),
		claim:       v.LookupPath(cue.ParsePath("#Claim")),
		cross:       v.LookupPath(cue.ParsePath("#CrossChecks")),
		manifests:   v.LookupPath(cue.ParsePath("#ManifestCheck")),
		rules:       rules,
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
	return s.embedded.Profile(name)
}

// Profile compiles a profile once. Profiles are built in their own
// context, independently of the schema value, so one can compile while
// the schema does (see Prefetch).
func (e *Embedded) Profile(name string) (cue.Value, error) {
	if !isProfile(name) {
		return cue.Value{}, fmt.Errorf("no profile %q", name)
	}
	v, _ := e.profiles.LoadOrStore(name, &profile{})
	p := v.(*profile)
	p.once.Do(func() {
		ov, err := e.overlay()
		if err != nil {
			p.err = err
			return
		}
		p.value, p.err = build(ov, "./profiles/"+name)
	})
	return p.value, p.err
}

// isProfile tells whether profiles/<name> is a profile package.
func isProfile(name string) bool {
	if name == "" || strings.ContainsAny(name, "/.") {
		return false
	}
	_, err := fs.Stat(profiles.FS, name+"/profile.cue")
	return err == nil
}

// Prefetch starts compiling the named profile in the background, when
// there is such a profile, so that it compiles on another CPU while the
// schema compiles and the intent is resolved. It only warms e: the
// profile an intent gets is always the one the schema selects.
func (e *Embedded) Prefetch(name string) {
	if isProfile(name) {
		go e.Profile(name)
	}
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

// Rule is one rule of the catalogue (schema/rules.cue).
type Rule struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	// Checks is "intent", "manifest" or "applied".
	Checks  string `json:"checks"`
	Title   string `json:"title"`
	Why     string `json:"why"`
	Source  string `json:"source"`
	Fix     string `json:"fix"`
	Retired bool   `json:"retired"`
}

// Rules returns the catalogue, sorted by id.
func (s *Schema) Rules() []Rule {
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Rule returns the rule with the given id.
func (s *Schema) Rule(id string) (Rule, bool) {
	r, ok := s.rules[id]
	return r, ok
}

// ManifestCheck returns #ManifestCheck, the manifest rules.
func (s *Schema) ManifestCheck() cue.Value { return s.manifests }

// Definition returns a definition of the schema package, e.g. "#Route".
func (s *Schema) Definition(name string) cue.Value {
	return s.root.LookupPath(cue.ParsePath(name))
}

// Required lists the fields of a schema struct that an intent must write:
// regular fields without a default, whose value is not a struct whose own
// fields all have defaults.
func Required(v cue.Value) []string {
	it, err := v.Fields()
	if err != nil {
		return nil
	}
	var out []string
	for it.Next() {
		f := it.Value()
		if !it.Selector().IsString() || hasDefault(f) {
			continue
		}
		if f.IncompleteKind() == cue.StructKind && len(Required(f)) == 0 {
			continue
		}
		out = append(out, it.Selector().Unquoted())
	}
	return out
}

// Intent returns the #Intent definition.
func (s *Schema) Intent() cue.Value { return s.intent }
