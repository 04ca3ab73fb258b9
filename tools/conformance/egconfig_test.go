package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSDSNeedsEGConfig checks that a stream with an SDS Secret fails
// unless its Envoy Gateway values enable SDS Secret references (the egctl
// the harness builds always does).
func TestSDSNeedsEGConfig(t *testing.T) {
	dir := t.TempDir()
	stream := "apiVersion: v1\nkind: Secret\nmetadata: {name: cert, namespace: gw}\ntype: gateway.envoyproxy.io/sds\n"
	if err := os.WriteFile(filepath.Join(dir, "stream.yaml"), []byte(stream), 0o644); err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(dir, ValuesDir, "envoy-gateway-values.yaml")
	for _, tc := range []struct {
		values string // "" writes no values file
		fails  bool
	}{
		{"", true},
		{"config: {envoyGateway: {extensionApis: {enableBackend: true}}}\n", true},
		{"config: {envoyGateway: {extensionApis: {enableSDSSecretRef: false}}}\n", true},
		{"config: {envoyGateway: {extensionApis: {enableSDSSecretRef: true}}}\n", false},
	} {
		os.RemoveAll(filepath.Dir(values))
		if tc.values != "" {
			if err := os.MkdirAll(filepath.Dir(values), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(values, []byte(tc.values), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := LoadExample(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := sdsConfigFailures(s)
		if (len(got) > 0) != tc.fails {
			t.Errorf("values %q: failures %v, want failing %v", tc.values, got, tc.fails)
		}
		if len(got) > 0 && !strings.Contains(got[0].String(), "[harness] Secret gw/cert: EnvoyGateway config: a Secret of type gateway.envoyproxy.io/sds needs") {
			t.Errorf("values %q: failure %q", tc.values, got[0])
		}
	}
}
