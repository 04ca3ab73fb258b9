package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

const route = `{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "n"},
 "spec": {"parentRefs": [{"name": "g"}], "rules": [{"matches": [{"path": {"type": "%s", "value": "/"}}], "backendRefs": [{"name": "s", "port": %s}]%s}]}}`

func TestObject(t *testing.T) {
	cases := []struct {
		name, obj, want string
	}{
		{"valid", sprintf(route, "PathPrefix", "8000", ""), ""},
		{"bad enum", sprintf(route, "Prefix", "8000", ""), `spec.rules[0].matches[0].path.type in body should be one of [Exact PathPrefix RegularExpression]`},
		{"out of range", sprintf(route, "PathPrefix", "70000", ""), `spec.rules[0].backendRefs[0].port in body should be less than or equal to 65535`},
		{"wrong type", sprintf(route, "PathPrefix", `"80"`, ""), `spec.rules[0].backendRefs[0].port in body must be of type integer`},
		{"unknown field", sprintf(route, "PathPrefix", "80", `, "timeout": "1s"`), `spec.rules[0].timeout: field not declared in the schema`},
		{"missing required", `{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "eg"}, "spec": {}}`, `spec.controllerName in body is required`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := decode(t, c.obj)
			errs, err := Object(obj["apiVersion"].(string), obj["kind"].(string), obj)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.String())
			}
			all := strings.Join(got, "\n")
			if c.want == "" && all != "" || !strings.Contains(all, c.want) {
				t.Errorf("got %q, want %q", all, c.want)
			}
		})
	}
}

// TestGenerated: an invalid generated object is an internal error that
// names the profile, the object and the field; a valid one passes.
func TestGenerated(t *testing.T) {
	if err := Generated("p", []byte(sprintf(route, "PathPrefix", "8000", ""))); err != nil {
		t.Errorf("valid route: %v", err)
	}
	for name, c := range map[string]struct{ obj, want string }{
		"invalid":      {sprintf(route, "Prefix", "8000", ""), "internal error (please report it at the egmc issue tracker): profile p generated an invalid gateway.networking.k8s.io/v1 HTTPRoute n/r: spec.rules[0].matches[0].path.type"},
		"not JSON":     {"{", "profile p: decoding an object"},
		"unknown kind": {`{"apiVersion": "v9", "kind": "Widget", "metadata": {"name": "x"}}`, "profile p: Widget x: no schema for v9 Widget"},
	} {
		err := Generated("p", []byte(c.obj))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want it to hold %q", name, err, c.want)
		}
	}
}

func TestUnknownKindIsRefused(t *testing.T) {
	if _, err := Object("example.com/v1", "Widget", map[string]any{}); err == nil || !strings.Contains(err.Error(), "no schema for example.com/v1 Widget") {
		t.Errorf("got %v", err)
	}
	if errs, err := Object("v1", "Namespace", map[string]any{}); err != nil || errs != nil {
		t.Errorf("Namespace: %v %v", errs, err)
	}
}

// TestEveryKindHasASchema parses every embedded schema.
func TestEveryKindHasASchema(t *testing.T) {
	kinds := Kinds()
	if len(kinds) < 19 {
		t.Fatalf("only %d schemas", len(kinds))
	}
	for _, k := range kinds {
		parts := strings.Split(k, "_")
		if _, err := kindOf(parts[0]+"/"+parts[1], kindName(parts[2])); err != nil {
			t.Error(err)
		}
	}
	if len(Pins()) != 3 {
		t.Errorf("pins: %v", Pins())
	}
}

func kindName(lower string) string {
	for _, k := range []string{"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "BackendTLSPolicy", "ReferenceGrant", "EnvoyProxy", "BackendTrafficPolicy", "SecurityPolicy", "ClientTrafficPolicy", "VirtualService", "DestinationRule", "ServiceEntry", "Sidecar", "PeerAuthentication", "AuthorizationPolicy", "Telemetry", "CiliumNetworkPolicy"} {
		if strings.ToLower(k) == lower {
			return k
		}
	}
	return lower
}

func sprintf(format string, args ...any) string {
	return fmt.Sprintf(format, args...)
}
