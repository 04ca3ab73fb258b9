package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"egmc.dev/egmc/tools/conformance"
)

// request is one request of a table and what must become of it.
type request struct {
	req string
	// backend and path are where the request must arrive; backend ""
	// means it must not be delivered, and err is then a part of the
	// reason.
	backend, path, err string
	// hops summarise each hop in order: "<kind> <tls> <timeout>
	// <retries>" (see summary).
	hops []string
	// timeout is the effective timeout of the request: the shortest
	// timeout of a hop that times out the whole request (the gateway and
	// the gateway's sidecar), "none" when no hop does.
	timeout string
	// host, when set, is the Host header the backend gets (the last
	// hop's): the route rewrites it.
	host string
}

// exampleTables are the requests of every example. Each table says
// where the golden stream sends each request, hop by hop; a change of
// egmc's output that moves a request fails here.
var exampleTables = map[string][]request{
	"teg-istio-sidecar-httpbin": {
		{req: "GET http://www.example.com/httpbin/get", backend: "httpbin.default:8000", path: "/get", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET http://www.example.com/httpbin", backend: "httpbin.default:8000", path: "/", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET http://www.example.com/other", err: "404: no route",
			hops: []string{"gateway none - 0"}},
		{req: "GET http://api.example.com/httpbin/get", err: "404: no virtual host",
			hops: []string{"gateway none - 0"}},
	},
	"istio-sidecar-https": {
		// the gateway's sidecar rewrites the Host, as the blog's
		// HTTPRoute does, after matching the public hostname
		{req: "GET https://www.example.com/httpbin/headers", backend: "httpbin.httpbin:8000", path: "/headers", timeout: "15s",
			host: "httpbin.httpbin.svc.cluster.local",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET http://www.example.com/httpbin/headers", err: "no listener on port 80",
			hops: []string{"gateway none - 0"}},
	},
	"istio-sidecar-edge-auth": {
		// the simulator routes; it does not run the SecurityPolicy's
		// filters (OIDC, JWT, ext_authz): the checks and egctl's
		// translation cover those
		{req: "GET https://shop.example.com/cart", backend: "web.shop:8080", path: "/cart", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET https://shop.example.com/api/items", backend: "api.shop:8080", path: "/api/items", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET http://shop.example.com/api/items", err: "redirect: 301 to https://shop.example.com/api/items",
			hops: []string{"gateway none - 0"}},
	},
	"istio-sidecar-gateway-sds": {
		// one hop: the gateway opens Istio mTLS to the backend pod
		// itself (gateway-sds); the backend's STRICT sidecar takes it and
		// its AuthorizationPolicy admits the gateway's identity
		{req: "GET http://www.example.com/httpbin/get", backend: "httpbin.httpbin:8000", path: "/get", timeout: "10s",
			hops: []string{"gateway istio-mtls 10s 2", "backend-sidecar none 0s 2"}},
		{req: "POST http://api.example.com/orders.Orders/List", backend: "orders.orders:9000", path: "/orders.Orders/List", timeout: "15s",
			hops: []string{"gateway istio-mtls 15s 0", "backend-sidecar none 0s 0"}},
		// backend.mtls: disable: plain text to a backend outside the mesh
		{req: "GET http://www.example.com/catalogue/items", backend: "catalogue.legacy:8080", path: "/catalogue/items", timeout: "15s",
			hops: []string{"gateway none 15s 0"}},
	},
	"istio-sidecar-grpc-listeners": {
		{req: "POST https://grpc.example.com/helloworld.Greeter/SayHello", backend: "greeter.grpc-apps:50051", path: "/helloworld.Greeter/SayHello", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 0"}},
		{req: "GET https://www.example.com/healthz", backend: "health.web-apps:8080", path: "/healthz", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET https://www.example.com/stream/events", backend: "stream.web-apps:8080", path: "/stream/events", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET https://www.example.com/healthz/x", err: "404: no route",
			hops: []string{"gateway none - 0"}},
	},
	"istio-sidecar-mesh-resilience": {
		// The mesh owns retries and timeouts: the gateway sets none, the
		// gateway's sidecar the route's (5 s, 3 retries), and rewrites.
		{req: "POST http://pay.example.com/checkout/pay", backend: "checkout.payments:8080", path: "/api/pay", timeout: "5s",
			hops: []string{"gateway none 0s 0", "gateway-sidecar istio-mtls 5s 3", "backend-sidecar none 0s 2"}},
		{req: "GET http://pay.example.com/checkout", backend: "checkout.payments:8080", path: "/api", timeout: "5s",
			hops: []string{"gateway none 0s 0", "gateway-sidecar istio-mtls 5s 3", "backend-sidecar none 0s 2"}},
		// No retries in the intent: the mesh's default policy applies.
		{req: "GET http://pay.example.com/receipts", backend: "receipts.payments:8080", path: "/receipts", timeout: "2s",
			hops: []string{"gateway none 0s 0", "gateway-sidecar istio-mtls 2s 2", "backend-sidecar none 0s 2"}},
		{req: "GET http://pay.example.com/receipts/1", err: "404: no route",
			hops: []string{"gateway none - 0"}},
	},
	"istio-egress": {
		{req: "GET https://api.example.com/api/v1/items", backend: "api-service.default:8080", path: "/api/v1/items", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET https://api.example.com/docs/index.html", backend: "docs-service.default:80", path: "/docs/index.html", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET https://app.example.com/", backend: "web-service.default:80", path: "/", timeout: "15s",
			hops: []string{"gateway none 15s 0", "gateway-sidecar istio-mtls 0s 0", "backend-sidecar none 0s 2"}},
		{req: "GET http://api.example.com/docs", err: "redirect: 301 to https://api.example.com/docs",
			hops: []string{"gateway none - 0"}},
	},
	"istio-sidecar-gateway-outside-mesh": {
		// The gateway has no sidecar and originates TLS, which the
		// backend's sidecar passes through (PERMISSIVE, port declared
		// https in the cluster file).
		{req: "GET http://ledger.example.com/ledger/balance", backend: "ledger.finance:8443", path: "/balance", timeout: "15s",
			hops: []string{"gateway tls 15s 0", "backend-sidecar tls - 0"}},
	},
	"istio-ambient-shared-observability": {
		{req: "GET https://shop.example.com/", backend: "web.web:80", path: "/", timeout: "15s",
			hops: []string{"gateway none 15s 0", "ztunnel istio-mtls - 0", "ztunnel none - 0"}},
		{req: "GET https://shop.example.com/cart/items", backend: "cart.shop:8080", path: "/cart/items", timeout: "15s",
			hops: []string{"gateway none 15s 0", "ztunnel istio-mtls - 0", "ztunnel none - 0"}},
		{req: "GET http://shop.example.com/cart", err: "redirect: 301 to https://shop.example.com/cart",
			hops: []string{"gateway none - 0"}},
	},
	"istio-ambient-authorization": {
		{req: "GET http://video.example.com/watch", backend: "video.media:8080", path: "/watch", timeout: "15s",
			hops: []string{"gateway none 15s 0", "ztunnel istio-mtls - 0", "ztunnel none - 0"}},
	},
	"cilium-bgp-network-policy": {
		{req: "GET http://app.example.com/", backend: "my-app-service.app-namespace:8080", path: "/", timeout: "15s",
			hops: []string{"gateway none 15s 0", "cilium none - 0"}},
	},
	"cilium-l2-backend-tls": {
		{req: "GET http://vault.example.com/v1/sys/health", backend: "vault.vault:8200", path: "/v1/sys/health", timeout: "15s",
			hops: []string{"gateway tls 15s 0"}},
	},
	"plain-envoy-gateway": {
		// the gateway rewrites the Host (URLRewrite.hostname)
		{req: "GET https://api.store.example/v1/items", backend: "api.store:8080", path: "/items", timeout: "15s",
			host: "api.internal",
			hops: []string{"gateway none 15s 0"}},
		{req: "GET https://www.store.example/", backend: "web.store:80", path: "/", timeout: "10s",
			hops: []string{"gateway none 10s 2"}},
		{req: "GET http://www.store.example/", err: "redirect: 301 to https://www.store.example/",
			hops: []string{"gateway none - 0"}},
	},
}

// TestExampleRequests runs every example's table through the simulator on
// its golden stream, with the cluster file testdata/cluster/<example>.yaml
// when there is one. Every example has a table.
func TestExampleRequests(t *testing.T) {
	egctl := egctlOrFail(t)
	dirs, err := filepath.Glob("../../../golden/*/stream.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden streams (%v)", err)
	}
	for _, f := range dirs {
		name := filepath.Base(filepath.Dir(f))
		t.Run(name, func(t *testing.T) {
			table, ok := exampleTables[name]
			if !ok {
				t.Fatalf("example %s has no request table in exampleTables", name)
			}
			s, err := conformance.LoadExample(filepath.Dir(f))
			if err != nil {
				t.Fatal(err)
			}
			sim := newSimulator(t, egctl, s, Options{Cluster: clusterFile(t, name)})
			for _, r := range table {
				checkRequest(t, sim, r)
			}
		})
	}
}

// egctlOrFail locates egctl; the conformance tests never skip.
func egctlOrFail(t *testing.T) conformance.Egctl {
	t.Helper()
	egctl, err := conformance.LocateEgctl()
	if err != nil {
		t.Fatal(err)
	}
	return egctl
}

// newSimulator builds a simulator or fails the test.
func newSimulator(t *testing.T, egctl conformance.Egctl, s conformance.Stream, opts Options) *Simulator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sim, err := New(ctx, egctl, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// clusterFile reads testdata/cluster/<name>.yaml, or returns nil.
func clusterFile(t *testing.T, name string) []conformance.Object {
	t.Helper()
	path := filepath.Join("testdata", "cluster", name+".yaml")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	objs, err := conformance.ReadStreamFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// checkRequest simulates one request and compares the result with r.
func checkRequest(t *testing.T, sim *Simulator, r request) {
	t.Helper()
	req, err := ParseRequest(r.req)
	if err != nil {
		t.Fatal(err)
	}
	got := sim.Simulate(req)
	var hops []string
	for _, h := range got.Hops {
		hops = append(hops, summary(h))
	}
	switch {
	case got.Backend != r.backend || got.Path != r.path:
		t.Errorf("%s: delivered to %q path %q (error %q), want %q path %q", r.req, got.Backend, got.Path, got.Error, r.backend, r.path)
	case r.backend == "" && !strings.Contains(got.Error, r.err):
		t.Errorf("%s: error %q, want it to say %q", r.req, got.Error, r.err)
	case r.backend != "" && got.Error != "":
		t.Errorf("%s: delivered with error %q", r.req, got.Error)
	}
	if !slices.Equal(hops, r.hops) {
		t.Errorf("%s: hops\n  %s\nwant\n  %s", r.req, strings.Join(hops, "\n  "), strings.Join(r.hops, "\n  "))
	}
	if r.host != "" && (len(got.Hops) == 0 || got.Hops[len(got.Hops)-1].Host != r.host) {
		last := ""
		if len(got.Hops) > 0 {
			last = got.Hops[len(got.Hops)-1].Host
		}
		t.Errorf("%s: the backend gets Host %q, want %q", r.req, last, r.host)
	}
	if r.backend != "" && effectiveTimeout(got.Hops) != r.timeout {
		t.Errorf("%s: effective timeout %s, want %s", r.req, effectiveTimeout(got.Hops), r.timeout)
	}
}

// summary writes a hop as "<kind> <tls> <timeout> <retries>", "-" for a
// hop without a timeout.
func summary(h Hop) string {
	timeout := h.Timeout
	if timeout == "" {
		timeout = "-"
	}
	return fmt.Sprintf("%s %s %s %d", hopKind(h.Proxy), h.TLS, timeout, h.Retries)
}

// hopKind names the kind of proxy a hop is.
func hopKind(proxy string) string {
	switch {
	case strings.HasPrefix(proxy, "envoy-gateway"):
		return "gateway"
	case strings.HasSuffix(proxy, "(sidecar of the gateway)"):
		return "gateway-sidecar"
	case strings.HasSuffix(proxy, "(sidecar of the backend)"):
		return "backend-sidecar"
	case strings.HasPrefix(proxy, "ztunnel"):
		return "ztunnel"
	case strings.HasPrefix(proxy, "waypoint"):
		return "waypoint"
	case strings.HasPrefix(proxy, "cilium"):
		return "cilium"
	}
	return proxy
}

// effectiveTimeout is the shortest timeout among the hops that time out
// the whole request: the gateway and its sidecar ("0s" is none).
func effectiveTimeout(hops []Hop) string {
	best, bestD := "none", time.Duration(0)
	for _, h := range hops {
		kind := hopKind(h.Proxy)
		if kind != "gateway" && kind != "gateway-sidecar" {
			continue
		}
		d, err := time.ParseDuration(h.Timeout)
		if err != nil || d == 0 {
			continue
		}
		if bestD == 0 || d < bestD {
			best, bestD = h.Timeout, d
		}
	}
	return best
}
