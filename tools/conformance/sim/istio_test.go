package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"egmc.dev/egmc/tools/conformance"
)

// httpbinFixture is the Service a cluster would hold for the backend.
const httpbinFixture = `
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec:
  type: ClusterIP
  clusterIP: 10.96.1.10
  selector: {app: httpbin}
  ports:
  - {name: http-8000, port: 8000, targetPort: 8000, protocol: TCP}
`

// tegStream is the TEG design as egmc generated it (section 9 of
// mesh-domain.md): injected namespaces, a mesh VirtualService for the
// public host, STRICT mTLS.
const tegStream = `
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: envoy-gateway-system, labels: {istio-injection: enabled}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: apps-www-example-com, namespace: envoy-gateway-system}
spec:
  hosts: [www.example.com]
  gateways: [mesh]
  exportTo: ["."]
  http:
  - name: httpbin
    match:
    - uri: {prefix: /httpbin/}
    rewrite: {uri: /}
    route:
    - destination:
        host: httpbin.default.svc.cluster.local
        port: {number: 8000}
`

// publicHostServiceEntry makes the public host a registry service on 8000.
const publicHostServiceEntry = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: www-example-com, namespace: envoy-gateway-system}
spec:
  hosts: [www.example.com]
  exportTo: ["."]
  location: MESH_INTERNAL
  ports:
  - {number: 8000, name: http-8000, protocol: HTTP}
  resolution: NONE
`

// egPod is the gateway's proxy pod in EG's controller namespace.
var egPod = GatewayProxy{
	Namespace:      "envoy-gateway-system",
	Name:           "envoy-default-apps-1a2b3c4d-0",
	ServiceAccount: "envoy-default-apps-1a2b3c4d",
	Labels: map[string]string{
		"app.kubernetes.io/name":                         "envoy",
		"gateway.envoyproxy.io/owning-gateway-name":      "apps",
		"gateway.envoyproxy.io/owning-gateway-namespace": "default",
	},
	Annotations: map[string]string{"traffic.sidecar.istio.io/includeInboundPorts": ""},
}

// httpbinUpstream is what the gateway sends for Host and path.
func httpbinUpstream(host, path string) Upstream {
	return Upstream{
		Service: Service{Namespace: "default", Name: "httpbin"}, Address: "10.96.1.10", Port: 8000,
		Method: "GET", Host: host, Path: path, TLS: TLSNone,
	}
}

// parse decodes a YAML stream.
func parse(t *testing.T, y ...string) []conformance.Object {
	t.Helper()
	objs, err := conformance.ParseStream([]byte(strings.Join(y, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// newMesh builds the Istio mesh hop for a stream.
func newMesh(t *testing.T, stream, fixtures string, gw GatewayProxy) Mesh {
	t.Helper()
	m, err := NewIstio(parse(t, stream), parse(t, fixtures), nil, gw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// carry is one Carry result.
type carry struct {
	hops    []Hop
	d       Delivery
	refused string
}

// run carries u through m.
func run(m Mesh, u Upstream) carry {
	hops, d, refused := m.Carry(u)
	return carry{hops, d, refused}
}

// String formats a result for failure messages.
func (c carry) String() string {
	out, _ := json.MarshalIndent(map[string]any{"hops": c.hops, "delivery": c.d, "refused": c.refused}, "", "  ")
	return string(out)
}

// wantHops checks the number of hops and their proxies.
func wantHops(t *testing.T, c carry, proxies ...string) {
	t.Helper()
	if len(c.hops) != len(proxies) {
		t.Fatalf("got %d hops, want %d (%v):\n%s", len(c.hops), len(proxies), proxies, c)
	}
	for i, p := range proxies {
		if c.hops[i].Proxy != p {
			t.Errorf("hop %d: proxy %q, want %q", i, c.hops[i].Proxy, p)
		}
	}
}

// wantRefused checks that the request was refused for a reason naming
// every fragment.
func wantRefused(t *testing.T, c carry, fragments ...string) {
	t.Helper()
	if c.refused == "" {
		t.Fatalf("delivered, want refused:\n%s", c)
	}
	for _, f := range fragments {
		if !strings.Contains(c.refused, f) {
			t.Errorf("refused %q, want it to say %q", c.refused, f)
		}
	}
	if c.d != (Delivery{}) {
		t.Errorf("refused with a delivery %+v", c.d)
	}
}

// wantDelivered checks the delivery.
func wantDelivered(t *testing.T, c carry, want Delivery) {
	t.Helper()
	if c.refused != "" {
		t.Fatalf("refused: %s\n%s", c.refused, c)
	}
	if c.d != want {
		t.Errorf("delivered to %+v, want %+v", c.d, want)
	}
}

const (
	gwSidecar    = "istio-proxy envoy-gateway-system/envoy-default-apps-1a2b3c4d-0 (sidecar of the gateway)"
	httpbinProxy = "istio-proxy default/httpbin-0 (sidecar of the backend)"
	httpbinHost  = "outbound|8000||httpbin.default.svc.cluster.local"
)

// The TEG design as generated: the public host matches no registry
// service on 8000, so the VirtualService's route is not on the 8000 route
// configuration; the gateway's sidecar passes the request through in plain
// text and the backend's sidecar refuses it under STRICT.
func TestIstioSidecarTEGAsGenerated(t *testing.T) {
	m := newMesh(t, tegStream, httpbinFixture, egPod)
	c := run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, gwSidecar, httpbinProxy)
	out := c.hops[0]
	if out.Route != "allow_any" || out.Cluster != passthroughCluster || out.TLS != TLSNone || out.Path != "/httpbin/get" {
		t.Errorf("gateway sidecar hop %+v, want route allow_any to PassthroughCluster, no TLS, path unchanged", out)
	}
	wantRefused(t, c, "default/httpbin-0", "refused plain text under STRICT", "PeerAuthentication istio-system/default")
}

// With a ServiceEntry making the public host a registry service on 8000,
// the VirtualService's route applies: rewrite, Istio mTLS, delivery.
func TestIstioSidecarTEGWithServiceEntry(t *testing.T) {
	m := newMesh(t, tegStream+"\n---\n"+publicHostServiceEntry, httpbinFixture, egPod)
	c := run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, gwSidecar, httpbinProxy)
	out := c.hops[0]
	if out.Route != "httpbin" || out.Cluster != httpbinHost || out.TLS != TLSIstioMTLS || out.Path != "/get" || out.Host != "www.example.com" {
		t.Errorf("gateway sidecar hop %+v, want route httpbin to %s over istio-mtls with path /get", out, httpbinHost)
	}
	if out.Timeout != "0s" || out.Retries != 2 {
		t.Errorf("gateway sidecar hop timeout %q retries %d, want Istio's defaults 0s and 2", out.Timeout, out.Retries)
	}
	if in := c.hops[1]; in.Cluster != "inbound|8000||" || !strings.Contains(in.Policy, "(STRICT)") || in.Path != "/get" {
		t.Errorf("backend sidecar hop %+v, want inbound|8000|| admitted under STRICT", in)
	}
	wantDelivered(t, c, Delivery{Service: Service{Namespace: "default", Name: "httpbin"}, Port: 8000, Path: "/get"})

	c = run(m, httpbinUpstream("www.example.com", "/other?q=1"))
	wantHops(t, c, gwSidecar)
	wantRefused(t, c, "the gateway's sidecar", "404")
	if c.hops[0].Route != "" || c.hops[0].Cluster != "" {
		t.Errorf("no route should have matched: %+v", c.hops[0])
	}
}

// outsideMeshStream has injected namespaces but a gateway pod that opts out.
func outsideMeshStream(mode string) string {
	return `
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: envoy-gateway-system, labels: {istio-injection: enabled}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: ` + mode + `}}
`
}

// A gateway pod without a sidecar sends plain text straight to the
// backend, whose sidecar admits it under PERMISSIVE and refuses it under
// STRICT.
func TestIstioGatewayOutsideMesh(t *testing.T) {
	gw := egPod
	gw.Labels = map[string]string{"sidecar.istio.io/inject": "false"}
	m := newMesh(t, outsideMeshStream("PERMISSIVE"), httpbinFixture, gw)
	c := run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, httpbinProxy)
	if in := c.hops[0]; in.TLS != TLSNone || in.Policy != "PeerAuthentication istio-system/default (PERMISSIVE)" {
		t.Errorf("backend sidecar hop %+v, want plain text admitted under PERMISSIVE", in)
	}
	wantDelivered(t, c, Delivery{Service: Service{Namespace: "default", Name: "httpbin"}, Port: 8000, Path: "/httpbin/get"})

	m = newMesh(t, outsideMeshStream("STRICT"), httpbinFixture, gw)
	c = run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, httpbinProxy)
	wantRefused(t, c, "refused plain text under STRICT")
}

// authzPolicy admits only the given principal to httpbin's port 8000.
func authzPolicy(principal string) string {
	return `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin-from-gateway, namespace: default}
spec:
  selector:
    matchLabels: {app: httpbin}
  action: ALLOW
  rules:
  - from:
    - source: {principals: ["` + principal + `"]}
    to:
    - operation: {ports: ["8000"]}
`
}

// The backend sidecar's RBAC (Istio's, from the AuthorizationPolicy)
// admits the gateway's mTLS identity and nobody else.
func TestIstioAuthorizationPolicy(t *testing.T) {
	base := tegStream + "\n---\n" + publicHostServiceEntry + "\n---\n"
	m := newMesh(t, base+authzPolicy("cluster.local/ns/envoy-gateway-system/sa/envoy-default-apps-1a2b3c4d"), httpbinFixture, egPod)
	c := run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, gwSidecar, httpbinProxy)
	if p := c.hops[1].Policy; !strings.HasPrefix(p, "AuthorizationPolicy default/httpbin-from-gateway") {
		t.Errorf("admitted by %q, want AuthorizationPolicy default/httpbin-from-gateway", p)
	}
	wantDelivered(t, c, Delivery{Service: Service{Namespace: "default", Name: "httpbin"}, Port: 8000, Path: "/get"})

	m = newMesh(t, base+authzPolicy("cluster.local/ns/default/sa/sleep"), httpbinFixture, egPod)
	c = run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, gwSidecar, httpbinProxy)
	wantRefused(t, c, "403", "AuthorizationPolicy default/httpbin-from-gateway",
		"spiffe://cluster.local/ns/envoy-gateway-system/sa/envoy-default-apps-1a2b3c4d")
}

// Without anything of Istio the request goes straight to the Service.
func TestIstioNoMesh(t *testing.T) {
	m := newMesh(t, `
apiVersion: v1
kind: Namespace
metadata: {name: default}
`, httpbinFixture, egPod)
	u := httpbinUpstream("www.example.com", "/httpbin/get")
	c := run(m, u)
	wantHops(t, c)
	wantDelivered(t, c, Delivery{Service: u.Service, Port: 8000, Path: "/httpbin/get"})
}

func TestIstioBadMeshConfig(t *testing.T) {
	_, err := NewIstio(parse(t, tegStream), parse(t, httpbinFixture), []byte("defaultConfig: [not a map"), egPod)
	if err == nil {
		t.Fatal("want an error for a bad mesh config")
	}
	if _, err := NewIstio(nil, nil, nil, GatewayProxy{}); err == nil {
		t.Fatal("want an error for a gateway proxy without a name")
	}
}

func TestIstioFailer(t *testing.T) {
	cleaned := false
	err := runFailer(func(f *failer) {
		f.Cleanup(func() { cleaned = true })
		f.Fatalf("boom %d", 1)
		t.Error("Fatal must end the goroutine")
	})
	if err == nil || err.Error() != "boom 1" || !cleaned {
		t.Errorf("runFailer: err %v, cleaned %v; want boom 1 and cleanups run", err, cleaned)
	}
	if err := runFailer(func(*failer) { panic("bad") }); err == nil || !strings.Contains(err.Error(), "panic: bad") {
		t.Errorf("runFailer: a panic gave %v", err)
	}
}

const videoFixture = `
apiVersion: v1
kind: Service
metadata: {name: video, namespace: media}
spec:
  type: ClusterIP
  clusterIP: 10.96.1.20
  selector: {app: video}
  ports:
  - {name: http-8080, port: 8080, targetPort: 8080, protocol: TCP}
`

const ambientStream = `
apiVersion: v1
kind: Namespace
metadata: {name: media, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
`

// videoUpstream is what the gateway sends to the video Service.
func videoUpstream() Upstream {
	return Upstream{
		Service: Service{Namespace: "media", Name: "video"}, Address: "10.96.1.20", Port: 8080,
		Method: "GET", Host: "video.example.com", Path: "/watch", TLS: TLSNone,
	}
}

// ambientPod is the gateway pod with an istio.io/dataplane-mode label.
func ambientPod(mode string) GatewayProxy {
	gw := egPod
	gw.Labels = map[string]string{"istio.io/dataplane-mode": mode}
	return gw
}

const (
	gwZtunnel    = "ztunnel (node of envoy-gateway-system/envoy-default-apps-1a2b3c4d-0)"
	videoZtunnel = "ztunnel (node of media/video-0)"
)

var videoDelivery = Delivery{Service: Service{Namespace: "media", Name: "video"}, Port: 8080, Path: "/watch"}

// An enrolled gateway pod reaches an enrolled backend over HBONE; a pod
// opted out with dataplane-mode none sends plain text, which the
// backend's ztunnel refuses under STRICT.
func TestIstioAmbient(t *testing.T) {
	m := newMesh(t, ambientStream, videoFixture, ambientPod("ambient"))
	c := run(m, videoUpstream())
	wantHops(t, c, gwZtunnel, videoZtunnel)
	if c.hops[0].TLS != TLSIstioMTLS || !strings.Contains(c.hops[0].Note, "HBONE") {
		t.Errorf("source ztunnel hop %+v, want HBONE (istio-mtls)", c.hops[0])
	}
	if p := c.hops[1].Policy; p != "PeerAuthentication istio-system/default (STRICT)" {
		t.Errorf("destination ztunnel admitted by %q", p)
	}
	wantDelivered(t, c, videoDelivery)

	m = newMesh(t, ambientStream, videoFixture, ambientPod("none"))
	c = run(m, videoUpstream())
	wantHops(t, c, videoZtunnel)
	wantRefused(t, c, "without mesh identity", "istio_converted_static_strict")
}

// waypointStream holds the objects of golden/istio-ambient-waypoint that
// Istio reads: an EG Gateway named as the media namespace's waypoint.
const waypointStream = `
apiVersion: v1
kind: Namespace
metadata: {name: gateway-system, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata:
  name: media
  labels:
    istio.io/dataplane-mode: ambient
    istio.io/use-waypoint: media-waypoint
    istio.io/use-waypoint-namespace: gateway-system
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: media-waypoint
  namespace: gateway-system
  labels: {istio.io/waypoint-for: service}
spec:
  gatewayClassName: eg
  infrastructure:
    labels: {istio.io/dataplane-mode: ambient}
  listeners:
  - name: fake-hbone
    port: 15008
    protocol: TCP
    allowedRoutes:
      namespaces: {from: Same}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: media-video-from-gateway, namespace: media}
spec:
  selector:
    matchLabels: {app: video}
  action: ALLOW
  rules:
  - from:
    - source:
        principals:
        - "*/ns/envoy-gateway-system/sa/envoy-gateway-system-media-183057f4"
        - "*/ns/envoy-gateway-system/sa/envoy-gateway-system-media-waypoint-784e4fd3"
    to:
    - operation:
        ports: ["9090"]
`

// mediaPod is the media gateway's proxy pod, enrolled by its pod label.
var mediaPod = GatewayProxy{
	Namespace: "envoy-gateway-system", Name: "envoy-gateway-system-media-183057f4-0",
	ServiceAccount: "envoy-gateway-system-media-183057f4",
	Labels:         map[string]string{"istio.io/dataplane-mode": "ambient"},
	Annotations:    map[string]string{"ambient.istio.io/bypass-inbound-capture": "true"},
}

const mediaZtunnel = "ztunnel (node of envoy-gateway-system/envoy-gateway-system-media-183057f4-0)"

// The waypoint of golden/istio-ambient-waypoint as Istio's ambient index
// sees it: Istio accepts any Gateway with a status address as a waypoint,
// but the EG Gateway has no HBONE listener on 15008, so it admits
// attachments from its own namespace only; media is another namespace:
// Istio binds no waypoint and ztunnel goes straight to the pod. There the
// AuthorizationPolicy allows port 9090 only, and the fixture's pod
// listens on 8080.
func TestIstioAmbientWaypointGolden(t *testing.T) {
	m := newMesh(t, waypointStream, videoFixture, mediaPod)
	c := run(m, videoUpstream())
	wantHops(t, c, mediaZtunnel, videoZtunnel)
	if n := c.hops[0].Note; !strings.Contains(n, "AttachmentDenied") || !strings.Contains(n, "gateway-system/media-waypoint") {
		t.Errorf("source ztunnel note %q, want Istio's AttachmentDenied for gateway-system/media-waypoint", n)
	}
	if c.hops[0].TLS != TLSIstioMTLS {
		t.Errorf("source ztunnel hop %+v, want HBONE straight to the pod", c.hops[0])
	}
	wantRefused(t, c, "no ALLOW policy matches port 8080", "AuthorizationPolicy media/media-video-from-gateway")

	m = newMesh(t, strings.Replace(waypointStream, `ports: ["9090"]`, `ports: ["8080"]`, 1), videoFixture, mediaPod)
	c = run(m, videoUpstream())
	wantHops(t, c, mediaZtunnel, videoZtunnel)
	if p := c.hops[1].Policy; !strings.HasPrefix(p, "AuthorizationPolicy media/media-video-from-gateway") {
		t.Errorf("admitted by %q", p)
	}
	wantDelivered(t, c, videoDelivery)
}

// Variants of the EG waypoint: in the backend's own namespace Istio binds
// it, and ztunnel sends it HBONE that EG cannot terminate; without a
// status address (a Gateway no controller programmed) Istio reports the
// waypoint not ready.
func TestIstioAmbientWaypointVariants(t *testing.T) {
	same := strings.ReplaceAll(waypointStream, "use-waypoint-namespace: gateway-system", "use-waypoint-namespace: media")
	same = strings.Replace(same, "name: media-waypoint\n  namespace: gateway-system", "name: media-waypoint\n  namespace: media", 1)
	m := newMesh(t, same, videoFixture, mediaPod)
	c := run(m, videoUpstream())
	wantHops(t, c, mediaZtunnel, "waypoint media/media-waypoint")
	wantRefused(t, c, "Envoy Gateway", "HBONE")

	other := strings.Replace(waypointStream, "controllerName: gateway.envoyproxy.io/gatewayclass-controller", "controllerName: example.com/none", 1)
	m = newMesh(t, other, videoFixture, mediaPod)
	c = run(m, videoUpstream())
	wantHops(t, c, mediaZtunnel, videoZtunnel)
	if n := c.hops[0].Note; !strings.Contains(n, "WaypointIsNotReady") {
		t.Errorf("source ztunnel note %q, want WaypointIsNotReady", n)
	}
}

// An Istio waypoint (class istio-waypoint) is bound and carries the
// request; the destination's ztunnel sees the waypoint's identity.
func TestIstioAmbientIstioWaypoint(t *testing.T) {
	stream := `
apiVersion: v1
kind: Namespace
metadata: {name: media, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: media}
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - {name: mesh, port: 15008, protocol: HBONE}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-waypoint, namespace: media}
spec:
  action: ALLOW
  rules:
  - from:
    - source: {principals: [cluster.local/ns/media/sa/waypoint]}
`
	m := newMesh(t, stream, videoFixture, ambientPod("ambient"))
	c := run(m, videoUpstream())
	wantHops(t, c, gwZtunnel, "waypoint media/waypoint", videoZtunnel)
	if p := c.hops[2].Policy; !strings.HasPrefix(p, "AuthorizationPolicy media/from-waypoint") {
		t.Errorf("admitted by %q, want AuthorizationPolicy media/from-waypoint", p)
	}
	wantDelivered(t, c, videoDelivery)
}

// Under REGISTRY_ONLY (mesh config) a Host no registry service or
// VirtualService knows gets the sidecar's 502 block_all answer.
func TestIstioRegistryOnly(t *testing.T) {
	mc := []byte("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n")
	m, err := NewIstio(parse(t, tegStream), parse(t, httpbinFixture), mc, egPod)
	if err != nil {
		t.Fatal(err)
	}
	c := run(m, httpbinUpstream("www.example.com", "/httpbin/get"))
	wantHops(t, c, gwSidecar)
	wantRefused(t, c, "the gateway's sidecar: 502")
	if r := c.hops[0].Route; r != "block_all" {
		t.Errorf("route %q, want block_all", r)
	}
	c = run(m, httpbinUpstream("httpbin.default.svc.cluster.local", "/get"))
	wantHops(t, c, gwSidecar, httpbinProxy)
	wantDelivered(t, c, Delivery{Service: Service{Namespace: "default", Name: "httpbin"}, Port: 8000, Path: "/get"})
}
