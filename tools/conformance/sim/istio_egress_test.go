package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"egmc.dev/egmc/tools/conformance"
)

// egressExample is the example whose golden stream holds egmc's egress path.
const egressExample = "../../../golden/istio-egress"

// The proxies and clusters of the istio-egress example.
const (
	apiSidecar    = "istio-proxy default/api-service-0 (sidecar of the backend)"
	egressGateway = "istio-egressgateway istio-system/istio-egressgateway-0 (egress gateway)"
	egressFQDN    = "istio-egressgateway.istio-system.svc.cluster.local"
	egressPolicy  = "AuthorizationPolicy istio-system/api-egress"
)

// apiService is a backend of the example, in namespace default.
var apiService = Service{Namespace: "default", Name: "api-service"}

// egressSetup is what an egress simulation is built from.
type egressSetup struct {
	objs, fixtures []conformance.Object
	opts           EgressOptions
}

// loadEgress reads the example's golden stream (or the stream file given),
// its fixtures, mesh config and egress gateway values.
func loadEgress(t *testing.T, stream string) egressSetup {
	t.Helper()
	s, err := conformance.LoadExample(egressExample)
	if err != nil {
		t.Fatal(err)
	}
	if stream != "" {
		if s.Objects, err = conformance.ReadStreamFile(stream); err != nil {
			t.Fatal(err)
		}
	}
	values, err := os.ReadFile(filepath.Join(egressExample, conformance.ValuesDir, "istio-egressgateway-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return egressSetup{objs: s.Objects, opts: EgressOptions{GatewayValues: values, MeshConfig: s.MeshConfig}}
}

// with adds objects to the stream and fixtures.
func (s egressSetup) with(t *testing.T, stream, fixtures string) egressSetup {
	t.Helper()
	s.objs = append(append([]conformance.Object{}, s.objs...), parse(t, stream)...)
	s.fixtures = append(append([]conformance.Object{}, s.fixtures...), parse(t, fixtures)...)
	return s
}

// build runs the fake istiod.
func (s egressSetup) build(t *testing.T) *IstioEgress {
	t.Helper()
	fixtures, err := conformance.Fixtures(s.objs)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewIstioEgress(s.objs, append(fixtures, s.fixtures...), s.opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// String formats a result for failure messages.
func (r EgressResult) String() string {
	out, _ := json.MarshalIndent(r, "", "  ")
	return string(out)
}

// wantEgressHops checks the number of hops and their proxies.
func wantEgressHops(t *testing.T, r EgressResult, proxies ...string) {
	t.Helper()
	if len(r.Hops) != len(proxies) {
		t.Fatalf("got %d hops, want %d:\n%s", len(r.Hops), len(proxies), r)
	}
	for i, p := range proxies {
		if r.Hops[i].Proxy != p {
			t.Errorf("hop %d: proxy %q, want %q", i, r.Hops[i].Proxy, p)
		}
	}
}

// wantHop compares the fields of a hop that a case cares about.
func wantHop(t *testing.T, got, want EgressHop) {
	t.Helper()
	if got.Listener != want.Listener || got.Cluster != want.Cluster || got.TLS != want.TLS ||
		got.SNI != want.SNI || got.Policy != want.Policy || got.VirtualHost != want.VirtualHost || got.Route != want.Route {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("hop\n  %s\nwant\n  %s", g, w)
	}
}

// wantEgressRefused checks that the call was refused for a reason naming
// every fragment.
func wantEgressRefused(t *testing.T, r EgressResult, fragments ...string) {
	t.Helper()
	if r.Error == "" || r.Destination != "" {
		t.Fatalf("delivered to %q, want refused:\n%s", r.Destination, r)
	}
	for _, f := range fragments {
		if !strings.Contains(r.Error, f) {
			t.Errorf("refused %q, want it to say %q", r.Error, f)
		}
	}
}

// egressCase is a call and the hops it must take on the golden stream.
type egressCase struct {
	call                   EgressCall
	sidecar, gateway       EgressHop
	destination, entryName string
}

// egressCases are the example's hosts, one per protocol: each leaves the
// backend's sidecar over Istio mTLS to its subset of the egress gateway,
// with the host as SNI, and leaves the egress gateway for the host's
// ServiceEntry cluster; TLS passes through the egress gateway unopened.
var egressCases = []egressCase{{
	call: EgressCall{From: apiService, Host: "api.stripe.com", Port: 443, Protocol: EgressTLS},
	sidecar: EgressHop{Listener: "0.0.0.0_443", TLS: TLSIstioMTLS, SNI: "api.stripe.com",
		Cluster: "outbound|443|api-api-stripe-com-443|" + egressFQDN},
	gateway: EgressHop{Listener: "0.0.0.0_443", Cluster: "outbound|443||api.stripe.com",
		TLS: TLSSimple, SNI: "api.stripe.com", Policy: egressPolicy},
	destination: "api.stripe.com:443", entryName: "istio-system/api-egress-api-stripe-com-443",
}, {
	call: EgressCall{From: apiService, Host: "api.external-service.com", Port: 443, Protocol: EgressTLS},
	sidecar: EgressHop{Listener: "0.0.0.0_443", TLS: TLSIstioMTLS, SNI: "api.external-service.com",
		Cluster: "outbound|443|api-api-external-service-com-443|" + egressFQDN},
	gateway: EgressHop{Listener: "0.0.0.0_443", Cluster: "outbound|443||api.external-service.com",
		TLS: TLSSimple, SNI: "api.external-service.com", Policy: egressPolicy},
	destination: "api.external-service.com:443", entryName: "istio-system/api-egress-api-external-service-com-443",
}, {
	call: EgressCall{From: apiService, Host: "status.external-service.com", Port: 80, Protocol: EgressHTTP, Path: "/health"},
	sidecar: EgressHop{Listener: "0.0.0.0_80", VirtualHost: "status.external-service.com:80", TLS: TLSIstioMTLS,
		SNI: "status.external-service.com", Cluster: "outbound|80|api-status-external-service-com-80|" + egressFQDN},
	gateway: EgressHop{Listener: "0.0.0.0_80", VirtualHost: "status.external-service.com:80",
		Cluster: "outbound|80||status.external-service.com", TLS: TLSNone, Policy: egressPolicy},
	destination: "status.external-service.com:80", entryName: "istio-system/api-egress-status-external-service-com-80",
}, {
	call: EgressCall{From: apiService, Host: "db.external-service.com", Port: 5432, Protocol: EgressTCP},
	sidecar: EgressHop{Listener: "0.0.0.0_5432", TLS: TLSIstioMTLS, SNI: "db.external-service.com",
		Cluster: "outbound|5432|api-db-external-service-com-5432|" + egressFQDN},
	gateway: EgressHop{Listener: "0.0.0.0_5432", Cluster: "outbound|5432||db.external-service.com",
		TLS: TLSNone, Policy: egressPolicy},
	destination: "db.external-service.com:5432", entryName: "istio-system/api-egress-db-external-service-com-5432",
}}

// Every listed host, whatever its protocol, crosses from the backend's
// sidecar to the egress gateway over Istio mTLS, is admitted there by the
// intent's AuthorizationPolicy and leaves for its ServiceEntry's cluster.
func TestEgressOverIstioMTLS(t *testing.T) {
	e := loadEgress(t, "").build(t)
	for _, c := range egressCases {
		t.Run(c.call.String(), func(t *testing.T) {
			r := e.Call(c.call)
			wantEgressHops(t, r, apiSidecar, egressGateway)
			wantHop(t, r.Hops[0], c.sidecar)
			wantHop(t, r.Hops[1], c.gateway)
			if r.Error != "" || r.Destination != c.destination || r.ServiceEntry != c.entryName {
				t.Errorf("destination %q (ServiceEntry %q, error %q), want %q (%q)",
					r.Destination, r.ServiceEntry, r.Error, c.destination, c.entryName)
			}
		})
	}
}

// A host that is not listed never leaves the backend's sidecar
// (REGISTRY_ONLY): TLS goes to the BlackHoleCluster, HTTP gets the
// block_all route's 502.
func TestEgressUnlistedHost(t *testing.T) {
	e := loadEgress(t, "").build(t)
	r := e.Call(EgressCall{From: apiService, Host: "unlisted.example.org", Port: 443, Protocol: EgressTLS})
	wantEgressHops(t, r, apiSidecar)
	wantHop(t, r.Hops[0], EgressHop{Listener: "0.0.0.0_443", Cluster: blackHoleCluster, TLS: TLSNone})
	wantEgressRefused(t, r, "the backend's sidecar", "BlackHoleCluster", "REGISTRY_ONLY")

	r = e.Call(EgressCall{From: apiService, Host: "unlisted.example.org", Port: 80, Protocol: EgressHTTP})
	wantEgressHops(t, r, apiSidecar)
	wantHop(t, r.Hops[0], EgressHop{Listener: "0.0.0.0_80", VirtualHost: "block_all", Route: "block_all", TLS: TLSNone})
	wantEgressRefused(t, r, "the backend's sidecar: 502", "block_all")
}

// otherNamespace is an injected namespace that is not one of the intent's
// backend namespaces, with a pod calling out.
const (
	otherNamespace = `
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {istio-injection: enabled}}
`
	otherService = `
apiVersion: v1
kind: Service
metadata: {name: curl, namespace: other}
spec:
  clusterIP: 10.96.7.10
  selector: {app: curl}
  ports:
  - {name: http-80, port: 80, targetPort: 80, protocol: TCP}
`
)

// A mesh pod of a namespace the intent does not list still reaches the
// egress gateway over Istio mTLS (the ServiceEntries and VirtualServices
// are visible mesh-wide), but the egress gateway's RBAC, built by Istio
// from the AuthorizationPolicy, refuses its identity.
func TestEgressUnlistedNamespace(t *testing.T) {
	e := loadEgress(t, "").with(t, otherNamespace, otherService).build(t)
	from := Service{Namespace: "other", Name: "curl"}
	for _, c := range egressCases {
		t.Run(c.call.String(), func(t *testing.T) {
			call := c.call
			call.From = from
			r := e.Call(call)
			wantEgressHops(t, r, "istio-proxy other/curl-0 (sidecar of the backend)", egressGateway)
			wantHop(t, r.Hops[0], c.sidecar)
			wantHop(t, r.Hops[1], EgressHop{Listener: c.gateway.Listener, VirtualHost: c.gateway.VirtualHost,
				Cluster: c.gateway.Cluster, TLS: TLSNone})
			wantEgressRefused(t, r, "the egress gateway refused the connection from spiffe://cluster.local/ns/other/sa/curl",
				"403 RBAC: no ALLOW policy matches", egressPolicy)
		})
	}
}

// Before issue 10's fix (testdata/before/egress-plaintext.yaml, the golden
// stream as egmc generated it): the backend's sidecar sends to the egress
// gateway's plain cluster, without Istio mTLS (the application's own TLS,
// or plain text), and the egress gateway, which no AuthorizationPolicy
// selects, takes the call from any namespace.
func TestEgressBeforePlaintext(t *testing.T) {
	before := filepath.Join("testdata", "before", "egress-plaintext.yaml")
	e := loadEgress(t, before).with(t, otherNamespace, otherService).build(t)
	cases := []struct {
		call    EgressCall
		sidecar EgressHop
	}{
		{EgressCall{From: apiService, Host: "api.stripe.com", Port: 443, Protocol: EgressTLS},
			EgressHop{Listener: "0.0.0.0_443", Cluster: "outbound|443||" + egressFQDN, TLS: TLSSimple, SNI: "api.stripe.com"}},
		{EgressCall{From: apiService, Host: "status.external-service.com", Port: 80, Protocol: EgressHTTP},
			EgressHop{Listener: "0.0.0.0_80", VirtualHost: "status.external-service.com:80",
				Cluster: "outbound|80||" + egressFQDN, TLS: TLSNone}},
		{EgressCall{From: apiService, Host: "db.external-service.com", Port: 5432, Protocol: EgressTCP},
			EgressHop{Listener: "0.0.0.0_5432", Cluster: "outbound|5432||" + egressFQDN, TLS: TLSNone}},
	}
	for _, c := range cases {
		for _, from := range []Service{apiService, {Namespace: "other", Name: "curl"}} {
			call := c.call
			call.From = from
			r := e.Call(call)
			if len(r.Hops) != 2 || r.Error != "" || r.Destination != call.Host+":"+strconv.Itoa(call.Port) {
				t.Fatalf("%s: want delivered through the egress gateway:\n%s", call, r)
			}
			wantHop(t, r.Hops[0], c.sidecar)
			if r.Hops[1].Policy != "" {
				t.Errorf("%s: admitted by %q, want no AuthorizationPolicy", call, r.Hops[1].Policy)
			}
		}
	}
}

// The egress gateway pod carries no security.istio.io/tlsMode label (the
// istio/gateway chart and Istio's gateway injection template set none), so
// Istio's auto mTLS leaves the old stream in plain text. Were the label
// there, auto mTLS would wrap the old stream's connections in Istio mTLS,
// which its PASSTHROUGH and plain HTTP servers cannot take; the new stream
// sets ISTIO_MUTUAL itself and works either way.
func TestEgressGatewayTLSModeLabel(t *testing.T) {
	label := map[string]string{labelTLSMode: "istio"}
	before := loadEgress(t, filepath.Join("testdata", "before", "egress-plaintext.yaml"))
	before.opts.GatewayPodLabels = label
	e := before.build(t)
	stripe := EgressCall{From: apiService, Host: "api.stripe.com", Port: 443, Protocol: EgressTLS}
	r := e.Call(stripe)
	wantEgressHops(t, r, apiSidecar, egressGateway)
	wantHop(t, r.Hops[0], EgressHop{Listener: "0.0.0.0_443", Cluster: "outbound|443||" + egressFQDN,
		TLS: TLSIstioMTLS, SNI: "outbound_.443_._." + egressFQDN})
	wantEgressRefused(t, r, "the egress gateway: connection closed (no filter chains matched)")

	after := loadEgress(t, "")
	after.opts.GatewayPodLabels = label
	e = after.build(t)
	for _, c := range egressCases {
		r := e.Call(c.call)
		wantEgressHops(t, r, apiSidecar, egressGateway)
		wantHop(t, r.Hops[0], c.sidecar)
		wantHop(t, r.Hops[1], c.gateway)
	}
}

// Why egmc gives each host its own server: a server that terminates TLS
// routes by the first tcp route of the VirtualServices bound to it, so one
// server for the two hosts of port 443 sends api.stripe.com to
// api.external-service.com.
func TestEgressOneServerForTwoHosts(t *testing.T) {
	s := loadEgress(t, "")
	for _, o := range s.objs {
		if o.Is("networking.istio.io", "Gateway") && o.Name() == "api-egress" {
			mergeServers(t, o.Spec(), 443)
		}
	}
	r := s.build(t).Call(egressCases[0].call)
	wantEgressHops(t, r, apiSidecar, egressGateway)
	wantHop(t, r.Hops[0], egressCases[0].sidecar)
	if r.Destination != "api.external-service.com:443" {
		t.Errorf("destination %q, want the misrouting to api.external-service.com:443:\n%s", r.Destination, r)
	}
}

// mergeServers makes the servers of port one server holding all their
// hosts.
func mergeServers(t *testing.T, spec map[string]any, port int) {
	t.Helper()
	var kept []any
	var merged map[string]any
	for _, s := range spec["servers"].([]any) {
		sm := s.(map[string]any)
		if n, _ := asInt(sm["port"].(map[string]any)["number"]); n != port {
			kept = append(kept, sm)
			continue
		}
		if merged == nil {
			merged = sm
			sm["port"].(map[string]any)["name"] = "tls-443"
			kept = append(kept, sm)
			continue
		}
		merged["hosts"] = append(merged["hosts"].([]any), sm["hosts"].([]any)...)
	}
	if merged == nil || len(merged["hosts"].([]any)) != 2 {
		t.Fatalf("want two servers on port %d", port)
	}
	spec["servers"] = kept
}

// shopEgress is what egmc emits for a second intent, shop, whose backend
// checkout runs in namespace shop and which lists api.paypal.com:443 (TLS):
// `egmc build` of that intent, its egress phase and shop's Namespace and
// Sidecar, without egmc's labels and annotations.
const shopEgress = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: shop-outbound, namespace: shop}
spec: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop-egress-api-paypal-com-443, namespace: istio-system}
spec:
  hosts: [api.paypal.com]
  ports: [{number: 443, name: tls-443, protocol: TLS}]
  location: MESH_EXTERNAL
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop-egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 443, name: tls-443-api-paypal-com, protocol: TLS}
    hosts: [api.paypal.com]
    tls: {mode: ISTIO_MUTUAL}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop-egressgateway, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: shop-api-paypal-com-443
    trafficPolicy: {tls: {mode: ISTIO_MUTUAL, sni: api.paypal.com}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop-egress-api-paypal-com-443, namespace: istio-system}
spec:
  hosts: [api.paypal.com]
  gateways: [istio-system/shop-egress, mesh]
  tls:
  - match: [{gateways: [mesh], port: 443, sniHosts: [api.paypal.com]}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: shop-api-paypal-com-443, port: {number: 443}}}]
  tcp:
  - match: [{gateways: [istio-system/shop-egress], port: 443}]
    route: [{destination: {host: api.paypal.com, port: {number: 443}}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: shop-egress, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: egressgateway}}
  action: ALLOW
  rules:
  - from: [{source: {namespaces: [shop]}}]
    to: [{operation: {ports: ["443"]}}]
    when: [{key: connection.sni, values: [api.paypal.com]}]
`

// shopService is shop's backend.
const shopService = `
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  clusterIP: 10.96.8.10
  selector: {app: checkout}
  ports:
  - {name: http-8080, port: 8080, targetPort: 8080, protocol: TCP}
`

// Two intents share the egress gateway: Istio merges their
// DestinationRules' subsets and their Gateways' servers, and their ALLOW
// policies add up, each admitting its own hosts from its own namespaces
// only (the SNI condition keeps default off shop's host on the same port).
func TestEgressSharedGateway(t *testing.T) {
	e := loadEgress(t, "").with(t, shopEgress, shopService).build(t)
	checkout := Service{Namespace: "shop", Name: "checkout"}
	paypal := EgressCall{From: checkout, Host: "api.paypal.com", Port: 443, Protocol: EgressTLS}
	r := e.Call(paypal)
	wantEgressHops(t, r, "istio-proxy shop/checkout-0 (sidecar of the backend)", egressGateway)
	wantHop(t, r.Hops[0], EgressHop{Listener: "0.0.0.0_443", TLS: TLSIstioMTLS, SNI: "api.paypal.com",
		Cluster: "outbound|443|shop-api-paypal-com-443|" + egressFQDN})
	wantHop(t, r.Hops[1], EgressHop{Listener: "0.0.0.0_443", Cluster: "outbound|443||api.paypal.com",
		TLS: TLSSimple, SNI: "api.paypal.com", Policy: "AuthorizationPolicy istio-system/shop-egress"})

	r = e.Call(egressCases[0].call)
	wantHop(t, r.Hops[1], egressCases[0].gateway)

	paypal.From = apiService
	r = e.Call(paypal)
	wantEgressHops(t, r, apiSidecar, egressGateway)
	wantEgressRefused(t, r, "403 RBAC", egressPolicy, "AuthorizationPolicy istio-system/shop-egress")

	stripe := egressCases[0].call
	stripe.From = checkout
	r = e.Call(stripe)
	wantEgressRefused(t, r, "403 RBAC")
}

// With egress.gateway false egmc emits the ServiceEntries and Sidecars
// only (the golden stream without the egress gateway's objects): the
// backend's sidecar sends a listed host straight to its ServiceEntry's
// cluster.
func TestEgressWithoutGateway(t *testing.T) {
	s := loadEgress(t, "")
	var kept []conformance.Object
	for _, o := range s.objs {
		switch {
		case o.Is("networking.istio.io", "Gateway"), o.Is("networking.istio.io", "DestinationRule"),
			o.Is("networking.istio.io", "VirtualService") && o.Namespace() == "istio-system",
			o.Is("security.istio.io", "AuthorizationPolicy"):
		default:
			kept = append(kept, o)
		}
	}
	s.objs, s.opts.GatewayValues = kept, nil
	r := s.build(t).Call(egressCases[0].call)
	wantEgressHops(t, r, apiSidecar)
	wantHop(t, r.Hops[0], EgressHop{Listener: "0.0.0.0_443", Cluster: "outbound|443||api.stripe.com",
		TLS: TLSSimple, SNI: "api.stripe.com"})
	if r.Error != "" || r.Destination != "api.stripe.com:443" {
		t.Errorf("want delivered to api.stripe.com:443 from the sidecar:\n%s", r)
	}
}
