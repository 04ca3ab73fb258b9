package compiler_test

import (
	"fmt"
	"strings"
	"testing"

	"egmc.dev/egmc/golden"
)

// defaultsIntent is an intent that sets nothing it does not have to, so
// that what it produces is egmc's defaults for the mesh.
func defaultsIntent(mesh string) []byte {
	return []byte(fmt.Sprintf(`apiVersion: egmc.dev/v1alpha1
kind: Intent
metadata: {name: shop}
spec:
  mesh: %s
  routes:
    - {name: web, hostnames: [www.example.com], backend: {service: web, namespace: web, port: 8080}}
`, mesh))
}

// TestSecureDefaults compiles an intent that leaves every security
// setting to its default, for every profile, and checks what egmc
// promises: STRICT mTLS on the backend where the mesh provides it (and
// nothing mesh-wide: the intent owns its backends, not the mesh),
// listeners that admit routes only from selected namespaces, and no secret
// material.
func TestSecureDefaults(t *testing.T) {
	for _, tc := range []struct {
		mesh   string
		strict bool // the mesh provides mTLS, so the default is STRICT
	}{
		{`{provider: istio, mode: sidecar}`, true},
		{`{provider: istio, mode: ambient}`, true},
		{`{provider: cilium}`, false},
		{`{provider: none}`, false},
	} {
		t.Run(tc.mesh, func(t *testing.T) {
			res, err := compileBytes("intent.yaml", defaultsIntent(tc.mesh))
			if err != nil {
				t.Fatal(err)
			}
			stream, err := res.Stream()
			if err != nil {
				t.Fatal(err)
			}
			docs, err := golden.Documents(stream)
			if err != nil {
				t.Fatal(err)
			}
			var strict int
			for _, d := range docs {
				obj := d.(map[string]any)
				checkNoSecretMaterial(t, obj)
				switch obj["kind"] {
				case "Gateway":
					checkListenersSelectNamespaces(t, obj)
				case "PeerAuthentication":
					mode := dig(obj, "spec", "mtls", "mode")
					if mode != "STRICT" {
						t.Errorf("PeerAuthentication %v has mode %v, want STRICT", dig(obj, "metadata", "name"), mode)
					}
					if dig(obj, "spec", "selector") == nil {
						t.Errorf("PeerAuthentication %v/%v applies to a whole namespace or the mesh", dig(obj, "metadata", "namespace"), dig(obj, "metadata", "name"))
					}
					if dig(obj, "metadata", "namespace") == "web" && dig(obj, "spec", "selector", "matchLabels", "app") == "web" {
						strict++ // the backend's pods
					}
				}
			}
			if tc.strict && strict != 1 {
				t.Errorf("%d STRICT PeerAuthentications select the backend's pods, want 1", strict)
			}
			if !tc.strict && strict != 0 {
				t.Errorf("%d PeerAuthentications for a mesh without Istio", strict)
			}
		})
	}
}

// checkListenersSelectNamespaces fails when a listener admits routes from
// all namespaces or from none named.
func checkListenersSelectNamespaces(t *testing.T, gw map[string]any) {
	t.Helper()
	listeners, _ := dig(gw, "spec", "listeners").([]any)
	if len(listeners) == 0 {
		t.Fatalf("Gateway without listeners")
	}
	for _, l := range listeners {
		from := dig(l.(map[string]any), "allowedRoutes", "namespaces", "from")
		if from != "Selector" && from != "Same" {
			t.Errorf("listener %v admits routes from %v, want Selector or Same", dig(l.(map[string]any), "name"), from)
		}
	}
}

// checkNoSecretMaterial fails on Secrets and on anything that looks like
// a key or a certificate body.
func checkNoSecretMaterial(t *testing.T, obj map[string]any) {
	t.Helper()
	if obj["kind"] == "Secret" {
		t.Errorf("emits Secret %v", dig(obj, "metadata", "name"))
	}
	walkStrings(obj, func(s string) {
		if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "BEGIN CERTIFICATE") {
			t.Errorf("%v %v carries key or certificate material", obj["kind"], dig(obj, "metadata", "name"))
		}
	})
}

func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case map[string]any:
		for _, e := range v {
			walkStrings(e, f)
		}
	case []any:
		for _, e := range v {
			walkStrings(e, f)
		}
	}
}

// dig follows keys through nested maps and returns nil when one is absent.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
