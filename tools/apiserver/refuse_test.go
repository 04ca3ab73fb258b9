package apiserver

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// longHost is a valid hostname of 247 characters: a name built from it
// ("<intent>-<host with '.' as '-'>") passes Kubernetes' 253.
var longHost = strings.Repeat(strings.Repeat("a", 58)+".", 4) + "example.com"

// refusal is a value the API server refuses, and the intent field through
// which it would reach egmc's output: egmc must refuse the intent first,
// at that field.
type refusal struct {
	name string
	// edit makes an applied object bad the way the value would, or
	// returns false when the object has no place for the value.
	edit func(o *unstructured.Unstructured) bool
	// intent is an intent carrying the value; at is where egmc must
	// report it (line:col of intent.yaml).
	intent, at string
}

var refusals = []refusal{{
	name: "path with a newline",
	edit: func(o *unstructured.Unstructured) bool {
		rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
		if o.GetKind() != "HTTPRoute" || len(rules) == 0 {
			return false
		}
		matches, _ := rules[0].(map[string]any)["matches"].([]any)
		if len(matches) == 0 {
			return false
		}
		matches[0].(map[string]any)["path"] = map[string]any{"type": "PathPrefix", "value": "/a\nb"}
		return unstructured.SetNestedSlice(o.Object, rules, "spec", "rules") == nil
	},
	intent: `apiVersion: egmc.dev/v1alpha1
kind: Intent
metadata: {name: shop}
spec:
  mesh: {provider: none}
  routes:
    - name: web
      hostnames: [www.example.com]
      match: {pathPrefix: "/a\nb"}
      backend: {service: web, namespace: shop, port: 8080}
`,
	at: "9:27",
}, {
	name: "name over 253 characters",
	edit: func(o *unstructured.Unstructured) bool {
		o.SetName("shop-long-name-" + strings.ReplaceAll(longHost, ".", "-"))
		return o.GetKind() == "HTTPRoute"
	},
	intent: `apiVersion: egmc.dev/v1alpha1
kind: Intent
metadata: {name: shop-long-name}
spec:
  mesh: {provider: istio, mode: sidecar}
  routes:
    - name: web
      hostnames: [` + longHost + `]
      backend: {service: web, namespace: shop, port: 8080}
`,
	at: "8:19",
}, {
	// egmc does not refuse this one: it emits every namespace it uses
	// in its first phase, which TestExamplesApply proves in order.
	name: "namespace that does not exist",
	edit: func(o *unstructured.Unstructured) bool {
		o.SetNamespace("nowhere")
		return o.GetKind() == "HTTPRoute"
	},
}}

// TestServerRefusesWhatEgmcRefuses checks each refusal both ways: the API
// server refuses the bad value in an object egmc emits, and egmc refuses
// the intent that would carry it, at the intent's field, with nothing on
// stdout, before any server sees it.
func TestServerRefusesWhatEgmcRefuses(t *testing.T) {
	startEtcd(t)
	b := build(t, "plain-envoy-gateway")
	c := startCluster(t, crds)
	objs, err := runRunbook(t, c, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			var obj *unstructured.Unstructured
			for _, a := range objs {
				if o := a.sent.DeepCopy(); r.edit(o) {
					obj = o
					break
				}
			}
			if obj == nil {
				t.Fatalf("the example has no object to edit")
			}
			if _, err := c.apply(obj, b.manager); err == nil {
				t.Errorf("the server accepts %s with the bad value", name(obj))
			} else {
				t.Logf("the server refuses %s: %v", name(obj), err)
			}
			if r.intent == "" {
				return
			}
			file := filepath.Join(t.TempDir(), "intent.yaml")
			if err := os.WriteFile(file, []byte(r.intent), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(egmcBin, "build", file)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err == nil || stdout.Len() > 0 {
				t.Fatalf("egmc build: %v, stdout %q: want a refusal and nothing on stdout", err, stdout.String())
			}
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(file+":"+r.at+": ")).Match(stderr.Bytes()) {
				t.Errorf("egmc build does not refuse it at intent.yaml:%s:\n%s", r.at, stderr.String())
			}
		})
	}
}
