// Package module compiles egmc's embedded CUE module: the schema package
// (the #Intent schema, its checks and the rule catalogue) and the profile
// packages, each once, as a compile asks for them. The stages after load
// read it: unify resolves an intent against #Intent and places the
// checks' problems with the catalogue's severities; generate evaluates a
// profile route by route; lint runs #ManifestCheck over manifests.
package module

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueload "cuelang.org/go/cue/load"
	"cuelang.org/go/cue/token"

	"egmc.dev/egmc/compiler/diag"

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

// Intent returns #Intent, the schema of an intent.
func (s *Schema) Intent() cue.Value { return s.intent }

// Check returns #Check, every check of a whole intent.
func (s *Schema) Check() cue.Value { return s.check }

// Route returns #Route, the schema of one route.
func (s *Schema) Route() cue.Value { return s.route }

// GlobalChecks returns #GlobalChecks, the checks of the intent without
// its routes.
func (s *Schema) GlobalChecks() cue.Value { return s.global }

// RouteChecks returns #RouteChecks, the checks of one route.
func (s *Schema) RouteChecks() cue.Value { return s.routeChecks }

// Claim returns #Claim, what one route claims (names, matches) for the
// checks across routes.
func (s *Schema) Claim() cue.Value { return s.claim }

// CrossChecks returns #CrossChecks, the checks across the routes' claims.
func (s *Schema) CrossChecks() cue.Value { return s.cross }

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
		if !it.Selector().IsString() || HasDefault(f) {
			continue
		}
		if f.IncompleteKind() == cue.StructKind && len(Required(f)) == 0 {
			continue
		}
		out = append(out, it.Selector().Unquoted())
	}
	return out
}

// HasDefault tells whether a schema field is written with a default
// (a "*" disjunct).
func HasDefault(v cue.Value) bool {
	f, ok := v.Source().(*ast.Field)
	if !ok {
		return false
	}
	var marked func(x ast.Expr) bool
	marked = func(x ast.Expr) bool {
		switch x := x.(type) {
		case *ast.UnaryExpr:
			return x.Op == token.MUL
		case *ast.BinaryExpr:
			return x.Op == token.OR && (marked(x.X) || marked(x.Y))
		case *ast.ParenExpr:
			return marked(x.X)
		}
		return false
	}
	return marked(f.Value)
}

// Problem is one problem a check of the schema reports (#Problem): the
// path of the field it is about, its message and its rule.
type Problem struct {
	Path    []any  `json:"path"`
	Message string `json:"message"`
	Rule    string `json:"rule"`
}

// Finding is the diagnostic of a rule's finding at pos: an error, or a
// warning when the catalogue gives the rule that severity.
func (s *Schema) Finding(pos token.Position, rule, message string) diag.Diagnostic {
	d := diag.At(pos, diag.Error, message)
	if r, ok := s.rules[rule]; ok {
		d.Rule = r.ID
		if r.Severity == "warning" {
			d.Severity = diag.Warning
		}
	}
	return d
}

// HasError tells whether one of the problems is an error (its rule is not
// a warning in the catalogue).
func (s *Schema) HasError(problems []Problem) bool {
	for _, p := range problems {
		if r, ok := s.rules[p.Rule]; !ok || r.Severity != "warning" {
			return true
		}
	}
	return false
}

// Selectors turns the path of a Problem (of #Check or #ManifestCheck)
// into CUE selectors: strings select fields, numbers list elements.
func Selectors(path []any) []cue.Selector {
	sels := make([]cue.Selector, 0, len(path))
	for _, p := range path {
		if s, ok := p.(string); ok {
			sels = append(sels, cue.Str(s))
			continue
		}
		if i, err := strconv.Atoi(fmt.Sprint(p)); err == nil {
			sels = append(sels, cue.Index(i))
		}
	}
	return sels
}
