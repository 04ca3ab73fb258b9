package order

import (
	"encoding/json"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

const out = `
phases: [{name: "a", wave: 0, file: "00-a.yaml"}, {name: "b", wave: 1, file: "01-b.yaml"}]
kindRank: ["Namespace", "Gateway", "HTTPRoute"]
objects: {
	b: [
		{apiVersion: "x.io/v1", kind: "Unranked", metadata: {name: "z"}},
		{apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: {name: "r2", namespace: "b"}},
		{apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: {name: "r1", namespace: "b"}},
		{apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: {name: "r9", namespace: "a"}},
		{apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: {name: "g", namespace: "z"}},
	]
	a: [{apiVersion: "v1", kind: "Namespace", metadata: {name: "n"}}]
}
`

// TestOrder checks the documented rule: phase, kind rank (unranked kinds
// last), then group|kind|namespace|name.
func TestOrder(t *testing.T) {
	v := cuecontext.New().CompileString(out)
	phases, objs, err := Objects(v, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 2 {
		t.Fatalf("got %d phases", len(phases))
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Phase.Name+":"+o.String())
	}
	want := "a:Namespace n,b:Gateway z/g,b:HTTPRoute a/r9,b:HTTPRoute b/r1,b:HTTPRoute b/r2,b:Unranked z"
	if strings.Join(got, ",") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, ","), want)
	}
}

func TestDuplicateObjectsAreRefused(t *testing.T) {
	v := cuecontext.New().CompileString(`
phases: [{name: "a", wave: 0, file: "f"}]
kindRank: []
objects: a: [{apiVersion: "v1", kind: "Namespace", metadata: name: "n"}, {apiVersion: "v1", kind: "Namespace", metadata: name: "n"}]
`)
	if _, _, err := Objects(v, nil, false); err == nil || !strings.Contains(err.Error(), "two objects named Namespace n") {
		t.Errorf("got %v, want a duplicate error", err)
	}
}

// TestExtraObjectsJoinTheOrder checks that objects evaluated elsewhere
// (route by route) take their place by the same rule.
func TestExtraObjectsJoinTheOrder(t *testing.T) {
	v := cuecontext.New().CompileString(out)
	extra := map[string][]json.RawMessage{
		"b": {json.RawMessage(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r0","namespace":"b"}}`)},
		"a": {json.RawMessage(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"m"}}`)},
	}
	_, objs, err := Objects(v, extra, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Phase.Name+":"+o.String())
		// the extra objects were checked where they were generated
		if fromExtra := o.Name == "r0" || o.Name == "m"; o.Checked != fromExtra {
			t.Errorf("%s: checked %v, want %v", o, o.Checked, fromExtra)
		}
	}
	want := "a:Namespace m,a:Namespace n,b:Gateway z/g,b:HTTPRoute a/r9,b:HTTPRoute b/r0,b:HTTPRoute b/r1,b:HTTPRoute b/r2,b:Unranked z"
	if strings.Join(got, ",") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, ","), want)
	}
}
