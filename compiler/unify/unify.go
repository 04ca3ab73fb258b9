package unify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"

	"egmc.dev/egmc/compiler/cache"
	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/order"
)

// Result is an intent unified with the schema and its profile.
type Result struct {
	// Name is the intent's metadata.name.
	Name string
	// Profile names the profile that generated the output.
	Profile string
	// Out is the output of the profile's global part (its own objects,
	// the Helm values, the runbook and the explanation).
	Out cue.Value
	// Phases are the apply phases, in order.
	Phases []order.Phase
	// Objects are all the objects, encoded, in apply order.
	Objects []*order.Object
	// Warnings are the rule findings that do not fail the build.
	Warnings diag.List
}

var (
	intentPath  = cue.ParsePath("intent")
	problemPath = cue.ParsePath("problems")
	checksPath  = cue.ParsePath("checks")
	profilePath = cue.ParsePath("spec.mesh.#profile")
	outPath     = cue.ParsePath("out")
	// modelPath is where the compiler fills in a profile's model: its
	// #Env and #Facts.
	modelPath = cue.ParsePath("model")
)

// Options say how Unify evaluates a valid intent.
type Options struct {
	// Cache, when not nil, holds the results of earlier evaluations: a
	// route or a reduce key evaluated before with the same inputs is
	// read from it instead of evaluated.
	Cache *cache.Cache
	// Check validates the objects of each route and reduce key against
	// the pinned schemas of their kinds on the worker that generates them
	// (order.Object.Checked), so that a cached result is a validated one.
	// The profile's global objects are left to the caller.
	Check bool
	// Runbook: the caller reads the runbook, so the route generators
	// give the notes only it reads (#RouteGen's runbook). Without it
	// the runbook is still evaluated (it is part of the profile's global
	// value) but lacks them, and must not be read.
	Runbook bool
}

// Unify resolves the intent against the schema, runs the schema's checks
// and evaluates the selected profile. A user mistake is returned as a
// diag.List; a fault in egmc's own CUE as a *diag.Internal. When ctx is
// done, it stops between routes with ctx's error.
func (s *Schema) Unify(ctx context.Context, in *load.Intent, opts Options) (*Result, error) {
	user := cuecontext.New().BuildFile(in.File)
	loc := &locator{file: in.File, user: user}
	if err := user.Err(); err != nil {
		return nil, loc.diagnostics(loc.findings(err), s.intent)
	}
	if d := tooManyRoutes(user, loc); d != nil {
		return nil, d
	}
	if err := user.Validate(); err != nil {
		return nil, loc.diagnostics(loc.findings(err), s.intent)
	}
	if j, err := user.MarshalJSON(); err == nil {
		g, err := s.generateJSON(ctx, j, opts)
		if err != errUnresolved {
			return s.finish(g, err, loc)
		}
	}
	// The intent does not resolve: resolve it whole, with the user's
	// positions, for the messages.
	resolved := s.intent.Unify(user)
	if err := resolved.Validate(cue.Concrete(true)); err != nil {
		found := loc.dropDerived(append(loc.findings(err), loc.complete(s.intent, resolved)...), s.intent)
		d := append(loc.diagnostics(found, s.intent), s.partialProblems(resolved, loc, found)...)
		return nil, d.Sort()
	}
	if d := s.problems(resolved, loc); d.HasErrors() {
		return nil, d
	}
	// It resolves whole where its own JSON did not: a value only the
	// schema's defaults make concrete. Generate from the resolved intent.
	j, err := resolved.MarshalJSON()
	if err != nil {
		return nil, diag.Internalf("encoding the resolved intent: %v", err)
	}
	g, err := s.generateJSON(ctx, j, opts)
	if err == errUnresolved {
		return nil, diag.Internalf("the resolved intent does not resolve route by route")
	}
	return s.finish(g, err, loc)
}

// finish places the problems of a generated intent in the user's file:
// errors fail it, warnings come with the result.
func (s *Schema) finish(g *generated, err error, loc *locator) (*Result, error) {
	if err != nil {
		return nil, err
	}
	var d diag.List
	for _, p := range g.problems {
		d = append(d, s.diagnostic(p, loc))
	}
	d = d.Sort()
	if d.HasErrors() {
		return nil, d
	}
	g.result.Warnings = d
	return g.result, nil
}

// MaxRoutes is the most routes egmc compiles in one intent. Compiling
// costs about 4 ms of CPU per route, and the end of a build holds the
// profile's global part, about 60 MiB per 1000 routes
// (docs/performance.md): 5000 routes take some 25 s and 450 MiB, so a
// larger intent is refused before the schema sees it, within bounded time
// and memory, rather than run a small machine or an Argo CD sidecar out
// of memory.
const MaxRoutes = 5000

var routesPath = cue.ParsePath("spec.routes")

// tooManyRoutes refuses an intent with more than MaxRoutes routes.
func tooManyRoutes(user cue.Value, loc *locator) diag.List {
	n, err := user.LookupPath(routesPath).Len().Int64()
	if err != nil || n <= MaxRoutes {
		return nil
	}
	pos := loc.position([]cue.Selector{cue.Str("spec"), cue.Str("routes")})
	return diag.List{diag.At(pos, diag.Error, fmt.Sprintf("spec.routes holds %d routes; egmc compiles at most %d per intent: split them over several intents (one per Gateway or team)", n, MaxRoutes))}
}

// Problem is one result of the schema's #Check.
type Problem struct {
	Path    []any  `json:"path"`
	Message string `json:"message"`
	Rule    string `json:"rule"`
}

// diagnostic places a problem in the user's file, with its rule's
// severity.
func (s *Schema) diagnostic(p Problem, loc *locator) diag.Diagnostic {
	return s.Finding(loc.position(Selectors(p.Path)), p.Rule, p.Message)
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

// problems runs the whole #Check on the resolved intent.
func (s *Schema) problems(resolved cue.Value, loc *locator) diag.List {
	v := s.check.FillPath(intentPath, resolved).LookupPath(problemPath)
	var problems []Problem
	err := v.Validate(cue.Concrete(true))
	if err == nil {
		err = v.Decode(&problems)
	}
	if err != nil {
		return diag.List{{Filename: loc.file.Filename, Message: (&diag.Internal{Err: fmt.Errorf("schema checks: %w", err)}).Error()}}
	}
	var l diag.List
	for _, p := range problems {
		l = append(l, s.diagnostic(p, loc))
	}
	return l.Sort()
}

// partialProblems runs the checks that can run on an intent with field
// errors, check by check, and returns their problems except those about
// a field that already has an error (or a field above or below it).
func (s *Schema) partialProblems(resolved cue.Value, loc *locator, found []finding) diag.List {
	bad := make([]string, len(found))
	for i, f := range found {
		bad[i] = pathString(f.path)
	}
	related := func(p string) bool {
		for _, b := range bad {
			if within(p, b) || within(b, p) {
				return true
			}
		}
		return false
	}
	it, err := s.check.FillPath(intentPath, resolved).LookupPath(checksPath).Fields()
	if err != nil {
		return nil
	}
	var l diag.List
	for it.Next() {
		var problems []Problem
		if it.Value().Decode(&problems) != nil {
			continue // the check reads a field that has an error
		}
		for _, p := range problems {
			if !related(pathString(Selectors(p.Path))) {
				l = append(l, s.diagnostic(p, loc))
			}
		}
	}
	return l
}

// within tells whether path p is b or below it.
func within(p, b string) bool {
	return p == b || strings.HasPrefix(p, b+".") || strings.HasPrefix(p, b+"[")
}

// Selectors turns the path of a #Problem (of #Check or #ManifestCheck)
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
