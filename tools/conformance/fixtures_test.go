package conformance

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"
)

// These tests need no binaries: they check the harness's own logic.

// TestFixtures checks the fixtures generated for ok-eg.yaml.
func TestFixtures(t *testing.T) {
	s := testStream(t, "ok-eg.yaml")
	fixtures, err := Fixtures(s.Objects)
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[Ref]Object{}
	for _, f := range fixtures {
		byRef[f.Ref()] = f
	}
	if len(byRef) != 4 {
		t.Errorf("got %d fixtures, want 4: %v", len(byRef), fixtures)
	}

	api := byRef[Ref{"Service", "shop", "api"}]
	if ip := str(api.Spec(), "clusterIP"); ip == "" {
		t.Errorf("Service shop/api: no clusterIP: %v", api)
	}
	if ports := maps(api.Spec(), "ports"); len(ports) != 1 || str(ports[0], "name") != "http-8080" {
		t.Errorf("Service shop/api ports = %v, want one http-8080", ports)
	}
	otel := byRef[Ref{"Service", "observability", "otel-collector"}]
	if ports := maps(otel.Spec(), "ports"); len(ports) != 1 || str(ports[0], "name") != "grpc-4317" {
		t.Errorf("Service observability/otel-collector ports = %v, want one grpc-4317", ports)
	}

	secret := byRef[Ref{"Secret", "gw", "edge-tls"}]
	certPEM, _ := base64.StdEncoding.DecodeString(str(secret, "data", "tls.crt"))
	keyPEM, _ := base64.StdEncoding.DecodeString(str(secret, "data", "tls.key"))
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("Secret gw/edge-tls: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || leaf.VerifyHostname("www.example.com") != nil {
		t.Errorf("Secret gw/edge-tls: certificate not valid for www.example.com (%v, SANs %v)", err, leaf.DNSNames)
	}

	ca := byRef[Ref{"ConfigMap", "shop", "api-ca"}]
	block, _ := pem.Decode([]byte(str(ca, "data", "ca.crt")))
	if block == nil {
		t.Fatalf("ConfigMap shop/api-ca: no PEM in ca.crt: %v", ca)
	}
	if cert, err := x509.ParseCertificate(block.Bytes); err != nil || !cert.IsCA {
		t.Errorf("ConfigMap shop/api-ca: not a CA certificate (%v)", err)
	}
}

// TestFixturesKeepStreamObjects checks that an object the stream defines is
// not replaced by a fixture.
func TestFixturesKeepStreamObjects(t *testing.T) {
	s := testStream(t, "ok-eg.yaml", edit{Old: "", New: "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n"})
	fixtures, err := Fixtures(s.Objects)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		if f.Ref() == (Ref{"Service", "shop", "api"}) {
			t.Errorf("fixture replaces the stream's Service shop/api")
		}
	}
}

// TestSelectorMatches checks label selector semantics.
func TestSelectorMatches(t *testing.T) {
	labels := map[string]string{"a": "1", "b": "2"}
	cases := []struct {
		selector string
		want     bool
	}{
		{`{}`, true},
		{`{matchLabels: {a: "1"}}`, true},
		{`{matchLabels: {a: "2"}}`, false},
		{`{matchLabels: {c: "1"}}`, false},
		{`{matchExpressions: [{key: b, operator: In, values: ["2", "3"]}]}`, true},
		{`{matchExpressions: [{key: b, operator: NotIn, values: ["2"]}]}`, false},
		{`{matchExpressions: [{key: c, operator: DoesNotExist}]}`, true},
		{`{matchExpressions: [{key: c, operator: Exists}]}`, false},
	}
	for _, c := range cases {
		objs, err := ParseStream([]byte(c.selector))
		if err != nil {
			t.Fatal(err)
		}
		var sel map[string]any
		if len(objs) > 0 {
			sel = objs[0]
		}
		got, err := selectorMatches(sel, labels)
		if err != nil || got != c.want {
			t.Errorf("selectorMatches(%s) = %v, %v; want %v", c.selector, got, err, c.want)
		}
	}
}

// TestCheckTranslated checks the comparison of egctl's output with the input
// on a hand-written output.
func TestCheckTranslated(t *testing.T) {
	in, err := ParseStream([]byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  listeners: [{name: http, port: 80, protocol: HTTP}, {name: tcp, port: 9000, protocol: TCP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw, sectionName: http}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: dropped, namespace: ns}
spec:
  parentRefs: [{name: other}]
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseStream([]byte(`
gateways:
- metadata: {name: gw, namespace: ns}
  status:
    conditions: [{type: Accepted, status: "True"}]
    listeners:
    - name: http
      conditions: [{type: Accepted, status: "True"}, {type: Programmed, status: "True"}, {type: ResolvedRefs, status: "True"}]
    - name: tcp
      conditions: [{type: Accepted, status: "True"}, {type: Programmed, status: "False", reason: Invalid, message: no routes}, {type: ResolvedRefs, status: "True"}]
httpRoutes:
- metadata: {name: r, namespace: ns}
  status:
    parents:
    - parentRef: {name: gw, namespace: ns, sectionName: http}
      conditions: [{type: Accepted, status: "True"}, {type: ResolvedRefs, status: "False", reason: BackendNotFound, message: gone}]
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range checkTranslated(gatewayObjects(in), out[0]) {
		got = append(got, f.String())
	}
	want := []string{
		"[egctl] Gateway ns/gw: listener tcp: Programmed=False (Invalid): no routes",
		"[egctl] HTTPRoute ns/r: parent ns/gw#http: ResolvedRefs=False (BackendNotFound): gone",
		"[egctl] HTTPRoute ns/dropped: missing: the object is not in egctl's output: the translator dropped it (does its parentRef or targetRef name a Gateway or GatewayClass it processed?)",
	}
	if len(got) != len(want) {
		t.Fatalf("got failures\n%v\nwant\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("failure %d = %q, want %q", i, got[i], want[i])
		}
	}
}
