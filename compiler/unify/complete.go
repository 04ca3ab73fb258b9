package unify

import (
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

	"egmc.dev/egmc/compiler/module"
)

// CUE's Validate reports at most one error per struct: an error in one
// field hides its siblings' errors (an unknown field next to a bad value,
// a missing field next to another). So that a user sees every mistake at
// once, the findings of a failed unification are completed by walking the
// user's own fields: each unknown field, each value, and each required
// field that the user's structs leave out.

// complete walks the user's value and returns the findings validation
// may have hidden. schema is the #Intent definition, resolved the failed
// unification of the intent with it.
func (l *locator) complete(schema, resolved cue.Value) []finding {
	w := &walker{l: l, resolved: resolved}
	w.walk(nil, l.user, schema)
	return w.found
}

// dropDerived removes the "incomplete" findings of fields the user left
// out and whose schema has a default: such a default derives from another
// field (targetPort from port, the gateway name from metadata.name) whose
// own finding says what to fix.
func (l *locator) dropDerived(fs []finding, schema cue.Value) []finding {
	out := fs[:0]
	for _, f := range fs {
		if strings.HasPrefix(f.msg, "incomplete value") &&
			!l.user.LookupPath(cue.MakePath(f.path...)).Exists() &&
			module.HasDefault(schemaAt(schema, f.path)) {
			continue
		}
		out = append(out, f)
	}
	return out
}

type walker struct {
	l        *locator
	resolved cue.Value
	found    []finding
}

// walk visits the user's value at path; schema is the schema at path.
func (w *walker) walk(path []cue.Selector, user, schema cue.Value) {
	switch user.IncompleteKind() {
	case cue.StructKind:
		w.walkStruct(path, user, schema)
	case cue.ListKind:
		it, err := user.List()
		if err != nil {
			return
		}
		elem := schemaStep(schema, cue.AnyIndex)
		for i := 0; it.Next(); i++ {
			w.walk(appendSel(path, cue.Index(i)), it.Value(), elem)
		}
	default:
		w.check(path)
	}
}

// walkStruct checks the fields of one struct the user wrote.
func (w *walker) walkStruct(path []cue.Selector, user, schema cue.Value) {
	it, err := user.Fields()
	if err != nil {
		return
	}
	written := map[string]bool{}
	for it.Next() {
		sel := it.Selector()
		p := appendSel(path, sel)
		written[sel.String()] = true
		if schema.Exists() && !schema.Allows(sel) {
			w.found = append(w.found, finding{path: p, msg: "field not allowed"})
			continue
		}
		w.walk(p, it.Value(), schemaStep(schema, sel))
	}
	w.missing(path, written, schema)
}

// check records the errors of the resolved value at path.
func (w *walker) check(path []cue.Selector) {
	err := w.resolved.LookupPath(cue.MakePath(path...)).Validate(cue.Concrete(true))
	w.found = append(w.found, w.l.findings(err)...)
}

// missing records the regular fields of schema that the user's struct
// leaves out and that have no default.
func (w *walker) missing(path []cue.Selector, written map[string]bool, schema cue.Value) {
	it, err := schema.Fields()
	if err != nil {
		return
	}
	for it.Next() {
		sel := it.Selector()
		if !sel.IsString() || written[sel.String()] {
			continue
		}
		p := appendSel(path, sel)
		err := w.resolved.LookupPath(cue.MakePath(p...)).Validate(cue.Concrete(true))
		for _, e := range cueerrors.Errors(err) {
			if format, _ := e.Msg(); strings.HasPrefix(format, "incomplete value") {
				w.found = append(w.found, finding{path: p, msg: "incomplete value"})
				break
			}
		}
	}
}

func appendSel(path []cue.Selector, s cue.Selector) []cue.Selector {
	p := make([]cue.Selector, len(path), len(path)+1)
	copy(p, path)
	return append(p, s)
}
