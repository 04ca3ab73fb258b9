// Package unify is the second stage of the compiler: it resolves a parsed
// intent against the embedded #Intent schema (types, defaults,
// closedness), hands the resolved intent to the generate stage, and
// places every problem in the user's file: a CUE error or a check's
// problem becomes a diagnostic at the position of the field it is about,
// with the rule catalogue's severity. An intent that does not resolve
// route by route is resolved whole, with the user's positions, so that
// every message points into the user's file.
package unify

import (
	"context"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/generate"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/compiler/sandbox"
)

// Result is an intent unified with the schema and evaluated by its
// profile, with the warnings of its checks.
type Result struct {
	*generate.Result
	// Warnings are the rule findings that do not fail the build.
	Warnings diag.List
}

var (
	intentPath  = cue.ParsePath("intent")
	problemPath = cue.ParsePath("problems")
	checksPath  = cue.ParsePath("checks")
)

// Unify resolves the intent against the schema, runs the schema's checks
// and evaluates the selected profile. A user mistake is returned as a
// diag.List; a fault in egmc's own CUE as a *diag.Internal. When ctx is
// done, it stops between routes with ctx's error.
func Unify(ctx context.Context, s *module.Schema, in *load.Intent, opts Options) (*Result, error) {
	lim := opts.limits()
	if in.Format == load.CUE {
		// the author's own CUE may compute without bound: prove that it
		// finishes, in a child process, before evaluating it here.
		if err := sandbox.Check(ctx, in.Filename, in.Source, sandbox.Default); err != nil {
			return nil, err
		}
	}
	user := cuecontext.New().BuildFile(in.File)
	loc := &locator{file: in.File, user: user}
	if err := user.Err(); err != nil {
		return nil, loc.diagnostics(loc.findings(err), s.Intent())
	}
	if d := tooManyRoutes(user, loc, lim.routes); d != nil {
		return nil, d
	}
	if err := user.Validate(); err != nil {
		return nil, loc.diagnostics(loc.findings(err), s.Intent())
	}
	if j, err := user.MarshalJSON(); err == nil {
		if d := checkShape(j, loc, lim); d != nil {
			return nil, d
		}
		res, problems, err := generate.Generate(ctx, s, j, opts.Options)
		if err != generate.ErrUnresolved {
			return finish(s, res, problems, err, loc)
		}
	}
	// The intent does not resolve: resolve it whole, with the user's
	// positions, for the messages.
	if d := checkBounds(user, s.Intent(), loc); d != nil {
		return nil, d
	}
	resolved := s.Intent().Unify(user)
	if err := resolved.Validate(cue.Concrete(true)); err != nil {
		found := loc.dropDerived(append(loc.findings(err), loc.complete(s.Intent(), resolved)...), s.Intent())
		d := append(loc.diagnostics(found, s.Intent()), partialProblems(s, resolved, loc, found)...)
		return nil, d.Sort()
	}
	if d := checkWhole(s, resolved, loc); d.HasErrors() {
		return nil, d
	}
	// It resolves whole where its own JSON did not: a value only the
	// schema's defaults make concrete. Generate from the resolved intent.
	j, err := resolved.MarshalJSON()
	if err != nil {
		return nil, diag.Internalf("encoding the resolved intent: %v", err)
	}
	res, problems, err := generate.Generate(ctx, s, j, opts.Options)
	if err == generate.ErrUnresolved {
		return nil, diag.Internalf("the resolved intent does not resolve route by route")
	}
	return finish(s, res, problems, err, loc)
}

// finish places the problems of a generated intent in the user's file:
// errors fail it, warnings come with the result.
func finish(s *module.Schema, res *generate.Result, problems []module.Problem, err error, loc *locator) (*Result, error) {
	if err != nil {
		return nil, err
	}
	var d diag.List
	for _, p := range problems {
		d = append(d, diagnostic(s, p, loc))
	}
	d = d.Sort()
	if d.HasErrors() {
		return nil, d
	}
	return &Result{Result: res, Warnings: d}, nil
}

// DefaultMaxRoutes is the most routes egmc compiles in one intent unless
// told otherwise (Options.MaxRoutes). It keeps every intent within about
// 10 s and 300 MiB on 2 cores: compiling costs 5 to 8 ms of CPU per route
// (docs/performance.md), and 1000 routes of every feature (four
// hostnames each over 2000, rewrite, timeout, retries, rate limit, JWT)
// take 7.5 s.
const DefaultMaxRoutes = 1000

// CeilingRoutes is the most routes any setting lets egmc compile: 5000
// routes take some 25 s and 450 MiB; beyond, memory grows with the
// profile's global part.
const CeilingRoutes = 5000

// Options are the options of Unify.
type Options struct {
	generate.Options
	// MaxRoutes is the most routes of an intent, at most CeilingRoutes;
	// 0 means DefaultMaxRoutes. The hostname bounds follow it: at most
	// 2 * MaxRoutes distinct route hostnames, 4 * MaxRoutes in all.
	MaxRoutes int
}

// limits are the size bounds of an intent that follow Options.MaxRoutes.
type limits struct {
	routes         int
	hostnames      int // distinct route hostnames
	routeHostnames int // route hostnames, counted once per route
}

func (o Options) limits() limits {
	n := o.MaxRoutes
	if n <= 0 {
		n = DefaultMaxRoutes
	}
	n = min(n, CeilingRoutes)
	return limits{routes: n, hostnames: 2 * n, routeHostnames: 4 * n}
}

var routesPath = cue.ParsePath("spec.routes")

// tooManyRoutes refuses an intent with more routes than max.
func tooManyRoutes(user cue.Value, loc *locator, max int) diag.List {
	n, err := user.LookupPath(routesPath).Len().Int64()
	if err != nil || n <= int64(max) {
		return nil
	}
	pos := loc.position([]cue.Selector{cue.Str("spec"), cue.Str("routes")})
	return diag.List{diag.At(pos, diag.Error, fmt.Sprintf("spec.routes holds %d routes; egmc compiles at most %d per intent%s: split them over several intents (one per Gateway or team)", n, max, raiseHint(max)))}
}

// raiseHint says how to allow more routes, when it can be done.
func raiseHint(max int) string {
	if max >= CeilingRoutes {
		return ""
	}
	return fmt.Sprintf(" (the one running egmc may allow up to %d with --max-routes, at about 5 ms per route)", CeilingRoutes)
}

// diagnostic places a problem in the user's file, with its rule's
// severity.
func diagnostic(s *module.Schema, p module.Problem, loc *locator) diag.Diagnostic {
	return s.Finding(loc.position(module.Selectors(p.Path)), p.Rule, p.Message)
}

// checkWhole runs the whole #Check on the resolved intent.
func checkWhole(s *module.Schema, resolved cue.Value, loc *locator) diag.List {
	v := s.Check().FillPath(intentPath, resolved).LookupPath(problemPath)
	var problems []module.Problem
	err := v.Validate(cue.Concrete(true))
	if err == nil {
		err = v.Decode(&problems)
	}
	if err != nil {
		return diag.List{{Filename: loc.file.Filename, Message: (&diag.Internal{Err: fmt.Errorf("schema checks: %w", err)}).Error()}}
	}
	var l diag.List
	for _, p := range problems {
		l = append(l, diagnostic(s, p, loc))
	}
	return l.Sort()
}

// partialProblems runs the checks that can run on an intent with field
// errors, check by check, and returns their problems except those about
// a field that already has an error (or a field above or below it).
func partialProblems(s *module.Schema, resolved cue.Value, loc *locator, found []finding) diag.List {
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
	it, err := s.Check().FillPath(intentPath, resolved).LookupPath(checksPath).Fields()
	if err != nil {
		return nil
	}
	var l diag.List
	for it.Next() {
		var problems []module.Problem
		if it.Value().Decode(&problems) != nil {
			continue // the check reads a field that has an error
		}
		for _, p := range problems {
			if !related(pathString(module.Selectors(p.Path))) {
				l = append(l, diagnostic(s, p, loc))
			}
		}
	}
	return l
}

// within tells whether path p is b or below it.
func within(p, b string) bool {
	return p == b || strings.HasPrefix(p, b+".") || strings.HasPrefix(p, b+"[")
}
