package unify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"cuelang.org/go/cue"

	"egmc.dev/egmc/compiler/diag"
)

// Bounds on the shape of an intent, checked on the user's own value before
// the schema sees it. CUE's evaluation, and its collection of errors
// (quadratic in their number: cue/errors.Append), would otherwise take
// minutes over input well inside the 4 MiB limit: 20000 unknown keys took
// 46 s, one route with 20000 hostnames 19 s.
const (
	// MaxFields is the most fields one struct of an intent holds: no
	// struct of the schema has a tenth of it.
	MaxFields = 256
	// MaxElems is the most elements of a list other than spec.routes
	// (Options.MaxRoutes): no list of the schema allows more than 64.
	MaxElems = 256
	// MaxUnknown is the most unknown fields egmc reports one by one.
	MaxUnknown = 100
)

// bounds walks the user's value beside the schema and refuses a struct or
// list over its bound, and more than MaxUnknown unknown fields, each at
// its position, before any evaluation against the schema.
type bounds struct {
	l       *locator
	schema  cue.Value
	over    diag.List
	unknown []finding
	// fields caches the schema's answers by schema path (list indices
	// left out) and field: every route asks the same questions.
	fields map[fieldKey]fieldSchema
}

// fieldKey is a field of the schema at a path (list indices left out).
type fieldKey struct{ at, name string }

// fieldSchema is what the schema says of one field.
type fieldSchema struct {
	allowed bool
	schema  cue.Value
}

// checkShape refuses a struct or list of the user's value, given as JSON,
// over its bound: the check every valid intent pays, without the schema
// (a token scan: about 2 ms for 1000 routes, where walking the CUE value
// costs 40). Unknown fields are left to the schema: they send the
// compile to checkBounds.
//
// The route hostnames are bounded too (lim): what a profile generates
// grows with routes times hostnames, and with hostnames (a ServiceEntry
// and a VirtualService each in sidecar mode). 5000 routes of 16 distinct
// hostnames each (2 MB of YAML) ran past 5 minutes and 1.8 GiB.
func checkShape(j []byte, loc *locator, lim limits) diag.List {
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var stack []step // the path, built into selectors only for a message
	path := func(extra ...step) []cue.Selector {
		var sels []cue.Selector
		for _, s := range append(stack, extra...) {
			sels = append(sels, s.selector())
		}
		return sels
	}
	var over diag.List
	hosts := 0                    // route hostnames so far
	distinct := map[string]bool{} // distinct route hostnames so far
	var walk func() bool
	walk = func() bool {
		t, err := d.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'):
			for n := 0; d.More(); n++ {
				k, err := d.Token()
				if err != nil {
					return false
				}
				if n == MaxFields {
					over = append(over, diag.At(loc.position(path(step{key: k.(string)})), diag.Error, fieldsMessage(path())))
					return false
				}
				stack = append(stack, step{key: k.(string)})
				ok := walk()
				stack = stack[:len(stack)-1]
				if !ok {
					return false
				}
			}
		case json.Delim('['):
			limit := MaxElems
			if len(stack) == 2 && stack[0].key == "spec" && stack[1].key == "routes" {
				limit = math.MaxInt // refused before, by tooManyRoutes
			}
			routeHosts := len(stack) == 4 && stack[0].key == "spec" && stack[1].key == "routes" && stack[3].key == "hostnames"
			for i := 0; d.More(); i++ {
				if i == limit {
					over = append(over, diag.At(loc.position(path(step{index: i, isIndex: true})), diag.Error, elemsMessage(path())))
					return false
				}
				if routeHosts {
					if hosts++; hosts > lim.routeHostnames {
						over = append(over, diag.At(loc.position(path(step{index: i, isIndex: true})), diag.Error, fmt.Sprintf("the routes list more than %d hostnames in all (a hostname counts once per route that lists it)%s: egmc generates per route and hostname; split the routes over several intents", lim.routeHostnames, hostHint(lim.routes))))
						return false
					}
				}
				stack = append(stack, step{index: i, isIndex: true})
				ok := walk()
				stack = stack[:len(stack)-1]
				if !ok {
					return false
				}
			}
		default:
			if h, ok := t.(string); ok && len(stack) == 5 && stack[3].key == "hostnames" && stack[1].key == "routes" && stack[0].key == "spec" {
				distinct[h] = true
				if len(distinct) > lim.hostnames {
					over = append(over, diag.At(loc.position(path()), diag.Error, fmt.Sprintf("the routes serve more than %d distinct hostnames%s: egmc generates objects per hostname; split the routes over several intents", lim.hostnames, hostHint(lim.routes))))
					return false
				}
			}
			return true
		}
		_, err = d.Token() // the closing delimiter
		return err == nil
	}
	walk()
	return over
}

// hostHint says that the hostname bounds follow the route limit, when
// that can be raised.
func hostHint(maxRoutes int) string {
	if maxRoutes >= CeilingRoutes {
		return ""
	}
	return " (the bound follows the route limit, which the one running egmc may raise with --max-routes)"
}

// step is one step of a path: a field or a list index.
type step struct {
	key     string
	index   int
	isIndex bool
}

func (s step) selector() cue.Selector {
	if s.isIndex {
		return cue.Index(s.index)
	}
	return cue.Str(s.key)
}

// elemLimit is the most elements of the list at path.
func elemLimit(path []cue.Selector) int {
	if pathString(path) == "spec.routes" {
		return math.MaxInt // refused before, by tooManyRoutes
	}
	return MaxElems
}

func fieldsMessage(path []cue.Selector) string {
	return fmt.Sprintf("%s holds more than %d fields: no part of an intent has that many", orRoot(pathString(path)), MaxFields)
}

func elemsMessage(path []cue.Selector) string {
	return fmt.Sprintf("%s holds more than %d elements: no list of an intent but spec.routes has that many", pathString(path), MaxElems)
}

// checkBounds returns the diagnostics of an intent out of bounds, or nil:
// the shape, and more than MaxUnknown unknown fields, checked on the
// user's CUE value beside the schema. It runs only for an intent that
// does not resolve route by route, before CUE collects its errors.
func checkBounds(user, schema cue.Value, loc *locator) diag.List {
	b := &bounds{l: loc, schema: schema, fields: map[fieldKey]fieldSchema{}}
	b.walk(nil, "", user, schema)
	if len(b.over) > 0 {
		return b.over.Sort()
	}
	if len(b.unknown) <= MaxUnknown {
		return nil
	}
	d := loc.diagnostics(b.unknown[:MaxUnknown], schema)
	first := b.unknown[MaxUnknown]
	d = append(d, diag.At(loc.position(first.path), diag.Error, fmt.Sprintf("more unknown fields from here on: egmc reports the first %d; remove them and build again to see the rest", MaxUnknown)))
	return d.Sort()
}

// walk visits the user's value at path; schema is the schema at path, at
// names that path without its list indices.
func (b *bounds) walk(path []cue.Selector, at string, user, schema cue.Value) {
	switch user.IncompleteKind() {
	case cue.StructKind:
		b.walkStruct(path, at, user, schema)
	case cue.ListKind:
		b.walkList(path, at, user, schema)
	}
}

// field returns what the schema at at says of a field.
func (b *bounds) field(at string, schema cue.Value, sel cue.Selector) fieldSchema {
	k := fieldKey{at, sel.String()}
	f, ok := b.fields[k]
	if !ok {
		f = fieldSchema{allowed: !schema.Exists() || schema.Allows(sel), schema: schemaStep(schema, sel)}
		b.fields[k] = f
	}
	return f
}

func (b *bounds) walkStruct(path []cue.Selector, at string, user, schema cue.Value) {
	it, err := user.Fields()
	if err != nil {
		return
	}
	for n := 0; it.Next(); n++ {
		sel := it.Selector()
		p := appendSel(path, sel)
		if n == MaxFields {
			b.over = append(b.over, diag.At(b.l.position(p), diag.Error, fieldsMessage(path)))
			return
		}
		f := b.field(at, schema, sel)
		if !f.allowed {
			if len(b.unknown) <= MaxUnknown {
				b.unknown = append(b.unknown, finding{path: p, msg: "field not allowed"})
			}
			continue
		}
		b.walk(p, at+"."+sel.String(), it.Value(), f.schema)
	}
}

func (b *bounds) walkList(path []cue.Selector, at string, user, schema cue.Value) {
	it, err := user.List()
	if err != nil {
		return
	}
	limit := elemLimit(path)
	elem := schemaStep(schema, cue.AnyIndex)
	for i := 0; it.Next(); i++ {
		p := appendSel(path, cue.Index(i))
		if i == limit {
			b.over = append(b.over, diag.At(b.l.position(p), diag.Error, elemsMessage(path)))
			return
		}
		b.walk(p, at+"[]", it.Value(), elem)
	}
}
