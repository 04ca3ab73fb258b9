package sim

import (
	"fmt"
	"slices"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
)

// leg is a connection on its way to a backend.
type leg struct {
	// svc is the destination Service in the cluster (nil when it is not
	// one, e.g. a ServiceEntry host), service and port name it.
	svc     *svcInfo
	service Service
	port    int
	req     httpRequest
	// tls is the TLS of the connection: none, tls or istio-mtls.
	tls    string
	appTLS bool
	http2  bool
	// alpn is what the source offers in its TLS handshake ("" for
	// Istio's own choice by protocol).
	alpn string
}

// firstLeg is the connection as it leaves the gateway's Envoy.
func (m *Istio) firstLeg(u Upstream) leg {
	l := leg{
		svc: m.cluster.service(u.Service), service: u.Service, port: u.Port,
		req: httpRequest{method: u.Method, host: u.Host, path: u.Path},
		tls: TLSNone, appTLS: u.TLS == TLSSimple, http2: u.HTTP2,
	}
	if l.appTLS {
		l.tls = TLSSimple
	}
	if u.TLS == TLSIstioMTLS {
		// the gateway opens Istio mTLS itself (gateway-sds)
		l.tls = TLSIstioMTLS
		// Envoy offers the cluster's ALPN; without one, what its
		// HTTP protocol options negotiate.
		l.alpn = "http/1.1"
		if u.HTTP2 {
			l.alpn = "h2"
		}
		if len(u.ALPN) > 0 {
			l.alpn = u.ALPN[0]
		}
	}
	return l
}

// carrySidecar carries u through the gateway pod's sidecar (when it has
// one) and the backend's sidecar (when it has one).
func (m *Istio) carrySidecar(u Upstream) ([]Hop, Delivery, string) {
	l := m.firstLeg(u)
	var hops []Hop
	if m.gateway != nil {
		hop, next, refused := m.outbound(u, l)
		hops = append(hops, hop)
		if refused != "" {
			return hops, Delivery{}, refused
		}
		l = next
	}
	d := Delivery{Service: l.service, Port: l.port, Path: l.req.path}
	if l.svc == nil || l.svc.Pod == nil || !l.svc.Pod.Sidecar {
		if l.tls == TLSIstioMTLS && m.gateway == nil {
			return hops, Delivery{}, fmt.Sprintf("the backend %s has no sidecar: nothing answers the gateway's Istio mTLS, and the handshake fails (503)", l.service)
		}
		return hops, d, ""
	}
	if m.gateway == nil && l.tls == TLSIstioMTLS {
		if refused := checkBackendIdentity(u, l.svc.Pod, m.inbound[l.svc.Pod.key()].trustDomain); refused != "" {
			return hops, Delivery{}, refused
		}
	}
	hop, refused := m.inboundHop(l)
	hops = append(hops, hop)
	if refused != "" {
		return hops, Delivery{}, refused
	}
	return hops, d, ""
}

// outbound simulates the call from the gateway pod's sidecar (the Envoy
// Gateway proxy's connection captured by iptables to port 15001).
func (m *Istio) outbound(u Upstream, l leg) (Hop, leg, string) {
	gw := m.cluster.gateway
	hop := Hop{
		Proxy: fmt.Sprintf("istio-proxy %s (sidecar of the gateway)", gw.key()),
		TLS:   l.tls, Host: l.req.host, Path: l.req.path,
	}
	addr, port := u.Address, u.Port
	if addr == "" && l.svc != nil && l.svc.Pod != nil {
		// The gateway sends to the endpoints (routingType Endpoint).
		addr = l.svc.Pod.IP
		if sp, ok := l.svc.port(u.Port); ok {
			port = sp.TargetPort
		}
	}
	if addr == "" {
		return hop, l, fmt.Sprintf("the gateway's sidecar: no address for %s:%d", u.Service, u.Port)
	}
	cn := conn{srcIP: gw.IP, address: addr, port: port, tls: l.tls, appTLS: l.appTLS, http2: l.http2, req: l.req}
	res := m.gateway.run(cn.call(simulation.CallModeOutbound))
	if res.Error != nil {
		hop.Note = joinNotes("listener "+res.ListenerMatched, routeNote(res), res.Error.Error())
		return hop, l, "the gateway's sidecar: " + simError(res.Error)
	}
	clusterName, next := res.ClusterMatched, l.req
	if res.VirtualHostMatched != "" {
		var refused string
		clusterName, next, refused = m.outboundRoute(&hop, res, l)
		if refused != "" {
			return hop, l, refused
		}
	}
	hop.Cluster, hop.Host, hop.Path = clusterName, next.host, next.path
	return m.outboundCluster(hop, l, next, u)
}

// outboundRoute re-matches the request in the route configuration the
// simulation chose and applies the route's rewrites.
func (m *Istio) outboundRoute(hop *Hop, res simulation.Result, l leg) (string, httpRequest, string) {
	rm, err := matchRequest(m.gateway, res, l.req, l.tls != TLSNone)
	if err != nil {
		return "", l.req, "the gateway's sidecar: " + err.Error()
	}
	hop.Note = routeNote(res)
	if rm.route == nil {
		return "", l.req, fmt.Sprintf("the gateway's sidecar: 404 (no route of virtual host %s in route configuration %s matches %s)",
			res.VirtualHostMatched, rm.config, l.req.path)
	}
	r := rm.route
	hop.Route = r.GetName()
	if dr := r.GetDirectResponse(); dr != nil {
		return "", l.req, fmt.Sprintf("the gateway's sidecar: %d (direct response of route %q, virtual host %s)",
			dr.GetStatus(), r.GetName(), res.VirtualHostMatched)
	}
	if r.GetRedirect() != nil {
		return "", l.req, fmt.Sprintf("the gateway's sidecar: redirect (route %q)", r.GetName())
	}
	hop.Timeout, hop.Retries = routeTimeout(r), routeRetries(r, rm.vhost)
	next, err := rewrite(r, l.req)
	if err != nil {
		return "", l.req, "the gateway's sidecar: " + err.Error()
	}
	return routeCluster(r), next, ""
}

// outboundCluster decides where the chosen cluster sends the request and
// with what TLS.
func (m *Istio) outboundCluster(hop Hop, l leg, next httpRequest, u Upstream) (Hop, leg, string) {
	out := l
	out.req = next
	switch hop.Cluster {
	case "":
		return hop, l, "the gateway's sidecar: no cluster"
	case blackHoleCluster:
		return hop, l, "the gateway's sidecar: 502 (BlackHoleCluster: the outbound traffic policy is REGISTRY_ONLY and nothing in the registry matches)"
	case passthroughCluster:
		// ORIGINAL_DST: the connection goes on to u.Address:u.Port as is.
		hop.TLS = l.tls
		hop.Note = joinNotes(hop.Note, "PassthroughCluster: plain forwarding to the original destination, no Istio mTLS")
		return hop, out, ""
	}
	_, port, _, host, ok := parseClusterName(hop.Cluster)
	if !ok {
		return hop, l, fmt.Sprintf("the gateway's sidecar: unexpected cluster %q", hop.Cluster)
	}
	tls, err := m.gateway.clusterTLS(hop.Cluster)
	if err != nil {
		return hop, l, "the gateway's sidecar: " + err.Error()
	}
	if tls == TLSNone && l.appTLS {
		tls = TLSSimple
	}
	hop.TLS = tls
	out.tls, out.port, out.svc = tls, port, m.cluster.serviceByHost(host)
	out.service = Service{Name: host}
	if out.svc != nil {
		out.service = out.svc.Service
	}
	return hop, out, ""
}

// routeNote names the route configuration and virtual host the
// simulation matched.
func routeNote(res simulation.Result) string {
	if res.VirtualHostMatched == "" {
		return ""
	}
	return fmt.Sprintf("route configuration %s, virtual host %s", res.RouteConfigMatched, res.VirtualHostMatched)
}

// clusterTLS is the TLS the sidecar opens for a cluster: the cluster's
// transport socket, or, with Istio's auto mTLS, the transport socket
// match that the endpoints' metadata (tlsMode: istio on injected pods)
// selects.
func (sc *sidecarSim) clusterTLS(name string) (string, error) {
	c := sc.clusters[name]
	if c == nil {
		return "", fmt.Errorf("cluster %q not found", name)
	}
	if ts := c.GetTransportSocket(); ts != nil {
		return transportTLS(ts)
	}
	md := endpointMatchMetadata(sc.endpoints[clusterEDSName(c)])
	for _, tsm := range c.GetTransportSocketMatches() {
		if structSubset(tsm.GetMatch(), md) {
			return transportTLS(tsm.GetTransportSocket())
		}
	}
	return TLSNone, nil
}

// clusterEDSName is the name of the cluster's endpoint assignment.
func clusterEDSName(c *cluster.Cluster) string {
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n
	}
	return c.GetName()
}

// endpointMatchMetadata returns the transport socket match metadata of
// the first endpoint of an assignment.
func endpointMatchMetadata(cla *endpoint.ClusterLoadAssignment) *structpb.Struct {
	for _, lle := range cla.GetEndpoints() {
		for _, ep := range lle.GetLbEndpoints() {
			return ep.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"]
		}
	}
	return nil
}

// structSubset tells whether every field of match is in md.
func structSubset(match, md *structpb.Struct) bool {
	for k, v := range match.GetFields() {
		got, ok := md.GetFields()[k]
		if !ok || got.GetStringValue() != v.GetStringValue() {
			return false
		}
	}
	return true
}

// transportTLS classifies a transport socket: Istio mTLS (the workload
// certificate Istio's agent serves as SDS secret "default"), other TLS, or
// none.
func transportTLS(ts *core.TransportSocket) (string, error) {
	if ts == nil || ts.GetTypedConfig() == nil {
		return TLSNone, nil
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if !ts.GetTypedConfig().MessageIs(ctx) {
		return TLSNone, nil
	}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return "", err
	}
	for _, sds := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		if sds.GetName() == "default" {
			return TLSIstioMTLS, nil
		}
	}
	return TLSSimple, nil
}

// inboundHop simulates the backend's sidecar receiving the connection
// (iptables redirect to 15006) and authorizing it.
func (m *Istio) inboundHop(l leg) (Hop, string) {
	gw, pod := m.cluster.gateway, l.svc.Pod
	sc := m.inbound[pod.key()]
	hop := Hop{
		Proxy: fmt.Sprintf("istio-proxy %s (sidecar of the backend)", pod.key()),
		TLS:   TLSNone, Host: l.req.host, Path: l.req.path,
	}
	if l.appTLS {
		hop.TLS = TLSSimple
	}
	target := l.port
	if sp, ok := l.svc.port(l.port); ok {
		target = sp.TargetPort
	}
	cn := conn{srcIP: gw.IP, address: pod.IP, port: target, tls: l.tls, appTLS: l.appTLS, http2: l.http2, req: l.req, alpn: l.alpn}
	if l.tls == TLSIstioMTLS {
		cn.srcIdentity = gw.identity(sc.trustDomain)
	}
	res := sc.run(cn.call(simulation.CallModeInbound))
	if res.Error != nil {
		hop.Note = fmt.Sprintf("%s; %v", sc.peerAuthnPolicy(target), res.Error)
		return hop, inboundRefusal(sc, pod, target, l.tls, res.Error)
	}
	hop.Route, hop.Cluster = res.RouteMatched, res.ClusterMatched
	if res.VirtualHostMatched != "" {
		if rm, err := matchRequest(sc, res, l.req, l.tls != TLSNone); err == nil && rm.route != nil {
			hop.Route, hop.Timeout, hop.Retries = rm.route.GetName(), routeTimeout(rm.route), routeRetries(rm.route, rm.vhost)
		}
	}
	decision, err := sc.authorize(res, cn)
	if err != nil {
		return hop, fmt.Sprintf("the backend's sidecar (%s): cannot evaluate its authorization: %v", pod.key(), err)
	}
	if decision.denied != "" {
		hop.Note = sc.peerAuthnPolicy(target)
		return hop, fmt.Sprintf("the backend's sidecar (%s) refused the request from %s: %s",
			pod.key(), sourceName(cn.srcIdentity), decision.denied)
	}
	hop.Policy = sc.peerAuthnPolicy(target)
	if decision.allowedBy != "" {
		hop.Policy = authzPolicyName(decision.allowedBy) + "; " + hop.Policy
	}
	return hop, ""
}

// checkBackendIdentity checks the backend pod's SPIFFE identity against
// the URI SANs the gateway accepts (its BackendTLSPolicy's
// subjectAltNames): Envoy refuses any other certificate.
func checkBackendIdentity(u Upstream, pod *podInfo, trustDomain string) string {
	id := pod.identity(trustDomain)
	if len(u.URISANs) == 0 || slices.Contains(u.URISANs, id) {
		return ""
	}
	return fmt.Sprintf("the gateway refuses the certificate of %s (%s): it accepts only %s (503)", pod.key(), id, strings.Join(u.URISANs, ", "))
}

// inboundRefusal explains why the backend's sidecar did not take the
// connection.
func inboundRefusal(sc *sidecarSim, pod *podInfo, port int, tls string, err error) string {
	if sc.mtlsMode(port) == model.MTLSStrict && tls != TLSIstioMTLS {
		what := "plain text"
		if tls == TLSSimple {
			what = "TLS that is not Istio mTLS"
		}
		return fmt.Sprintf("the backend's sidecar (%s) refused %s under STRICT mTLS (%s): %v",
			pod.key(), what, sc.peerAuthnPolicy(port), err)
	}
	return fmt.Sprintf("the backend's sidecar (%s): %s", pod.key(), simError(err))
}

// sourceName names a source identity for messages.
func sourceName(identity string) string {
	if identity == "" {
		return "a source without mesh identity (plain text)"
	}
	return identity
}

// authorize evaluates the RBAC filters of the inbound filter chain the
// simulation matched.
func (sc *sidecarSim) authorize(res simulation.Result, cn conn) (authzDecision, error) {
	l := findListener(sc.sim.Listeners, res.ListenerMatched)
	if l == nil {
		return authzDecision{}, fmt.Errorf("listener %q not found", res.ListenerMatched)
	}
	fc := findChain(l, res.FilterChainMatched, cn.tls != TLSNone)
	if fc == nil {
		return authzDecision{}, fmt.Errorf("filter chain %q not found", res.FilterChainMatched)
	}
	filters, err := chainRBAC(fc)
	if err != nil {
		return authzDecision{}, err
	}
	in := rbacInput{principal: cn.srcIdentity, srcIP: cn.srcIP, dstIP: cn.address, dstPort: cn.port}
	if res.VirtualHostMatched != "" {
		req := cn.req
		in.req = &req
	}
	return authorize(filters, in)
}
