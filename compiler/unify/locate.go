package unify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"egmc.dev/egmc/compiler/diag"
)

// locator finds positions in the user's file and turns CUE errors into
// diagnostics there.
type locator struct {
	file *ast.File
	user cue.Value
}

// position returns the position in the user's file of the field at path,
// or of the nearest enclosing field the file writes.
func (l *locator) position(path []cue.Selector) token.Position {
	for n := len(path); n > 0; n-- {
		if pos, ok := astPos(l.file.Decls, path[:n]); ok {
			return pos.Position()
		}
		if v := l.user.LookupPath(cue.MakePath(path[:n]...)); v.Exists() {
			if p := v.Pos(); p.IsValid() && p.Filename() == l.file.Filename {
				return p.Position()
			}
		}
	}
	return token.Position{Filename: l.file.Filename, Line: 1, Column: 1}
}

// ExprPos finds the field or list element at path in the literal syntax
// of x (a YAML document or CUE expression): the label of a field, the
// start of a list element, or the nearest enclosing one found.
func ExprPos(x ast.Expr, path []cue.Selector) token.Pos {
	for n := len(path); n > 0; n-- {
		if p, ok := exprPos(x, path[:n]); ok {
			return p
		}
	}
	return x.Pos()
}

// astPos finds the field or list element at path in literal syntax: the
// label of a field, the start of a list element.
func astPos(decls []ast.Decl, path []cue.Selector) (token.Pos, bool) {
	sel := path[0]
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			name, _, err := ast.LabelName(d.Label)
			if err != nil || sel.LabelType() != cue.StringLabel || name != sel.Unquoted() {
				continue
			}
			if len(path) == 1 {
				return d.Label.Pos(), true
			}
			if p, ok := exprPos(d.Value, path[1:]); ok {
				return p, true
			}
		case *ast.EmbedDecl:
			if p, ok := exprPos(d.Expr, path); ok {
				return p, true
			}
		}
	}
	return token.NoPos, false
}

func exprPos(x ast.Expr, path []cue.Selector) (token.Pos, bool) {
	switch x := x.(type) {
	case *ast.StructLit:
		return astPos(x.Elts, path)
	case *ast.BinaryExpr:
		if p, ok := exprPos(x.Y, path); ok {
			return p, true
		}
		return exprPos(x.X, path)
	case *ast.ListLit:
		if path[0].LabelType() != cue.IndexLabel {
			return token.NoPos, false
		}
		i := path[0].Index()
		for _, e := range x.Elts {
			if _, ok := e.(ast.Expr); !ok {
				return token.NoPos, false // a comprehension: indexes do not map to syntax
			}
		}
		if i >= len(x.Elts) {
			return token.NoPos, false
		}
		e := x.Elts[i].(ast.Expr)
		if len(path) == 1 {
			return e.Pos(), true
		}
		return exprPos(e, path[1:])
	}
	return token.NoPos, false
}

// finding is one problem found while unifying, before it is worded.
type finding struct {
	path []cue.Selector
	msg  string
	// pos is a position the error itself gives in the user's file.
	pos token.Pos
}

// findings turns CUE errors into findings at paths of the intent.
func (l *locator) findings(err error) []finding {
	var out []finding
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if strings.HasSuffix(msg, "errors in empty disjunction:") {
			continue // its branches are reported one by one
		}
		f := finding{path: l.selectors(trimRoot(e.Path())), msg: msg}
		for _, p := range cueerrors.Positions(e) {
			if p.Filename() == l.file.Filename {
				f.pos = p
				break
			}
		}
		out = append(out, f)
	}
	return out
}

// diagnostics words findings as diagnostics in the user's file: one per
// path and message, none below a path that already has one (the branches
// of a failed disjunction).
func (l *locator) diagnostics(fs []finding, schema cue.Value) diag.List {
	at := map[string]bool{}
	for _, f := range fs {
		at[pathString(f.path)] = true
	}
	seen := map[string]bool{}
	var out diag.List
	for _, f := range fs {
		if underReported(f.path, at) {
			continue
		}
		msg := l.message(f.msg, f.path, schema)
		if key := pathString(f.path) + "\x00" + msg; seen[key] {
			continue
		} else {
			seen[key] = true
		}
		pos := l.position(f.path)
		if f.pos.IsValid() {
			pos = f.pos.Position()
		}
		out = append(out, diag.At(pos, diag.Error, msg))
	}
	if len(out) == 0 {
		out = append(out, diag.Diagnostic{Filename: l.file.Filename, Line: 1, Column: 1, Message: "the intent does not match the schema"})
	}
	return out.Sort()
}

// underReported tells whether a proper prefix of path has a finding.
func underReported(path []cue.Selector, at map[string]bool) bool {
	for n := len(path) - 1; n > 0; n-- {
		if at[pathString(path[:n])] {
			return true
		}
	}
	return false
}

// message rewrites CUE's wording into a message that says what is wrong
// and how to fix it.
func (l *locator) message(msg string, path []cue.Selector, schema cue.Value) string {
	where := pathString(path)
	switch {
	case msg == "field not allowed" && len(path) > 0:
		parent := path[:len(path)-1]
		return fmt.Sprintf("unknown field %q in %s: %s", path[len(path)-1].Unquoted(), orRoot(pathString(parent)), allowed(schemaAt(schema, parent)))
	case strings.HasPrefix(msg, "incomplete value") || msg == "field is required but not present":
		return fmt.Sprintf("%s is required%s", where, hint(schemaAt(schema, path)))
	case mismatched.MatchString(msg):
		m := mismatched.FindStringSubmatch(msg)
		return fmt.Sprintf("%s: must be %s, not %s%s", where, typeName(m[2]), typeName(m[1]), l.got(path))
	}
	return fmt.Sprintf("%s: %s%s", orRoot(where), msg, l.got(path))
}

// mismatched matches CUE's type conflicts: "... (mismatched types string and bool)".
var mismatched = regexp.MustCompile(`mismatched types (\w+) and (\w+)\)`)

// typeName names a CUE kind for a user.
func typeName(kind string) string {
	switch kind {
	case "struct":
		return "a mapping"
	case "list":
		return "a list"
	case "int":
		return "an integer"
	case "bool":
		return "true or false"
	case "number", "float":
		return "a number"
	case "null":
		return "null"
	}
	return "a " + kind
}

// got shows the user's value when it is a scalar.
func (l *locator) got(path []cue.Selector) string {
	v := l.user.LookupPath(cue.MakePath(path...))
	switch v.Kind() {
	case cue.StringKind, cue.IntKind, cue.FloatKind, cue.BoolKind, cue.NullKind:
		b, err := v.MarshalJSON()
		if err == nil && len(b) <= 80 {
			return fmt.Sprintf(" (got %s)", b)
		}
	}
	return ""
}

// selectors maps an error path to selectors, reading numeric labels as
// list indexes where the user's value at that point is a list.
func (l *locator) selectors(path []string) []cue.Selector {
	sels := make([]cue.Selector, 0, len(path))
	for _, p := range path {
		parent := l.user.LookupPath(cue.MakePath(sels...))
		if i, err := strconv.Atoi(p); err == nil && parent.IncompleteKind() == cue.ListKind {
			sels = append(sels, cue.Index(i))
			continue
		}
		sels = append(sels, cue.Str(p))
	}
	return sels
}

// trimRoot drops the #Intent definition label that leads error paths.
func trimRoot(path []string) []string {
	if len(path) > 0 && strings.HasPrefix(path[0], "#") {
		return path[1:]
	}
	return path
}

// schemaAt looks up the schema of path (any list element for an index),
// through optional fields too (retries?, listeners?, tls?...), which a
// plain lookup does not find.
func schemaAt(schema cue.Value, path []cue.Selector) cue.Value {
	v := schema
	for _, s := range path {
		v = schemaStep(v, s)
	}
	return v
}

// schemaStep is the schema one selector below v: a field, optional or
// not, or any list element for an index.
func schemaStep(v cue.Value, s cue.Selector) cue.Value {
	if s.LabelType() == cue.IndexLabel {
		s = cue.AnyIndex
	}
	next := v.LookupPath(cue.MakePath(s))
	if !next.Exists() && s.IsString() {
		next = v.LookupPath(cue.MakePath(s.Optional()))
	}
	return next
}

// allowed lists the fields a schema struct allows.
func allowed(v cue.Value) string {
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return "remove it"
	}
	var names []string
	for it.Next() {
		if s := it.Selector(); s.IsString() {
			names = append(names, s.Unquoted())
		}
	}
	if len(names) == 0 {
		// a struct of any names matching a pattern: its doc says which
		return "remove it, or rename it" + hint(v)
	}
	return "remove it, or use one of " + strings.Join(names, ", ")
}

// hint returns the first line of a schema field's doc comment, in
// parentheses.
func hint(v cue.Value) string {
	for _, c := range v.Doc() {
		para, _, _ := strings.Cut(strings.TrimSpace(c.Text()), "\n\n")
		if t := strings.Join(strings.Fields(para), " "); t != "" {
			return " (" + strings.TrimSuffix(t, ".") + ")"
		}
	}
	return ""
}

// pathString renders selectors as spec.routes[0].backend.port.
func pathString(path []cue.Selector) string {
	var b strings.Builder
	for _, s := range path {
		if s.LabelType() == cue.IndexLabel {
			fmt.Fprintf(&b, "[%d]", s.Index())
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Unquoted())
	}
	return b.String()
}

func orRoot(s string) string {
	if s == "" {
		return "the intent"
	}
	return s
}
