package unify

import (
	"context"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
)

// TestCUEFeatures checks that a CUE intent may use hidden fields,
// definitions, references, comprehensions, comments, defaults and the
// standard library, and that the result is resolved with the schema's
// defaults.
func TestCUEFeatures(t *testing.T) {
	src := `package shop

import "strings"

// the services, as hidden data
_svc: [{n: "cart", p: 8080}, {n: "web", p: 80}]
#Backend: {namespace: *"shop" | string, port: int, ...}
_domain: "example.com"

apiVersion: "egmc.dev/v1alpha1"
kind:       "Intent"
metadata: name: "shop"
spec: {
	mesh: {provider: "none"}
	routes: [for s in _svc {
		name: s.n
		hostnames: [strings.ToLower(s.n) + "." + _domain]
		backend: #Backend & {service: s.n, port: s.p}
	}]
}
`
	in, err := load.Parse("intent.cue", load.CUE, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s, err := module.NewEmbedded().Schema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Unify(context.Background(), s, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"spec.routes[1].hostnames[0]":      "web.example.com",
		"spec.routes[0].backend.namespace": "shop",
		"spec.gateway.namespace":           "gateway-system",
		"spec.gateway.name":                "shop",
		"spec.gateway.className":           "eg",
		"spec.mtls.mode":                   "none",
		"spec.ownership.circuitBreaking":   "gateway",
		"spec.routes[0].backend.protocol":  "http",
		"spec.mesh.state":                  "installed",
	} {
		got, err := resolve(t, s, in).LookupPath(cue.ParsePath(path)).String()
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", path, got, err, want)
		}
	}
	if res.Profile != "none" {
		t.Errorf("profile %s, want none", res.Profile)
	}
}

// TestDefaultsDependOnProfile checks the defaults that follow the profile.
func TestDefaultsDependOnProfile(t *testing.T) {
	cases := map[string]map[string]string{
		`mesh: {provider: "istio", mode: "sidecar"}`:                                                                {"spec.mtls.mode": "mesh", "spec.ownership.circuitBreaking": "mesh"},
		`mesh: {provider: "istio", mode: "ambient"}`:                                                                {"spec.mtls.mode": "mesh", "spec.ownership.circuitBreaking": "gateway"},
		`mesh: {provider: "istio", mode: "sidecar"}, gateway: {inMesh: false}, mesh: istio: mtlsMode: "PERMISSIVE"`: {"spec.ownership.circuitBreaking": "gateway"},
		`mesh: {provider: "none"}, gateway: distribution: "teg"`:                                                    {"spec.gateway.className": "teg"},
	}
	s, err := module.NewEmbedded().Schema()
	if err != nil {
		t.Fatal(err)
	}
	for spec, want := range cases {
		src := `apiVersion: "egmc.dev/v1alpha1", kind: "Intent", metadata: name: "x"
spec: {` + spec + `, routes: [{name: "a", hostnames: ["a.example.com"], backend: {service: "a", namespace: "a", port: 80}}]}`
		in, err := load.Parse("i.cue", load.CUE, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unify(context.Background(), s, in, Options{}); err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		for path, w := range want {
			if got, _ := resolve(t, s, in).LookupPath(cue.ParsePath(path)).String(); got != w {
				t.Errorf("%s: %s = %q, want %q", spec, path, got, w)
			}
		}
	}
}

// resolve returns the intent resolved against #Intent: the user's values
// and every default.
func resolve(t *testing.T, s *module.Schema, in *load.Intent) cue.Value {
	t.Helper()
	v := s.Intent().Unify(cuecontext.New().BuildFile(in.File))
	if err := v.Validate(cue.Concrete(true)); err != nil {
		t.Fatal(err)
	}
	return v
}
