package golden_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// sharedObject is one cluster-scoped object as one example emits it.
type sharedObject struct {
	example string
	json    []byte
}

// TestSharedObjectsAgree builds every example as if all of them shared one
// cluster and checks what they would share: a cluster-scoped object that
// several examples emit (a GatewayClass, say) must be the same in each, or
// the last one applied would replace the others' (issue 10, defect 8); a
// Namespace may carry other labels in each, but no label key with two
// values (server-side apply would refuse, or the last intent win).
func TestSharedObjectsAgree(t *testing.T) {
	emitted := map[string][]sharedObject{}
	for name, file := range examples(t) {
		res, err := testCompiler.CompileFile(context.Background(), file, everything)
		if err != nil {
			t.Fatalf("compiling %s: %v", file, err)
		}
		for _, o := range res.Objects {
			if o.Namespace == "" {
				id := o.Group + "|" + o.Kind + "|" + o.Name
				emitted[id] = append(emitted[id], sharedObject{example: name, json: o.JSON})
			}
		}
	}
	ids := make([]string, 0, len(emitted))
	for id := range emitted {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		objs := emitted[id]
		sort.Slice(objs, func(i, j int) bool { return objs[i].example < objs[j].example })
		if strings.HasPrefix(id, "|Namespace|") {
			checkNamespaceLabels(t, id, objs)
			continue
		}
		for _, o := range objs[1:] {
			if string(o.json) != string(objs[0].json) {
				t.Errorf("%s differs between examples %s and %s:\n%s\n%s", id, objs[0].example, o.example, objs[0].json, o.json)
			}
		}
	}
}

// checkNamespaceLabels fails when two examples give one label of a
// Namespace different values.
func checkNamespaceLabels(t *testing.T, id string, objs []sharedObject) {
	t.Helper()
	type setBy struct{ value, example string }
	seen := map[string]setBy{}
	for _, o := range objs {
		var ns struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(o.json, &ns); err != nil {
			t.Fatal(err)
		}
		for k, v := range ns.Metadata.Labels {
			was, ok := seen[k]
			switch {
			case !ok:
				seen[k] = setBy{v, o.example}
			case was.value != v:
				t.Errorf("%s label %s: %q (%s) vs %q (%s)", id, k, was.value, was.example, v, o.example)
			}
		}
	}
}
