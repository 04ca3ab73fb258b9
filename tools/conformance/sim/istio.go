package sim

import (
	"fmt"
	"sync"

	"egmc.dev/egmc/tools/conformance"
)

// GatewayProxy is the pod of the gateway's Envoy proxies.
type GatewayProxy struct {
	Namespace      string            // the EG controller namespace, where EG runs the proxies
	Name           string            // pod name to use, e.g. "envoy-default-apps-1a2b3c4d-0"
	ServiceAccount string            // EG's service account of the proxies
	Labels         map[string]string // pod labels (EG's owning-gateway labels plus EnvoyProxy pod labels)
	Annotations    map[string]string // pod annotations from the EnvoyProxy (e.g. traffic.sidecar.istio.io/includeInboundPorts, ambient.istio.io/bypass-inbound-capture)
	// WorkloadSocketMounted: EG's Envoy container mounts the volume where
	// an Istio agent in the pod serves SDS (see mountsWorkloadSocket).
	WorkloadSocketMounted bool
}

// Istio is the Istio mesh hop: it carries an Upstream from the gateway's
// Envoy to a backend the way Istio's data plane would, as computed by
// Istio's own control-plane code (see NewIstio).
type Istio struct {
	cluster *istioCluster
	// gateway is the outbound simulation of the gateway pod's sidecar, or
	// nil when the gateway pod has no sidecar.
	gateway *sidecarSim
	// inbound holds the inbound simulation of each injected backend pod,
	// by pod key (namespace/name).
	inbound map[string]*sidecarSim
	// ambient is Istio's ambient view, or nil when nothing is enrolled
	// in ambient.
	ambient *ambientView
}

var _ Mesh = (*Istio)(nil)

// istioBuildMu serializes NewIstio: Istio's feature flags (ambient on or
// off) are process globals that NewIstio sets while it builds the fake
// istiod.
var istioBuildMu sync.Mutex

// NewIstio builds Istio's view of the cluster from the stream's objects, the
// fixtures (Services with cluster IPs that a cluster would already hold,
// see tools/conformance/fixtures.go), the mesh config (the meshConfig of
// helm/istiod-values.yaml as YAML, or nil for Istio's defaults) and the gateway's
// proxy pod (where the EG Envoy runs).
//
// The Istio work is done here, once: a fake istiod (Istio's
// pilot/test/xds.FakeDiscoveryServer) is fed the stream's Istio objects and
// a cluster built from the fixtures (a pod and an EndpointSlice per
// Service, the gateway's pod, the namespaces); the listeners, routes,
// clusters and endpoints of the gateway's sidecar and of every injected
// backend pod, and the ambient index's view of workloads, services,
// waypoints and authorization policies, are computed and kept; then the
// fake istiod is stopped. Carry only reads what was kept.
func NewIstio(objs, fixtures []conformance.Object, meshConfig []byte, gw GatewayProxy) (Mesh, error) {
	if gw.Namespace == "" || gw.Name == "" {
		return nil, fmt.Errorf("istio: the gateway proxy needs a namespace and a pod name")
	}
	silenceIstioLogs()
	c, err := newIstioCluster(objs, fixtures, meshConfig, gw)
	if err != nil {
		return nil, err
	}
	m := &Istio{cluster: c, inbound: map[string]*sidecarSim{}}
	if !c.usesIstio() {
		return m, nil
	}
	istioBuildMu.Lock()
	defer istioBuildMu.Unlock()
	if err := m.build(); err != nil {
		return nil, err
	}
	return m, nil
}

// Carry carries u from the gateway's Envoy to the backend: through the
// gateway pod's sidecar and the backend's sidecar (sidecar mode), through
// ztunnel and a waypoint (ambient), or straight to the backend when
// nothing of Istio stands in between.
func (m *Istio) Carry(u Upstream) (hops []Hop, d Delivery, refused string) {
	if refused := sdsServed(u, m.cluster.servedSDSSockets()); refused != "" {
		return nil, Delivery{}, refused
	}
	switch {
	case !m.cluster.usesIstio():
		return nil, Delivery{Service: u.Service, Port: u.Port, Path: u.Path}, ""
	case m.cluster.gateway.Sidecar || m.cluster.anySidecar():
		return m.carrySidecar(u)
	case m.ambient != nil:
		return m.carryAmbient(u)
	}
	return nil, Delivery{Service: u.Service, Port: u.Port, Path: u.Path}, ""
}
