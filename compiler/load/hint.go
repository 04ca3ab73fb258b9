package load

import (
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// MeshHint returns spec.mesh.provider and spec.mesh.mode where the file
// spells them as plain strings, or "" for either it cannot read that way
// (a reference, a default, a comprehension): it reads the syntax only and
// evaluates nothing. The compiler uses it to start compiling the likely
// profile early; the schema still decides which profile an intent gets.
func (in *Intent) MeshHint() (provider, mode string) {
	if in == nil || in.File == nil {
		return "", ""
	}
	return stringAt(in.File.Decls, "spec", "mesh", "provider"), stringAt(in.File.Decls, "spec", "mesh", "mode")
}

// stringAt finds the first field at path among decls, through nested
// struct literals, and returns its value when it is a string literal.
func stringAt(decls []ast.Decl, path ...string) string {
	for _, d := range decls {
		f, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		if name, _, err := ast.LabelName(f.Label); err != nil || name != path[0] {
			continue
		}
		if len(path) == 1 {
			if lit, ok := f.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := literal.Unquote(lit.Value); err == nil {
					return s
				}
			}
			return ""
		}
		if st, ok := f.Value.(*ast.StructLit); ok {
			if s := stringAt(st.Elts, path[1:]...); s != "" {
				return s
			}
		}
	}
	return ""
}
