package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"

	"egmc.dev/egmc/tools/conformance"
)

// DefaultControllerNamespace is where Envoy Gateway runs (and runs the
// proxies) unless told otherwise.
const DefaultControllerNamespace = "envoy-gateway-system"

// Options are what the simulator needs beside the stream.
type Options struct {
	// ControllerNamespace is the Envoy Gateway controller namespace, where
	// the proxies run; empty: the namespace the stream labels for the mesh
	// that holds neither the Gateway nor a route, else
	// DefaultControllerNamespace.
	ControllerNamespace string
	// Cluster holds objects the cluster already has, typically the
	// backends' Services with their selectors and target ports. A Service
	// neither here nor in the stream gets a fixture (see
	// conformance.Fixtures): it selects app=<name>, on the same port.
	Cluster []conformance.Object
}

// Simulator answers where requests go in one stream.
type Simulator struct {
	gateways *Gateways
	mesh     Mesh
}

// New translates the stream with egctl and builds the mesh the stream
// configures.
func New(ctx context.Context, egctl conformance.Egctl, s conformance.Stream, opts Options) (*Simulator, error) {
	generated, err := conformance.Fixtures(append(append([]conformance.Object{}, s.Objects...), opts.Cluster...))
	if err != nil {
		return nil, err
	}
	fixtures := append(append([]conformance.Object{}, opts.Cluster...), generated...)
	gw, proxyRef, err := mainGateway(s.Objects)
	if err != nil {
		return nil, err
	}
	input := withoutOIDC(conformance.EgctlInput(s.Objects, fixtures, proxyRef))
	out, failures, err := egctl.Translate(ctx, input, "xds")
	if err != nil {
		return nil, err
	}
	if len(failures) > 0 {
		return nil, fmt.Errorf("egctl refused the stream: %s", failures[0])
	}
	gateways, err := ParseGateways(out)
	if err != nil {
		return nil, err
	}
	proxy := gatewayProxy(s.Objects, gw, proxyRef, opts.ControllerNamespace)
	mesh, err := meshFor(s, fixtures, proxy)
	if err != nil {
		return nil, err
	}
	return &Simulator{gateways: gateways, mesh: mesh}, nil
}

// withoutOIDC drops the oidc part of every SecurityPolicy. egctl refuses
// every OIDC policy for want of the chart's HMAC Secret, which it cannot
// be given (egctlOIDCHMAC in tools/conformance/workarounds.go), and a
// refused policy turns its route into a 500 answer. The simulator models
// where requests go, not authentication: it runs no JWT, OIDC or
// ext_authz filter, so without the oidc part the route is the one a
// logged-in browser's requests take. The conformance checks still
// translate the policy whole.
func withoutOIDC(objs []conformance.Object) []conformance.Object {
	out := make([]conformance.Object, 0, len(objs))
	for _, o := range objs {
		if spec := o.Spec(); o.Is("gateway.envoyproxy.io", "SecurityPolicy") && spec["oidc"] != nil {
			copied := conformance.Object{}
			for k, v := range o {
				copied[k] = v
			}
			trimmed := map[string]any{}
			for k, v := range spec {
				if k != "oidc" {
					trimmed[k] = v
				}
			}
			copied["spec"] = trimmed
			o = copied
		}
		out = append(out, o)
	}
	return out
}

// Simulate sends one request through the gateway and the mesh.
func (sim *Simulator) Simulate(req Request) Result {
	res := Result{Request: req.Raw, Hops: []Hop{}}
	g := sim.gateways.Route(req)
	res.Hops = append(res.Hops, g.hop)
	if g.refused != "" {
		res.Error = g.refused
		return res
	}
	hops, d, refused := sim.mesh.Carry(g.upstream)
	res.Hops = append(res.Hops, hops...)
	if refused != "" {
		res.Error = refused
		return res
	}
	res.Backend, res.Path = d.Backend(), d.Path
	return res
}

// mainGateway returns the stream's first Gateway with HTTP or HTTPS
// listeners and the EnvoyProxy that configures it (its own, else its
// class's).
func mainGateway(objs []conformance.Object) (conformance.Object, conformance.Ref, error) {
	classProxy := map[string]conformance.Ref{}
	for _, o := range objs {
		if o.Is("gateway.networking.k8s.io", "GatewayClass") {
			if ref, ok := proxyRef(o.Spec()["parametersRef"], ""); ok {
				classProxy[o.Name()] = ref
			}
		}
	}
	for _, o := range objs {
		if !o.Is("gateway.networking.k8s.io", "Gateway") || !servesHTTP(o) {
			continue
		}
		infra, _ := o.Spec()["infrastructure"].(map[string]any)
		if ref, ok := proxyRef(infra["parametersRef"], o.Namespace()); ok {
			return o, ref, nil
		}
		class, _ := o.Spec()["gatewayClassName"].(string)
		return o, classProxy[class], nil
	}
	return nil, conformance.Ref{}, fmt.Errorf("the stream has no Gateway with an HTTP or HTTPS listener")
}

// servesHTTP tells whether a Gateway has an HTTP or HTTPS listener.
func servesHTTP(gw conformance.Object) bool {
	ls, _ := gw.Spec()["listeners"].([]any)
	for _, l := range ls {
		m, _ := l.(map[string]any)
		if p, _ := m["protocol"].(string); p == "HTTP" || p == "HTTPS" {
			return true
		}
	}
	return false
}

// proxyRef reads a parametersRef to an EnvoyProxy.
func proxyRef(v any, namespace string) (conformance.Ref, bool) {
	m, _ := v.(map[string]any)
	if m["kind"] != "EnvoyProxy" {
		return conformance.Ref{}, false
	}
	ns, _ := m["namespace"].(string)
	if ns == "" {
		ns = namespace
	}
	name, _ := m["name"].(string)
	return conformance.Ref{Kind: "EnvoyProxy", Namespace: ns, Name: name}, true
}

// gatewayProxy describes the pod of the Gateway's proxies as Envoy Gateway
// deploys it: in the controller namespace, with EG's labels and the
// EnvoyProxy's pod labels and annotations.
func gatewayProxy(objs []conformance.Object, gw conformance.Object, ep conformance.Ref, controllerNS string) GatewayProxy {
	if controllerNS == "" {
		controllerNS = inferControllerNamespace(objs, gw)
	}
	sa := proxyServiceAccount(gw.Namespace(), gw.Name())
	p := GatewayProxy{
		Namespace:      controllerNS,
		Name:           sa + "-0",
		ServiceAccount: sa,
		Labels: map[string]string{
			"app.kubernetes.io/name":                         "envoy",
			"app.kubernetes.io/component":                    "proxy",
			"app.kubernetes.io/managed-by":                   "envoy-gateway",
			"gateway.envoyproxy.io/owning-gateway-name":      gw.Name(),
			"gateway.envoyproxy.io/owning-gateway-namespace": gw.Namespace(),
		},
		Annotations: map[string]string{},
	}
	for _, o := range objs {
		if o.Ref() != ep {
			continue
		}
		pod, _ := dig(o.Spec(), "provider", "kubernetes", "envoyDeployment", "pod").(map[string]any)
		maps.Copy(p.Labels, stringMap(pod["labels"]))
		maps.Copy(p.Annotations, stringMap(pod["annotations"]))
		p.WorkloadSocketMounted = mountsWorkloadSocket(o.Spec())
	}
	return p
}

// inferControllerNamespace returns the namespace the stream labels for a
// mesh that holds neither the Gateway nor a route, or the default.
func inferControllerNamespace(objs []conformance.Object, gw conformance.Object) string {
	used := map[string]bool{gw.Namespace(): true}
	for _, o := range objs {
		if o.Group() == "gateway.networking.k8s.io" && strings.HasSuffix(o.Kind(), "Route") {
			used[o.Namespace()] = true
		}
	}
	for _, o := range objs {
		if o.APIVersion() != "v1" || o.Kind() != "Namespace" || used[o.Name()] {
			continue
		}
		l := o.Labels()
		if l["istio-injection"] != "" || l["istio.io/rev"] != "" || l["istio.io/dataplane-mode"] != "" {
			return o.Name()
		}
	}
	return DefaultControllerNamespace
}

// proxyServiceAccount is the name Envoy Gateway v1.9 gives the service
// account of a Gateway's proxies: envoy-<namespace>-<name>-<8 hex digits
// of sha256("<namespace>/<name>")>, the readable part cut at 48 characters
// (profiles/common #ServiceAccount holds the same rule).
func proxyServiceAccount(namespace, name string) string {
	nsName := namespace + "/" + name
	readable := strings.ReplaceAll(nsName, "/", "-")
	if len(readable) > 48 {
		readable = strings.TrimSuffix(readable[:48], "-")
	}
	sum := sha256.Sum256([]byte(nsName))
	return "envoy-" + readable + "-" + hex.EncodeToString(sum[:])[:8]
}

// meshFor picks the mesh the stream configures: Istio when it holds Istio
// objects or labels, Cilium when it holds Cilium network policies, else
// nothing between the gateway and the backends.
func meshFor(s conformance.Stream, fixtures []conformance.Object, gw GatewayProxy) (Mesh, error) {
	switch {
	case usesIstio(s.Objects, gw):
		return NewIstio(s.Objects, fixtures, s.MeshConfig, gw)
	case usesCilium(s.Objects):
		return NewCilium(s.Objects, fixtures, gw)
	}
	return direct{}, nil
}

// usesIstio tells whether the stream configures Istio.
func usesIstio(objs []conformance.Object, gw GatewayProxy) bool {
	if gw.Labels["istio.io/dataplane-mode"] != "" || gw.Labels["sidecar.istio.io/inject"] != "" {
		return true
	}
	for _, o := range objs {
		if strings.HasSuffix(o.Group(), ".istio.io") {
			return true
		}
		if o.APIVersion() == "v1" && o.Kind() == "Namespace" {
			l := o.Labels()
			if l["istio-injection"] != "" || l["istio.io/rev"] != "" || l["istio.io/dataplane-mode"] != "" {
				return true
			}
		}
	}
	return false
}

// usesCilium tells whether the stream holds Cilium network policies.
func usesCilium(objs []conformance.Object) bool {
	for _, o := range objs {
		if o.Is("cilium.io", "CiliumNetworkPolicy") || o.Is("cilium.io", "CiliumClusterwideNetworkPolicy") {
			return true
		}
	}
	return false
}

// direct is no mesh: the gateway's connection reaches the backend as it is.
type direct struct{}

// Carry delivers the request to the Service the gateway chose.
func (direct) Carry(u Upstream) ([]Hop, Delivery, string) {
	if refused := sdsServed(u, nil); refused != "" {
		return nil, Delivery{}, refused
	}
	return nil, Delivery{Service: u.Service, Port: u.Port, Path: u.Path}, ""
}

// mountsWorkloadSocket tells whether an EnvoyProxy mounts, in EG's Envoy
// container, the volume workload-socket where Istio's agent serves SDS
// (Istio's injection templates declare that emptyDir; the pod's own
// declaration of it merges with theirs) at the agent's directory.
func mountsWorkloadSocket(spec map[string]any) bool {
	declared := false
	vols, _ := dig(spec, "provider", "kubernetes", "envoyDeployment", "pod", "volumes").([]any)
	for _, v := range vols {
		m, _ := v.(map[string]any)
		declared = declared || m["name"] == workloadSocketVolume
	}
	mounts, _ := dig(spec, "provider", "kubernetes", "envoyDeployment", "container", "volumeMounts").([]any)
	for _, v := range mounts {
		m, _ := v.(map[string]any)
		if declared && m["name"] == workloadSocketVolume && m["mountPath"] == workloadSocketDir {
			return true
		}
	}
	return false
}

// dig follows keys through nested maps.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// stringMap converts a decoded YAML map to strings.
func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}
