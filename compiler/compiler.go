// Package compiler turns an egmc intent into ordered, deterministic
// Kubernetes manifests, Helm values, a runbook and an explanation.
//
// A Compiler (New) is the one front door: egmc build, lint, diff, explain
// and the Argo CD plugin call its Compile with Options that say which
// outputs they need; what is not asked for is not read. It owns the
// embedded schema and profiles, compiled on first use.
//
// The data flows through these stages, each but check a small package:
//
//	load      reads the intent file (CUE or YAML) into CUE syntax that
//	          keeps the user's positions, and refuses input that is not a
//	          hermetic intent.
//	module    compiles the embedded CUE module once per Compiler: the
//	          schema (schema/: #Intent, its checks, the rule catalogue)
//	          and each profile (profiles/<name>) an intent selects.
//	unify     resolves the intent against #Intent, which fills the
//	          defaults and rejects unknown fields and bad values, and
//	          places every problem of the schema's checks in the user's
//	          file with the catalogue's severity.
//	generate  evaluates the profile route by route: its #Env of the
//	          intent once, its #RouteGen per route on a few workers (each
//	          route's objects encoded as JSON at once), its #Reduce per
//	          group key, and its global part with the routes' #Facts. The
//	          profile decides every object, values file and runbook step
//	          in CUE. A route or reduce key evaluated before, with the
//	          same inputs and egmc build, is read from the Compiler's
//	          cache (compiler/cache) instead, already validated.
//	order     sorts all the objects by the documented rule (phase, kind
//	          rank, group|kind|namespace|name).
//	check     validates each object against the pinned CRD schema of its
//	          kind (not for lint): generate's workers validate the
//	          objects of the routes and reduce keys, this package the
//	          rest.
//	emit      prints the objects as one YAML stream, or writes an output
//	          directory atomically; the values, runbook and explanation
//	          are read from the profile's global part only when asked.
//
// User mistakes come back as a diag.List, each diagnostic at a position in
// the user's file; faults in egmc's own CUE as a *diag.Internal. Go never
// decides what to emit: that knowledge lives in the CUE of schema/ and
// profiles/.
package compiler

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"cuelang.org/go/cue"

	"egmc.dev/egmc/compiler/cache"
	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/emit"
	"egmc.dev/egmc/compiler/generate"
	"egmc.dev/egmc/compiler/layout"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/compiler/order"
	"egmc.dev/egmc/compiler/unify"
	"egmc.dev/egmc/compiler/validate"
)

// Result is a compiled intent.
type Result struct {
	// Profile names the profile that generated the output.
	Profile string
	// Phases are the apply phases, in order.
	Phases []order.Phase
	// Objects are the manifests in apply order.
	Objects []*order.Object
	// Values are the Helm values files (with Options.Files).
	Values []ValuesFile
	// Runbook is RUNBOOK.md as data (with Options.Files).
	Runbook *emit.Runbook
	// Explain says who owns each concern and how a request travels
	// (with Options.Explain).
	Explain *emit.Explain
	// Warnings are rule findings that do not fail the build.
	Warnings diag.List
}

// ValuesFile is one Helm values file of the output.
type ValuesFile struct {
	// File is the file name in an output directory.
	File string
	// Release names the Helm release and chart the values are for.
	Release string
	// YAML is the values as YAML.
	YAML []byte
}

// A Compiler compiles intents: the one front door of egmc build, lint,
// diff, explain and the Argo CD plugin. It owns the embedded schema and
// profiles, each compiled on first use and kept for the Compiler's life
// (no process-wide cache), and is safe for concurrent use: egmc lint
// compiles its files on one Compiler from several goroutines.
type Compiler struct {
	embedded  *module.Embedded
	cache     *cache.Cache
	maxRoutes int
}

// An Option configures a Compiler.
type Option func(*Compiler)

// WithCache makes the Compiler read and store per-route (and per reduce
// key) results in c; nil means no cache. Output is the same with or
// without it, byte for byte.
func WithCache(c *cache.Cache) Option {
	return func(cc *Compiler) { cc.cache = c }
}

// WithMaxRoutes lets the Compiler compile intents of up to n routes (and
// 2n distinct route hostnames, 4n in all), at most unify.CeilingRoutes;
// 0 means unify.DefaultMaxRoutes. A larger intent is refused at its
// spec.routes. The limit is the one running egmc's, not the intent
// author's: it bounds the time and memory an intent may take.
func WithMaxRoutes(n int) Option {
	return func(cc *Compiler) { cc.maxRoutes = n }
}

// SetMaxRoutes is WithMaxRoutes on a Compiler already made: the command
// line sets it from --max-routes before the command compiles anything.
// It must not be called during a compile.
func (c *Compiler) SetMaxRoutes(n int) { c.maxRoutes = n }

// New returns a Compiler; nothing is compiled until it is used.
func New(opts ...Option) *Compiler {
	c := &Compiler{embedded: module.NewEmbedded()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Options say what a compile produces besides the ordered objects and the
// warnings. What is not asked for is not read from the profile's global
// part, nor encoded; CUE still evaluates that part whole (FillPath
// finalizes every field of a value: docs/performance.md).
type Options struct {
	// Files: the Helm values files and RUNBOOK.md, for an output
	// directory (Result.Files, Result.WriteDir).
	Files bool
	// Explain: the explanation (Result.Explain).
	Explain bool
	// Lint: only what egmc lint needs, every user mistake and rule
	// finding and the ordered objects. The objects are not validated
	// against their CRD schemas: that checks egmc's profiles, not the
	// intent, and egmc build still does it.
	Lint bool
}

// Schema returns the compiled schema, compiling it on first use.
func (c *Compiler) Schema() (*module.Schema, error) {
	s, err := c.embedded.Schema()
	if err != nil {
		return nil, &diag.Internal{Err: err}
	}
	return s, nil
}

// CompileFile compiles the intent file at filename.
func (c *Compiler) CompileFile(ctx context.Context, filename string, opts Options) (*Result, error) {
	in, err := load.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	return c.Compile(ctx, in, opts)
}

// CompileBytes compiles src, the contents of filename (whose extension
// gives the format).
func (c *Compiler) CompileBytes(ctx context.Context, filename string, src []byte, opts Options) (*Result, error) {
	in, err := load.ParseBytes(filename, src)
	if err != nil {
		return nil, err
	}
	return c.Compile(ctx, in, opts)
}

// Compile compiles a parsed intent. It stops early, with ctx's error,
// when ctx is done.
func (c *Compiler) Compile(ctx context.Context, in *load.Intent, opts Options) (*Result, error) {
	c.embedded.Prefetch(profileHint(in))
	s, err := c.Schema()
	if err != nil {
		return nil, err
	}
	u, err := unify.Unify(ctx, s, in, unify.Options{
		Options:   generate.Options{Cache: c.cache, Check: !opts.Lint, Runbook: opts.Files},
		MaxRoutes: c.maxRoutes,
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Profile: u.Profile, Phases: u.Phases, Objects: u.Objects, Warnings: u.Warnings}
	if err := readOutputs(u, opts, res); err != nil {
		return nil, err
	}
	// u, and with it the CUE graph of the profile's global part, is
	// garbage from here on: check and emit run without it.
	if !opts.Lint {
		if err := check(res.Profile, res.Objects); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// readOutputs reads what opts asks for besides the objects from the
// profile's global part: the Helm values and the runbook, the
// explanation.
func readOutputs(u *unify.Result, opts Options, res *Result) error {
	var err error
	if opts.Files {
		if res.Values, err = valuesFiles(u.Out.LookupPath(cue.ParsePath("values"))); err != nil {
			return diag.Internalf("profile %s: %v", u.Profile, err)
		}
		if res.Runbook, err = emit.DecodeRunbook(u.Out.LookupPath(cue.ParsePath("runbook"))); err != nil {
			return diag.Internalf("profile %s: %v", u.Profile, err)
		}
	}
	if opts.Explain {
		if res.Explain, err = emit.DecodeExplain(u.Out.LookupPath(cue.ParsePath("explain"))); err != nil {
			return diag.Internalf("profile %s: %v", u.Profile, err)
		}
		res.Explain.Name = u.Name
	}
	return nil
}

// profileHint names the profile an intent most likely selects, from the
// provider and mode it spells out, the way spec.mesh.#profile of
// schema/intent.cue names it (<provider>, or istio-<mode>), so that the
// profile compiles on another CPU while the schema compiles. A wrong or
// empty hint only costs that work: the schema decides which profile the
// intent gets.
func profileHint(in *load.Intent) string {
	provider, mode := in.MeshHint()
	if mode == "" {
		return provider
	}
	return provider + "-" + mode
}

// check validates every object's JSON that unify has not validated on
// its workers (the profile's global objects, or all of them when unify
// did not check) against the pinned schema of its kind, spreading the
// objects over one worker per CPU. When several are invalid, the first in
// apply order is reported, so the message does not depend on scheduling.
func check(profile string, objs []*order.Object) error {
	errs := make([]error, len(objs))
	workers := min(runtime.GOMAXPROCS(0), len(objs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(objs); i += workers {
				if !objs[i].Checked {
					errs[i] = validate.Generated(profile, objs[i].JSON)
				}
			}
		})
	}
	wg.Wait()
	return firstError(errs)
}

// firstError returns the first non-nil error of errs, or nil.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// valuesFiles encodes the profile's Helm values as YAML.
func valuesFiles(v cue.Value) ([]ValuesFile, error) {
	it, err := v.List()
	if err != nil {
		return nil, err
	}
	var out []ValuesFile
	for it.Next() {
		var f struct {
			File    string `json:"file"`
			Release string `json:"release"`
		}
		if err := it.Value().Decode(&f); err != nil {
			return nil, err
		}
		y, err := emit.YAML(it.Value().LookupPath(cue.ParsePath("content")))
		if err != nil {
			return nil, fmt.Errorf("values %s: %w", f.File, err)
		}
		out = append(out, ValuesFile{File: f.File, Release: f.Release, YAML: y})
	}
	return out, nil
}

// Stream returns the objects as one YAML stream.
func (r *Result) Stream() ([]byte, error) {
	return emit.AppendStream(nil, r.Objects)
}

// Files returns the files of an output directory, named as package
// layout says: one per non-empty phase, the Helm values files and
// RUNBOOK.md. The result must come from a compile with Options.Files.
func (r *Result) Files() ([]emit.File, error) {
	if r.Runbook == nil {
		return nil, diag.Internalf("the output directory of an intent compiled without Options.Files")
	}
	var files []emit.File
	for _, p := range r.Phases {
		var inPhase []*order.Object
		for _, o := range r.Objects {
			if o.Phase.Name == p.Name {
				inPhase = append(inPhase, o)
			}
		}
		if len(inPhase) == 0 {
			continue
		}
		// each phase file starts a document, so that files read one after
		// another (cat DIR/*.yaml) never merge two objects
		b, err := emit.AppendStream([]byte("---\n"), inPhase)
		if err != nil {
			return nil, err
		}
		files = append(files, emit.File{Name: p.File, Data: b})
	}
	for _, v := range r.Values {
		header := layout.ValuesHeader(v.Release)
		files = append(files, emit.File{Name: v.File, Data: append([]byte(header), v.YAML...)})
	}
	files = append(files, emit.File{Name: layout.Runbook, Data: r.Runbook.Markdown()})
	for _, f := range files {
		if err := layout.CheckName(f.Name); err != nil {
			return nil, diag.Internalf("%v", err)
		}
	}
	return files, nil
}

// WriteDir writes the output directory: the phase files, the Helm values
// files and RUNBOOK.md, each replaced atomically once all are written,
// and removes the phase and values files of an earlier build that this
// one no longer writes. Every other file is kept (emit.WriteDir).
func (r *Result) WriteDir(dir string) error {
	files, err := r.Files()
	if err != nil {
		return err
	}
	return emit.WriteDir(dir, files, emit.Owner{Dirs: layout.Dirs, Files: layout.Files, Wrote: layout.WrittenByEgmc})
}
