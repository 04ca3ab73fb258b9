package sim

import (
	"strings"
	"testing"

	"egmc.dev/egmc/tools/conformance"
)

// plainGateway is a Gateway with one HTTP route to web/stream:8080.
const plainGateway = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: gw}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: stream, namespace: web}
spec:
  parentRefs: [{name: edge, namespace: gw}]
  hostnames: [www.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: stream, port: 8080}]
`

// streamService is web/stream, with appProtocol when it is not "".
func streamService(appProtocol string) conformance.Object {
	port := map[string]any{"name": "http-8080", "port": 8080, "targetPort": 8080, "protocol": "TCP"}
	if appProtocol != "" {
		port["appProtocol"] = appProtocol
	}
	return conformance.Object{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "stream", "namespace": "web"},
		"spec":     map[string]any{"clusterIP": "10.97.0.20", "selector": map[string]any{"app": "stream"}, "ports": []any{port}},
	}
}

// TestH2CAppProtocol shows what egmc's runbook relies on for http2
// backends: Envoy Gateway speaks HTTP/2 upstream only when the Service
// port declares appProtocol kubernetes.io/h2c.
func TestH2CAppProtocol(t *testing.T) {
	egctl := egctlOrFail(t)
	objs, err := conformance.ParseStream([]byte(plainGateway))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseRequest("GET http://www.example.com/events")
	if err != nil {
		t.Fatal(err)
	}
	for appProtocol, wantH2 := range map[string]bool{"": false, "kubernetes.io/h2c": true} {
		s := newSimulator(t, egctl, conformance.Stream{Name: "h2c", Objects: objs}, Options{Cluster: []conformance.Object{streamService(appProtocol)}})
		got := s.Simulate(req)
		if got.Backend != "stream.web:8080" {
			t.Fatalf("appProtocol %q: backend %q error %q", appProtocol, got.Backend, got.Error)
		}
		if h2 := strings.Contains(got.Hops[0].Note, "HTTP/2"); h2 != wantH2 {
			t.Errorf("appProtocol %q: HTTP/2 upstream %v, want %v (hop %+v)", appProtocol, h2, wantH2, got.Hops[0])
		}
	}
}

// TestParseRequest checks the request syntax and its errors.
func TestParseRequest(t *testing.T) {
	r, err := ParseRequest("post https://api.example.com:8443/v1/items?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.Scheme != "https" || r.Host != "api.example.com" || r.Port != 8443 || r.Path != "/v1/items?limit=2" {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{"GET", "GET ftp://example.com/", "GET http:///x", "GET http://example.com:99999/"} {
		if _, err := ParseRequest(bad); err == nil {
			t.Errorf("ParseRequest(%q) accepted it", bad)
		}
	}
}

// TestBackendTLSThroughSidecars backs EGMC009: with mtls.mode backend-tls
// and the gateway in an Istio sidecar mesh (testdata/streams/
// backend-tls-in-mesh.yaml, egmc's output for such an intent), the
// gateway's TLS reaches the backend inside Istio mTLS when the backend's
// Service port is declared TLS, and is refused under STRICT when the port
// is declared HTTP.
func TestBackendTLSThroughSidecars(t *testing.T) {
	egctl := egctlOrFail(t)
	objs, err := conformance.ReadStreamFile("testdata/streams/backend-tls-in-mesh.yaml")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseRequest("GET http://ledger.example.com/ledger/balance")
	if err != nil {
		t.Fatal(err)
	}
	for portName, delivered := range map[string]bool{"https-8443": true, "http-8443": false} {
		svc := conformance.Object{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "ledger", "namespace": "finance"},
			"spec": map[string]any{"clusterIP": "10.97.0.11", "selector": map[string]any{"app": "ledger"},
				"ports": []any{map[string]any{"name": portName, "port": 8443, "targetPort": 8443, "protocol": "TCP"}}},
		}
		s := newSimulator(t, egctl, conformance.Stream{Name: "backend-tls", Objects: objs}, Options{Cluster: []conformance.Object{svc}})
		got := s.Simulate(req)
		side := findHop(got, "gateway-sidecar")
		switch {
		case side == nil:
			t.Errorf("port %s: no hop through the gateway's sidecar: %+v", portName, got.Hops)
		case delivered && (got.Backend != "ledger.finance:8443" || got.Path != "/balance" || side.TLS != TLSIstioMTLS):
			t.Errorf("port %s: backend %q path %q error %q, gateway sidecar TLS %s; want ledger.finance:8443 /balance over istio-mtls", portName, got.Backend, got.Path, got.Error, side.TLS)
		case !delivered && (got.Backend != "" || !strings.Contains(got.Error, "STRICT")):
			t.Errorf("port %s: backend %q error %q; want a refusal under STRICT", portName, got.Backend, got.Error)
		}
	}
}
