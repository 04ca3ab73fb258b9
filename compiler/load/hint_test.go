package load

import "testing"

func TestMeshHint(t *testing.T) {
	for _, tc := range []struct {
		name, src      string
		provider, mode string
	}{
		{"intent.yaml", "spec:\n  mesh: {provider: istio, mode: ambient}\n", "istio", "ambient"},
		{"intent.yaml", "spec:\n  mesh:\n    provider: cilium\n", "cilium", ""},
		{"intent.cue", "spec: mesh: {provider: \"istio\", mode: \"sidecar\"}\n", "istio", "sidecar"},
		{"intent.cue", "spec: {routes: []}\nspec: mesh: provider: \"none\"\n", "none", ""},
		{"intent.cue", "let p = \"istio\"\nspec: mesh: provider: p\n", "", ""},
		{"intent.yaml", "kind: Intent\n", "", ""},
	} {
		in, err := ParseBytes(tc.name, []byte(tc.src))
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if p, m := in.MeshHint(); p != tc.provider || m != tc.mode {
			t.Errorf("%q: got %q %q, want %q %q", tc.src, p, m, tc.provider, tc.mode)
		}
	}
}
