package lint

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/compiler/order"
	"egmc.dev/egmc/compiler/unify"
)

// Two intents of one cluster each apply the cluster-scoped objects they
// generate (Namespaces, the GatewayClass...) under their own field
// manager. Server-side apply merges what each owns, and refuses (or, with
// --force-conflicts, overwrites) a field both set to different values.
// lint reads the intents it is given as one cluster and reports such a
// field at the later intent: a GatewayClass whose spec differs, a label
// of a Namespace with two values, and a Namespace enrolled in two data
// planes (sidecar injection by one intent, ambient by the other).

// shared is what one intent contributes to the cross-intent check: its
// cluster-scoped objects, and where to report a conflict in its file.
type shared struct {
	file    string
	objects []*order.Object
	at      token.Position
}

// sharedOf keeps the cluster-scoped objects of an intent; at is the
// position of its metadata.name.
func sharedOf(file string, f *ast.File, objs []*order.Object) *shared {
	s := &shared{file: file}
	for _, o := range objs {
		if o.Namespace == "" {
			s.objects = append(s.objects, o)
		}
	}
	expr := &ast.StructLit{Elts: f.Decls}
	s.at = unify.ExprPos(expr, []cue.Selector{cue.Str("metadata"), cue.Str("name")}).Position()
	if s.at.Filename == "" {
		s.at = token.Position{Filename: file, Line: 1, Column: 1}
	}
	return s
}

// crossIntents reports the conflicts between the intents' versions of
// each cluster-scoped object: at the later intent, or at the earlier one
// when only it is reported on (the other read for context).
func crossIntents(s *module.Schema, intents []*shared, report func(i int) bool) diag.List {
	type first struct {
		index int
		obj   map[string]any
	}
	seen := map[string]first{}
	var l diag.List
	for i, in := range intents {
		for _, o := range in.objects {
			var obj map[string]any
			if json.Unmarshal(o.JSON, &obj) != nil {
				continue
			}
			prev, ok := seen[o.ID()]
			if !ok {
				seen[o.ID()] = first{i, obj}
				continue
			}
			at, other, mine, theirs := i, prev.index, obj, prev.obj
			if !report(i) {
				at, other, mine, theirs = prev.index, i, prev.obj, obj
			}
			if !report(at) {
				continue
			}
			for _, msg := range conflicts(s, o, theirs, mine) {
				l = append(l, diag.At(intents[at].at, diag.Error, fmt.Sprintf("%s %s: %s than %s, which generates it too: applied side by side, one would overwrite the other (or the server refuses it); %s", o.Kind, o.Name, msg, intents[other].file, fixFor(o.Kind))))
			}
		}
	}
	return l
}

// conflicts lists how this intent's version of an object (b) disagrees
// with another's (a).
func conflicts(s *module.Schema, o *order.Object, a, b map[string]any) []string {
	if o.Kind != "Namespace" {
		if !reflect.DeepEqual(withoutMetadata(a), withoutMetadata(b)) {
			return []string{"this intent generates it with another spec"}
		}
		return nil
	}
	la, lb := labelsOf(a), labelsOf(b)
	var out []string
	if pa, pb := plane(s, la), plane(s, lb); pa != "" && pb != "" && pa != pb {
		out = append(out, fmt.Sprintf("this intent enrols it in %s mode, in another data plane", pb))
	}
	keys := make([]string, 0, len(lb))
	for k := range lb {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := la[k]; ok && v != lb[k] {
			out = append(out, fmt.Sprintf("this intent labels it %s=%s, another value", k, lb[k]))
		}
	}
	return out
}

// plane is the data plane a Namespace's labels enrol it in by the
// schema's #Enrolment: "ambient", "sidecar", or "".
func plane(s *module.Schema, labels map[string]string) string {
	v := s.Definition("#Enrolment").FillPath(cue.ParsePath("labels"), labels)
	for _, p := range []string{"ambient", "sidecar"} {
		if b, _ := v.LookupPath(cue.ParsePath(p)).Bool(); b {
			return p
		}
	}
	return ""
}

func labelsOf(obj map[string]any) map[string]string {
	md, _ := obj["metadata"].(map[string]any)
	raw, _ := md["labels"].(map[string]any)
	out := map[string]string{}
	for k, v := range raw {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func withoutMetadata(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if k != "metadata" {
			out[k] = v
		}
	}
	return out
}

// fixFor says how to make two intents agree on an object of a kind.
func fixFor(kind string) string {
	switch kind {
	case "Namespace":
		return "give the intents that share the namespace the same mesh and gateway settings, or separate namespaces"
	case "GatewayClass":
		return "give the intents the same gateway settings, or their own class (spec.gateway.className)"
	}
	return "make the intents agree on it"
}
