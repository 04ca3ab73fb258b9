package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/security/authn"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
)

// Istio's well-known cluster names.
const (
	passthroughCluster = "PassthroughCluster"
	blackHoleCluster   = "BlackHoleCluster"
)

// istioVersion is the proxy version the sidecars announce (SetupProxy
// would default to 1.23).
const istioVersion = "1.31.0"

// sidecarSim is what Istio computed for one pod's sidecar.
type sidecarSim struct {
	pod         *podInfo
	sim         *simulation.Simulation
	clusters    map[string]*cluster.Cluster
	endpoints   map[string]*endpoint.ClusterLoadAssignment
	trustDomain string
	// peerAuthn is the effective PeerAuthentication of the pod and the
	// names of the PeerAuthentications it comes from.
	peerAuthn     authn.MergedPeerAuthentication
	peerAuthnCfgs []*config.Config
}

// newSidecarSim computes, with Istio's config generator, the listeners,
// routes, clusters and endpoints of p's sidecar, and its PeerAuthentication.
func newSidecarSim(s *xds.FakeDiscoveryServer, p *podInfo, mc *meshconfig.MeshConfig) *sidecarSim {
	sc, proxy := newProxySim(s, model.SidecarProxy, p, mc)
	root := mc.GetRootNamespace()
	pas := s.PushContext().AuthnPolicies.GetPeerAuthenticationsForWorkload(
		model.PolicyMatcherForProxy(proxy).WithRootNamespace(root))
	sc.peerAuthn = authn.ComposePeerAuthentication(root, pas)
	sc.peerAuthnCfgs = pas
	return sc
}

// newProxySim computes, with Istio's config generator, the listeners,
// routes, clusters and endpoints of a proxy of the given type (a sidecar,
// or a gateway: model.Router) on p.
func newProxySim(s *xds.FakeDiscoveryServer, typ model.NodeType, p *podInfo, mc *meshconfig.MeshConfig) (*sidecarSim, *model.Proxy) {
	proxy := s.SetupProxy(&model.Proxy{
		Type:            typ,
		ID:              p.Name + "." + p.Namespace,
		IPAddresses:     []string{p.IP},
		ConfigNamespace: p.Namespace,
		DNSDomain:       p.Namespace + ".svc.cluster.local",
		Labels:          p.Labels,
		Metadata: &model.NodeMetadata{
			IstioVersion:   istioVersion,
			Namespace:      p.Namespace,
			Labels:         p.Labels,
			Annotations:    p.Annotations,
			ServiceAccount: p.ServiceAccount,
			WorkloadName:   p.Name,
			InstanceIPs:    []string{p.IP},
		},
	})
	l := s.Listeners(proxy)
	sc := &sidecarSim{
		pod:         p,
		sim:         &simulation.Simulation{Listeners: l, Clusters: s.Clusters(proxy), Routes: s.RoutesFromListeners(proxy, l)},
		clusters:    map[string]*cluster.Cluster{},
		endpoints:   map[string]*endpoint.ClusterLoadAssignment{},
		trustDomain: mc.GetTrustDomain(),
	}
	for _, c := range sc.sim.Clusters {
		sc.clusters[c.Name] = c
	}
	for _, cla := range s.Endpoints(proxy) {
		sc.endpoints[cla.ClusterName] = cla
	}
	return sc, proxy
}

// configNames returns "namespace/name" of each config.
func configNames(cfgs []*config.Config) []string {
	out := make([]string, 0, len(cfgs))
	for _, c := range cfgs {
		out = append(out, c.Namespace+"/"+c.Name)
	}
	return out
}

// run runs Istio's simulation of one call, turning a panic (a nil
// *testing.T dereferenced on an error path) into an error.
func (sc *sidecarSim) run(call simulation.Call) (res simulation.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = simulation.Result{Error: fmt.Errorf("istio simulation failed: %v", r)}
		}
	}()
	return sc.sim.Run(call)
}

// mtlsMode returns the pod's effective mTLS mode on a port.
func (sc *sidecarSim) mtlsMode(port int) model.MutualTLSMode {
	if m, ok := sc.peerAuthn.PerPort[uint32(port)]; ok {
		return m
	}
	return sc.peerAuthn.Mode
}

// peerAuthnPolicy names the PeerAuthentication behind the mode on port.
func (sc *sidecarSim) peerAuthnPolicy(port int) string {
	return peerAuthnSummary(sc.peerAuthnCfgs, sc.mtlsMode(port))
}

// peerAuthnSummary names PeerAuthentications and the mode they give.
func peerAuthnSummary(cfgs []*config.Config, mode model.MutualTLSMode) string {
	if len(cfgs) == 0 {
		return "no PeerAuthentication (Istio's default PERMISSIVE)"
	}
	return fmt.Sprintf("PeerAuthentication %s (%s)", strings.Join(configNames(cfgs), ", "), mode)
}

// conn is a connection a sidecar handles and the request it carries.
type conn struct {
	// srcIP and srcIdentity are the source pod's IP and, over Istio
	// mTLS, its SPIFFE identity.
	srcIP, srcIdentity string
	// address and port are the destination.
	address string
	port    int
	// tls is the TLS the source opened: none, tls or istio-mtls.
	tls string
	// alpn is what the source offers ("" for Istio's default by protocol).
	alpn string
	// appTLS tells whether the application itself speaks TLS (the
	// gateway's backend TLS) inside the connection.
	appTLS bool
	http2  bool
	req    httpRequest
}

// call renders c as a call of Istio's simulation.
func (c conn) call(mode simulation.CallMode) simulation.Call {
	call := simulation.Call{
		Address:    c.address,
		Port:       c.port,
		Path:       c.req.path,
		HostHeader: c.req.host,
		Protocol:   simulation.HTTP,
		CallMode:   mode,
		TLS:        simulation.Plaintext,
	}
	if c.http2 {
		call.Protocol = simulation.HTTP2
	}
	if c.appTLS {
		// What the sidecar sees is TLS (or TLS inside Istio mTLS):
		// bytes, not HTTP.
		call.Protocol = simulation.TCP
	}
	switch c.tls {
	case TLSIstioMTLS:
		call.TLS = simulation.MTLS
		call.Alpn = c.alpn
	case TLSSimple:
		call.TLS = simulation.TLS
		call.Sni = c.req.host
	}
	return call
}

// simError explains an error of Istio's simulation as the proxy's answer.
func simError(err error) string {
	switch {
	case errors.Is(err, simulation.ErrNoRoute):
		return "404 (no route matched)"
	case errors.Is(err, simulation.ErrNoVirtualHost):
		return "404 (no virtual host matched the Host header)"
	case errors.Is(err, simulation.ErrTLSRedirect):
		return "301 (TLS required)"
	case errors.Is(err, simulation.ErrNoListener), errors.Is(err, simulation.ErrNoFilterChain):
		return "connection closed (" + err.Error() + ")"
	}
	return "connection failed (" + err.Error() + ")"
}

// parseClusterName splits Istio's "direction|port|subset|host".
func parseClusterName(name string) (direction string, port int, subset, host string, ok bool) {
	parts := strings.Split(name, "|")
	if len(parts) != 4 {
		return "", 0, "", "", false
	}
	port, err := strconv.Atoi(parts[1])
	if err != nil {
		return "", 0, "", "", false
	}
	return parts[0], port, parts[2], parts[3], true
}
