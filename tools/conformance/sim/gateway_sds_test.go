package sim

import (
	"path/filepath"
	"strings"
	"testing"

	"egmc.dev/egmc/tools/conformance"
)

// sdsMistake is one way to get mtls mode gateway-sds wrong: an edit of the
// example's golden stream, and what must then become of a request that the
// golden stream delivers.
type sdsMistake struct {
	name string
	// edit changes the objects in place.
	edit func(t *testing.T, objs []conformance.Object)
	req  string
	// err is a part of the reason the request is not delivered.
	err string
}

var sdsMistakes = []sdsMistake{{
	name: "socket not mounted in Envoy's container",
	edit: func(t *testing.T, objs []conformance.Object) {
		kube := dig(find(t, objs, "EnvoyProxy", "store-proxy-config").Spec(), "provider", "kubernetes", "envoyDeployment").(map[string]any)
		delete(kube, "container")
	},
	req: "GET http://www.example.com/httpbin/get",
	err: "nothing in the gateway's pod serves",
}, {
	name: "no Istio agent in the proxy pod",
	edit: func(t *testing.T, objs []conformance.Object) {
		pod := dig(find(t, objs, "EnvoyProxy", "store-proxy-config").Spec(), "provider", "kubernetes", "envoyDeployment", "pod").(map[string]any)
		delete(pod, "labels")
	},
	req: "GET http://www.example.com/httpbin/get",
	err: "nothing in the gateway's pod serves",
}, {
	name: "backend runs as another service account",
	edit: func(t *testing.T, objs []conformance.Object) {
		sans := dig(find(t, objs, "BackendTLSPolicy", "store-httpbin").Spec(), "validation", "subjectAltNames").([]any)
		sans[0].(map[string]any)["uri"] = "spiffe://cluster.local/ns/httpbin/sa/default"
	},
	req: "GET http://www.example.com/httpbin/get",
	err: "the gateway refuses the certificate of httpbin/httpbin-0",
}, {
	name: "backend without a sidecar",
	edit: func(t *testing.T, objs []conformance.Object) {
		delete(find(t, objs, "Namespace", "httpbin")["metadata"].(map[string]any)["labels"].(map[string]any), "istio-injection")
	},
	req: "GET http://www.example.com/httpbin/get",
	err: "has no sidecar: nothing answers the gateway's Istio mTLS",
}, {
	name: "PERMISSIVE backend and no ALPN istio",
	edit: func(t *testing.T, objs []conformance.Object) {
		find(t, objs, "PeerAuthentication", "store-httpbin-mtls").Spec()["mtls"] = map[string]any{"mode": "PERMISSIVE"}
		delete(find(t, objs, "EnvoyProxy", "store-proxy-config").Spec()["backendTLS"].(map[string]any), "alpnProtocols")
	},
	req: "GET http://www.example.com/httpbin/get",
	err: "the backend's sidecar (httpbin/httpbin-0): connection closed (no filter chains matched)",
}}

// TestGatewaySDSMistakes edits the gateway-sds example's golden stream the
// way a hand-written setup goes wrong and requires the simulator to see
// each request fail, so that the example's table (where the requests are
// delivered) proves what egmc's output gets right.
func TestGatewaySDSMistakes(t *testing.T) {
	egctl := egctlOrFail(t)
	dir := filepath.Join("..", "..", "..", "golden", "istio-sidecar-gateway-sds")
	for _, m := range sdsMistakes {
		t.Run(m.name, func(t *testing.T) {
			s, err := conformance.LoadExample(dir)
			if err != nil {
				t.Fatal(err)
			}
			m.edit(t, s.Objects)
			sim := newSimulator(t, egctl, s, Options{})
			req, err := ParseRequest(m.req)
			if err != nil {
				t.Fatal(err)
			}
			got := sim.Simulate(req)
			if got.Backend != "" || !strings.Contains(got.Error, m.err) {
				t.Errorf("%s: delivered to %q, error %q; want it refused with %q (hops %+v)", m.req, got.Backend, got.Error, m.err, got.Hops)
			}
		})
	}
}

// find returns the stream's object of a kind and name, or fails the test.
func find(t *testing.T, objs []conformance.Object, kind, name string) conformance.Object {
	t.Helper()
	for _, o := range objs {
		if o.Kind() == kind && o.Name() == name {
			return o
		}
	}
	t.Fatalf("the stream has no %s %s", kind, name)
	return nil
}
