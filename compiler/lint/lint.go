// Package lint checks files without printing manifests: intents against
// the schema and the ownership rules (a full compile), and the user's own
// Kubernetes manifests (Services, Deployments, Namespaces, policies...)
// against the manifest rules of the catalogue.
//
// The manifest rules run in CUE (schema/manifests.cue, #ManifestCheck)
// over every manifest object of the run at once, so that a rule can see
// context across files: the labels of the namespaces, whether gateways are
// merged. The namespaces that the linted intents generate count too: an
// app's Service in a namespace the intent enrols in the sidecar mesh is
// checked as a sidecar namespace.
package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/compiler/unify"
	"egmc.dev/egmc/compiler/validate"
)

// Input is one file to lint.
type Input struct {
	Name string
	Data []byte
	// Format is the file's format when its name has no extension that
	// gives it (standard input); empty otherwise.
	Format load.Format
	// Context marks a file read for context only: the namespaces its
	// intent generates count, its own findings are not reported.
	Context bool
}

// Result is what a lint run found.
type Result struct {
	// Diagnostics, sorted by file and position.
	Diagnostics diag.List
	// Intents and Manifests count the files of each kind.
	Intents, Manifests int
}

// Run lints the inputs, in parallel: each file is parsed and each intent
// compiled by a pool of workers (one per CPU) sharing the schema, which is
// compiled once; then the manifest rules run over every manifest object.
// The result does not depend on the order of work. When ctx is done, it
// stops with ctx's error.
func Run(ctx context.Context, c *compiler.Compiler, inputs []Input) (*Result, error) {
	s, err := c.Schema()
	if err != nil {
		return nil, err
	}
	files := make([]fileResult, len(inputs))
	parallel(len(inputs), func(i int) { files[i] = lintFile(ctx, c, inputs[i]) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{}
	var docs []document
	var intents []*shared
	var reported []bool
	labels := map[string]map[string]string{}
	for i, f := range files {
		if f.err != nil {
			return nil, f.err
		}
		if !inputs[i].Context {
			res.Diagnostics = append(res.Diagnostics, f.diags...)
		}
		if f.shared != nil {
			intents = append(intents, f.shared)
			reported = append(reported, !inputs[i].Context)
		}
		if f.intent {
			res.Intents++
			for ns, l := range f.labels {
				labels[ns] = l
			}
			continue
		}
		res.Manifests++
		docs = append(docs, f.docs...)
	}
	res.Diagnostics = append(res.Diagnostics, crossIntents(s, intents, func(i int) bool { return reported[i] })...)
	if len(docs) > MaxObjects {
		res.Diagnostics = append(res.Diagnostics, tooManyObjects(docs)).Sort()
		return res, nil
	}
	md, err := checkManifests(s, docs, labels)
	if err != nil {
		return nil, err
	}
	res.Diagnostics = append(res.Diagnostics, md...).Sort()
	return res, nil
}

// format is the input's Format, or the one its name gives.
func (in Input) format() (load.Format, error) {
	if in.Format != "" {
		return in.Format, nil
	}
	return load.FormatOf(in.Name)
}

// MaxObjects is the most manifest objects one lint run checks. The
// manifest rules run over all the objects at once, and their time grows
// faster than the objects: 1000 ConfigMaps take 1.6 s and 180 MiB, 4000
// take 10 s and 390 MiB, 50000 (3.7 MB of YAML) more than two minutes
// and 2.5 GiB. A larger run is refused at its first object past the
// limit, in bounded time and memory.
const MaxObjects = 2000

// tooManyObjects is the diagnostic of a run over MaxObjects, at the first
// object past the limit.
func tooManyObjects(docs []document) diag.Diagnostic {
	d := docs[MaxObjects]
	pos := d.expr.Pos().Position()
	if pos.Filename == "" {
		pos.Filename, pos.Line, pos.Column = d.file, 1, 1
	}
	return diag.At(pos, diag.Error, fmt.Sprintf("egmc lint checks at most %d manifest objects per run, and this run holds more: lint the files in several runs", MaxObjects))
}

// fileResult is what linting one file found.
type fileResult struct {
	intent bool
	diags  diag.List
	docs   []document
	labels map[string]map[string]string
	// shared: an intent's cluster-scoped objects, for crossIntents.
	shared *shared
	err    error
}

// lintFile parses one file, and compiles it when it is an intent.
func lintFile(ctx context.Context, c *compiler.Compiler, in Input) fileResult {
	k := classify(in)
	r := fileResult{intent: k.intent, diags: k.diags, docs: k.docs}
	if k.parsed != nil {
		r.labels = map[string]map[string]string{}
		var found diag.List
		r.shared, found = lintIntent(ctx, c, k.parsed, r.labels)
		r.diags = append(r.diags, found...)
	}
	return r
}

// parallel runs work(0..n-1) on one worker per CPU.
func parallel(n int, work func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// document is one object of a manifest file, with its syntax for
// positions.
type document struct {
	file string
	expr ast.Expr
}

// classify parses a file: an intent (CUE, or YAML that looks like one),
// or manifests (YAML, one object per document). A YAML file is an intent
// when one of its documents looks like one (intentLike), or when none is
// a Kubernetes object and the file is named like an intent: then load
// parses it exactly as egmc build does, so that the two give one verdict
// on it (two documents, a scalar, a misspelt kind).
func classify(in Input) kind {
	format, err := in.format()
	if err != nil {
		return kind{diags: asList(err)}
	}
	if format == load.CUE {
		return intentOf(in, load.CUE)
	}
	if len(bytes.TrimSpace(in.Data)) == 0 {
		if looksLikeIntent(in.Name) {
			return intentOf(in, load.YAML)
		}
		return kind{} // an empty manifest file holds no objects
	}
	f, err := load.ExtractYAML(in.Name, in.Data)
	if err != nil {
		if _, perr := load.Parse(in.Name, load.YAML, in.Data); perr != nil {
			err = perr
		}
		return kind{intent: looksLikeIntent(in.Name), diags: asList(err)}
	}
	all := documents(in.Name, f)
	if len(all) > MaxObjects {
		return kind{docs: all[:MaxObjects+1]} // refused by Run, unread
	}
	docs, bad := objectsOf(all)
	if slices.ContainsFunc(all, intentLike) || (len(docs) == 0 && looksLikeIntent(in.Name)) {
		return intentOf(in, load.YAML)
	}
	return kind{docs: docs, diags: bad}
}

// kind is what classify makes of a file: an intent, parsed when it
// parses, or manifest documents; and the file's own errors.
type kind struct {
	intent bool
	parsed *load.Intent
	docs   []document
	diags  diag.List
}

// intentOf parses an intent file as egmc build does.
func intentOf(in Input, format load.Format) kind {
	parsed, err := load.Parse(in.Name, format, in.Data)
	return kind{intent: true, parsed: parsed, diags: asList(err)}
}

// objectsOf keeps the documents that are Kubernetes objects (apiVersion,
// kind and metadata.name) and reports the others.
func objectsOf(docs []document) ([]document, diag.List) {
	var out []document
	var bad diag.List
	ctx := cuecontext.New()
	for _, d := range docs {
		v := ctx.BuildExpr(d.expr)
		ok := true
		for _, p := range []string{"apiVersion", "kind", "metadata.name"} {
			if _, err := v.LookupPath(cue.ParsePath(p)).String(); err != nil {
				ok = false
			}
		}
		if !ok {
			pos := d.expr.Pos().Position()
			if pos.Filename == "" {
				pos.Filename, pos.Line, pos.Column = d.file, 1, 1
			}
			bad = append(bad, diag.At(pos, diag.Error, "not a Kubernetes object: a manifest needs apiVersion, kind and metadata.name (an intent needs apiVersion: egmc.dev/v1alpha1 and kind: Intent)"))
			continue
		}
		out = append(out, d)
	}
	return out, bad
}

// intentLike tells whether a YAML document is meant as an intent: its
// apiVersion is egmc's, or its kind is Intent whatever the case or a
// typo of it (with no apiVersion of another API), or it has spec.routes,
// or it has a spec but neither apiVersion nor kind (which an intent may
// leave out).
func intentLike(d document) bool {
	v := cuecontext.New().BuildExpr(d.expr)
	str := func(p string) (string, bool) {
		s, err := v.LookupPath(cue.ParsePath(p)).String()
		return s, err == nil
	}
	api, hasAPI := str("apiVersion")
	kind, hasKind := str("kind")
	switch {
	case strings.HasPrefix(api, "egmc.dev"):
		return true
	case hasKind && (!hasAPI || api == "") && nearIntent(kind):
		return true
	case v.LookupPath(cue.ParsePath("spec.routes")).Exists():
		return true
	}
	_, hasAPIField := lookup(v, "apiVersion")
	_, hasKindField := lookup(v, "kind")
	_, hasSpec := lookup(v, "spec")
	return !hasAPIField && !hasKindField && hasSpec
}

// lookup tells whether v has the field p.
func lookup(v cue.Value, p string) (cue.Value, bool) {
	f := v.LookupPath(cue.ParsePath(p))
	return f, f.Exists()
}

// nearIntent tells whether kind is "Intent" but for case and at most two
// edits (Intnet, Intents, intent).
func nearIntent(kind string) bool {
	return editDistance(strings.ToLower(kind), "intent") <= 2
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// looksLikeIntent tells whether a file is named like an intent.
func looksLikeIntent(name string) bool {
	return strings.Contains(strings.ToLower(filepath.Base(name)), "intent")
}

// documents splits a YAML file's syntax into its documents.
func documents(name string, f *ast.File) []document {
	if len(f.Decls) == 1 {
		if e, ok := f.Decls[0].(*ast.EmbedDecl); ok {
			if l, ok := e.Expr.(*ast.ListLit); ok {
				var out []document
				for _, x := range l.Elts {
					if s, ok := x.(*ast.StructLit); ok {
						out = append(out, document{file: name, expr: s})
					}
				}
				return out
			}
		}
	}
	if len(f.Decls) == 0 {
		return nil
	}
	return []document{{file: name, expr: &ast.StructLit{Elts: f.Decls}}}
}

// lintIntent compiles an intent as far as lint needs and records the
// labels of the namespaces it generates.
func lintIntent(ctx context.Context, c *compiler.Compiler, parsed *load.Intent, labels map[string]map[string]string) (*shared, diag.List) {
	res, err := c.Compile(ctx, parsed, compiler.Options{Lint: true})
	if err != nil {
		return nil, asList(err)
	}
	for _, o := range res.Objects {
		if o.Kind != "Namespace" {
			continue
		}
		var ns struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(o.JSON, &ns); err == nil && ns.Metadata.Labels != nil {
			labels[o.Name] = ns.Metadata.Labels
		}
	}
	return sharedOf(parsed.Filename, parsed.File, res.Objects), res.Warnings
}

// checkManifests runs #ManifestCheck over every manifest object.
func checkManifests(s *module.Schema, docs []document, labels map[string]map[string]string) (diag.List, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	ctx := cuecontext.New()
	values := make([]cue.Value, len(docs))
	for i, d := range docs {
		values[i] = ctx.BuildExpr(d.expr)
	}
	check := s.ManifestCheck().
		FillPath(cue.ParsePath("objects"), ctx.NewList(values...)).
		FillPath(cue.ParsePath("namespaceLabels"), labels).
		FillPath(cue.ParsePath("served"), validate.Served())
	var problems []struct {
		Object  int    `json:"object"`
		Path    []any  `json:"path"`
		Rule    string `json:"rule"`
		Message string `json:"message"`
	}
	pv := check.LookupPath(cue.ParsePath("problems"))
	if err := pv.Validate(cue.Concrete(true)); err != nil {
		return nil, diag.Internalf("manifest rules: %s", cueerrors.Details(err, nil))
	}
	if err := pv.Decode(&problems); err != nil {
		return nil, diag.Internalf("manifest rules: %v", err)
	}
	var l diag.List
	for _, p := range problems {
		d := docs[p.Object]
		pos := unify.ExprPos(d.expr, module.Selectors(p.Path)).Position()
		if pos.Filename == "" {
			pos.Filename, pos.Line, pos.Column = d.file, 1, 1
		}
		l = append(l, s.Finding(pos, p.Rule, p.Message))
	}
	return l, nil
}

// asList turns an error into diagnostics; nil into none.
func asList(err error) diag.List {
	if err == nil {
		return nil
	}
	if l, ok := err.(diag.List); ok {
		return l
	}
	return diag.List{{Message: err.Error()}}
}
