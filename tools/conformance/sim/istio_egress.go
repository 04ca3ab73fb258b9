package sim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"go.yaml.in/yaml/v3"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/wellknown"

	"egmc.dev/egmc/tools/conformance"
)

// This file simulates egress: a connection a backend pod opens to an
// external host, through the pod's sidecar and, on egmc's egress path,
// Istio's egress gateway. The listeners, routes, clusters, endpoints and
// RBAC filters are Istio's own (a fake istiod fed the stream, as in
// istio_fake.go), and each proxy's choice of listener, filter chain, route
// and cluster is Istio's simulation (pilot/pkg/simulation). This file's
// model is the walk between proxies: the cluster a proxy chose names the
// next one (the egress gateway's Service, hence its pod) or the external
// host (a ServiceEntry's cluster); the transport socket of that cluster
// gives the TLS and SNI the next proxy sees; the RBAC of the egress
// gateway's filter chain is evaluated by istio_rbac.go.

// Egress protocols of an EgressCall: what the application speaks.
const (
	EgressTLS  = "TLS"
	EgressHTTP = "HTTP"
	EgressTCP  = "TCP"
)

// The egress gateway as the istio/gateway chart installs it (release
// istio-egressgateway), and the address external host names resolve to.
const (
	egressGatewayName = "istio-egressgateway"
	egressGatewayIP   = "10.96.240.10"
	externalAddress   = "203.0.113.10" // TEST-NET-3
)

// EgressCall is a connection a backend's application opens to an external
// host.
type EgressCall struct {
	// From is the backend Service whose pod calls out.
	From Service
	// Host and Port are the external host and port.
	Host string
	Port int
	// Protocol is EgressTLS (the application's own TLS, with Host as
	// SNI), EgressHTTP or EgressTCP.
	Protocol string
	// Path is the HTTP path, "/" when empty.
	Path string
}

// EgressHop is one proxy an egress connection crosses and what it did.
type EgressHop struct {
	// Proxy names the proxy.
	Proxy string `json:"proxy"`
	// Listener and FilterChain are what the connection matched.
	Listener    string `json:"listener"`
	FilterChain string `json:"filterChain,omitempty"`
	// VirtualHost and Route name the HTTP virtual host and route (HTTP
	// only; Istio leaves a VirtualService route without a name unnamed).
	VirtualHost string `json:"virtualHost,omitempty"`
	Route       string `json:"route,omitempty"`
	// Cluster is the upstream cluster the proxy chose.
	Cluster string `json:"cluster,omitempty"`
	// TLS is the TLS of the connection this hop opens: none, tls (the
	// application's own, or TLS the proxy originates) or istio-mtls.
	TLS string `json:"tls"`
	// SNI is the SNI of the TLS this hop opens ("" without TLS).
	SNI string `json:"sni,omitempty"`
	// Policy names the AuthorizationPolicy that admitted the connection.
	Policy string `json:"policy,omitempty"`
	// Note says more, e.g. why the hop refused the connection.
	Note string `json:"note,omitempty"`
}

// EgressResult is the fate of one egress call.
type EgressResult struct {
	Hops []EgressHop `json:"hops"`
	// Destination is "<host>:<port>" where the connection leaves the
	// mesh, empty when it was refused.
	Destination string `json:"destination"`
	// ServiceEntry names the ServiceEntry (namespace/name) of the
	// destination's cluster, empty when none holds it.
	ServiceEntry string `json:"serviceEntry,omitempty"`
	// Error says why the connection was refused.
	Error string `json:"error,omitempty"`
}

// EgressOptions are what NewIstioEgress needs beside the stream.
type EgressOptions struct {
	// Namespace is Istio's namespace, where the egress gateway runs
	// (istio-system when empty).
	Namespace string
	// GatewayValues is helm/istio-egressgateway-values.yaml; its service.ports
	// are the egress gateway Service's ports. Without it the cluster has
	// no egress gateway.
	GatewayValues []byte
	// MeshConfig is the meshConfig of helm/istiod-values.yaml, or nil.
	MeshConfig []byte
	// GatewayPodLabels are added to the egress gateway pod's labels.
	GatewayPodLabels map[string]string
}

// IstioEgress is Istio's view of egress calls: the outbound side of every
// injected backend pod's sidecar and the egress gateway.
type IstioEgress struct {
	cluster    *istioCluster
	objs       []conformance.Object
	gatewaySvc *svcInfo
	sources    map[Service]*sidecarSim
	gateway    *sidecarSim
}

// EgressGatewayService returns the Service the istio/gateway chart makes
// for release istio-egressgateway in namespace with the given values: the
// chart's selector (app and istio labels) and values' service.ports.
func EgressGatewayService(namespace string, values []byte) (conformance.Object, error) {
	var v struct {
		Service struct {
			Ports []map[string]any `yaml:"ports"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(values, &v); err != nil {
		return nil, fmt.Errorf("egress gateway values: %w", err)
	}
	if len(v.Service.Ports) == 0 {
		return nil, fmt.Errorf("egress gateway values: no service.ports")
	}
	ports := make([]any, 0, len(v.Service.Ports))
	for _, p := range v.Service.Ports {
		ports = append(ports, p)
	}
	return conformance.Object{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": egressGatewayName, "namespace": namespace},
		"spec": map[string]any{
			"type": "ClusterIP", "clusterIP": egressGatewayIP, "ports": ports,
			"selector": map[string]any{"app": egressGatewayName, "istio": "egressgateway"},
		},
	}, nil
}

// NewIstioEgress builds Istio's view of the stream for egress calls. The
// cluster holds the stream's namespaces, the fixtures' Services with a pod
// behind each (injected where the namespace says so), and, given
// opts.GatewayValues, the egress gateway's Service and pod: labelled as the
// istio/gateway chart labels it and injected with Istio's gateway template,
// which runs the proxy as a router and does not add the
// security.istio.io/tlsMode label the sidecar template adds (add it with
// opts.GatewayPodLabels to see what auto mTLS would do).
func NewIstioEgress(objs, fixtures []conformance.Object, opts EgressOptions) (*IstioEgress, error) {
	ns := cmp.Or(opts.Namespace, "istio-system")
	fixtures = slices.Clone(fixtures)
	if len(opts.GatewayValues) > 0 {
		gw, err := EgressGatewayService(ns, opts.GatewayValues)
		if err != nil {
			return nil, err
		}
		fixtures = append(fixtures, gw)
	}
	c, err := newEgressCluster(objs, fixtures, ns)
	if err != nil {
		return nil, err
	}
	e := &IstioEgress{cluster: c, objs: objs, sources: map[Service]*sidecarSim{}}
	if e.gatewaySvc = c.service(Service{Namespace: ns, Name: egressGatewayName}); e.gatewaySvc != nil {
		labelEgressGateway(e.gatewaySvc.Pod, opts.GatewayPodLabels)
	}
	silenceIstioLogs()
	istioBuildMu.Lock()
	defer istioBuildMu.Unlock()
	if err := e.build(opts.MeshConfig); err != nil {
		return nil, err
	}
	return e, nil
}

// newEgressCluster is newIstioCluster without the Envoy Gateway proxy pod
// (the cluster's gateway stays nil), with Istio's namespace istioNS.
func newEgressCluster(objs, fixtures []conformance.Object, istioNS string) (*istioCluster, error) {
	c := &istioCluster{objs: objs, namespaces: map[string]map[string]string{}}
	for _, o := range objs {
		if o.APIVersion() == "v1" && o.Kind() == "Namespace" {
			c.namespaces[o.Name()] = o.Labels()
		}
	}
	c.ensureNamespace(istioNS)
	if err := c.addServices(append(slices.Clone(objs), fixtures...)); err != nil {
		return nil, err
	}
	return c, nil
}

// labelEgressGateway gives the egress gateway pod the labels of the
// istio/gateway chart's pod template (manifests/charts/gateway) and of
// Istio's gateway injection template, plus extra.
func labelEgressGateway(p *podInfo, extra map[string]string) {
	maps.Copy(p.Labels, map[string]string{
		labelInject:                           "true",
		"app.kubernetes.io/name":              egressGatewayName,
		labelDataplaneMode:                    "none",
		labelCanonicalName:                    egressGatewayName,
		"service.istio.io/canonical-revision": "latest",
	})
	maps.Copy(p.Labels, extra)
	p.Annotations["inject.istio.io/templates"] = "gateway"
}

// build runs the fake istiod on the cluster and keeps the proxies'
// configuration.
func (e *IstioEgress) build(meshConfig []byte) error {
	mc, err := parseMeshConfig(meshConfig)
	if err != nil {
		return err
	}
	cfg, err := e.cluster.configYAML()
	if err != nil {
		return err
	}
	kube, err := marshalObjects(e.cluster.workloadObjects())
	if err != nil {
		return err
	}
	err = withAmbientFeatures(false, func() error {
		return runFailer(func(t *failer) {
			s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
				ConfigString: cfg, KubernetesObjectString: kube, MeshConfig: mc,
			})
			e.capture(s, mc)
		})
	})
	if err != nil {
		return fmt.Errorf("istio egress: fake istiod: %w", err)
	}
	return nil
}

// capture computes the injected pods' sidecars and the egress gateway.
func (e *IstioEgress) capture(s *xds.FakeDiscoveryServer, mc *meshconfig.MeshConfig) {
	for _, svc := range e.cluster.services {
		if svc.Pod != nil && svc.Pod.Sidecar {
			e.sources[svc.Service] = newSidecarSim(s, svc.Pod, mc)
		}
	}
	if e.gatewaySvc != nil {
		e.gateway = newRouterSim(s, e.gatewaySvc.Pod, mc)
	}
}

// newRouterSim computes, with Istio's config generator, the listeners,
// routes, clusters and endpoints of a gateway proxy (model.Router) on p.
func newRouterSim(s *xds.FakeDiscoveryServer, p *podInfo, mc *meshconfig.MeshConfig) *sidecarSim {
	sc, _ := newProxySim(s, model.Router, p, mc)
	return sc
}

// egressLeg is a connection on its way out: the cluster the last proxy
// chose, where it points, and the TLS it opened.
type egressLeg struct {
	cluster, host string
	port          int
	tls, sni      string
}

// Call simulates c: the backend's sidecar, then the egress gateway when
// the sidecar sends the connection there.
func (e *IstioEgress) Call(c EgressCall) EgressResult {
	res := EgressResult{Hops: []EgressHop{}}
	src := e.sources[c.From]
	if src == nil {
		res.Error = fmt.Sprintf("no injected pod behind %s", c.From)
		return res
	}
	hop, leg, refused := e.sidecarHop(src, c)
	res.Hops = append(res.Hops, hop)
	if refused == "" && e.gateway != nil && leg.host == e.gatewaySvc.hostname() {
		hop, leg, refused = e.gatewayHop(src, c, leg)
		res.Hops = append(res.Hops, hop)
	}
	if refused != "" {
		res.Error = refused
		return res
	}
	res.Destination = fmt.Sprintf("%s:%d", leg.host, leg.port)
	res.ServiceEntry = e.serviceEntry(leg.host, leg.port)
	return res
}

// sidecarHop simulates the backend's sidecar: the application's
// connection, captured by iptables to port 15001.
func (e *IstioEgress) sidecarHop(src *sidecarSim, c EgressCall) (EgressHop, egressLeg, string) {
	hop := EgressHop{Proxy: fmt.Sprintf("istio-proxy %s (sidecar of the backend)", src.pod.key()), TLS: TLSNone}
	call := appCall(c, externalAddress, c.Port, simulation.CallModeOutbound)
	_, leg, refused := proxyCall(src, &hop, c, call)
	if refused != "" {
		return hop, leg, "the backend's sidecar: " + refused
	}
	if leg.cluster == passthroughCluster {
		hop.Note = joinNotes(hop.Note, "PassthroughCluster: the connection leaves from the backend's pod, not through the egress gateway")
		leg.host, leg.port = c.Host, c.Port
	}
	return hop, leg, ""
}

// gatewayHop simulates the egress gateway receiving leg (no iptables: the
// gateway listens on the Service's target port) and authorizing it.
func (e *IstioEgress) gatewayHop(src *sidecarSim, c EgressCall, in egressLeg) (EgressHop, egressLeg, string) {
	gw := e.gateway
	hop := EgressHop{Proxy: fmt.Sprintf("%s %s (egress gateway)", egressGatewayName, gw.pod.key()), TLS: TLSNone}
	port := in.port
	if sp, ok := e.gatewaySvc.port(in.port); ok {
		port = sp.TargetPort
	}
	call := appCall(c, gw.pod.IP, port, simulation.CallModeGateway)
	if in.tls == TLSIstioMTLS {
		call.TLS, call.Sni = simulation.MTLS, in.sni
	}
	res, leg, refused := proxyCall(gw, &hop, c, call)
	if refused != "" {
		return hop, leg, "the egress gateway: " + refused
	}
	policy, refused := gw.authorizeEgress(src, res, call, c)
	if refused != "" {
		hop.TLS, hop.SNI = TLSNone, ""
		return hop, leg, fmt.Sprintf("the egress gateway refused the connection from %s: %s", sourceName(identityOver(src, in.tls)), refused)
	}
	hop.Policy = policy
	return hop, leg, ""
}

// identityOver is the source's identity as the next proxy sees it: its
// SPIFFE identity over Istio mTLS, none otherwise.
func identityOver(src *sidecarSim, tls string) string {
	if tls != TLSIstioMTLS {
		return ""
	}
	return src.pod.identity(src.trustDomain)
}

// appCall is the application's connection as a call of Istio's simulation.
func appCall(c EgressCall, address string, port int, mode simulation.CallMode) simulation.Call {
	call := simulation.Call{
		Address: address, Port: port, CallMode: mode,
		Protocol: simulation.TCP, TLS: simulation.Plaintext,
	}
	switch c.Protocol {
	case EgressHTTP:
		call.Protocol, call.HostHeader, call.Path = simulation.HTTP, c.Host, cmp.Or(c.Path, "/")
	case EgressTLS:
		call.TLS, call.Sni = simulation.TLS, c.Host
	}
	return call
}

// proxyCall runs call on one proxy and fills hop with the listener, filter
// chain, route and cluster it matched, and the TLS its cluster opens.
func proxyCall(sc *sidecarSim, hop *EgressHop, c EgressCall, call simulation.Call) (simulation.Result, egressLeg, string) {
	res := sc.run(call)
	hop.Listener, hop.FilterChain = res.ListenerMatched, res.FilterChainMatched
	if res.Error != nil {
		hop.Note = res.Error.Error()
		return res, egressLeg{}, simError(res.Error)
	}
	name := res.ClusterMatched
	if res.VirtualHostMatched != "" {
		var refused string
		if name, refused = httpRoute(sc, hop, res, c, call.TLS != simulation.Plaintext); refused != "" {
			return res, egressLeg{}, refused
		}
	}
	hop.Cluster = name
	leg, refused := clusterLeg(sc, hop, c, name)
	return res, leg, refused
}

// httpRoute re-matches the request in the route configuration the
// simulation chose (istio_route.go) and returns the route's cluster.
func httpRoute(sc *sidecarSim, hop *EgressHop, res simulation.Result, c EgressCall, tls bool) (string, string) {
	req := httpRequest{method: "GET", host: c.Host, path: cmp.Or(c.Path, "/")}
	rm, err := matchRequest(sc, res, req, tls)
	if err != nil {
		return "", err.Error()
	}
	if rm.route == nil {
		return "", fmt.Sprintf("404 (no route of virtual host %s matches %s)", res.VirtualHostMatched, req.path)
	}
	hop.VirtualHost, hop.Route = res.VirtualHostMatched, rm.route.GetName()
	if dr := rm.route.GetDirectResponse(); dr != nil {
		return "", fmt.Sprintf("%d (direct response of route %q, virtual host %s)", dr.GetStatus(), rm.route.GetName(), res.VirtualHostMatched)
	}
	return routeCluster(rm.route), ""
}

// clusterLeg decides where a cluster sends the connection and with what
// TLS.
func clusterLeg(sc *sidecarSim, hop *EgressHop, c EgressCall, name string) (egressLeg, string) {
	leg := egressLeg{cluster: name, tls: TLSNone}
	if c.Protocol == EgressTLS {
		leg.tls = TLSSimple
	}
	switch name {
	case "":
		return leg, "no cluster"
	case blackHoleCluster:
		return leg, "BlackHoleCluster: the outbound traffic policy is REGISTRY_ONLY and nothing in the registry matches"
	case passthroughCluster:
		hop.TLS = leg.tls
		return leg, ""
	}
	_, port, _, host, ok := parseClusterName(name)
	if !ok {
		return leg, fmt.Sprintf("unexpected cluster %q", name)
	}
	leg.host, leg.port = host, port
	tls, sni, err := sc.upstreamTLS(name)
	if err != nil {
		return leg, err.Error()
	}
	if tls != TLSNone {
		leg.tls, leg.sni = tls, sni
	}
	hop.TLS, hop.SNI = leg.tls, leg.sni
	if c.Protocol == EgressTLS {
		hop.SNI = cmp.Or(leg.sni, c.Host)
	}
	return leg, ""
}

// upstreamTLS returns the TLS a cluster opens (none, tls or istio-mtls)
// and its SNI, from the cluster's transport socket or, with Istio's auto
// mTLS, the transport socket match the endpoints' metadata selects.
func (sc *sidecarSim) upstreamTLS(name string) (tls, sni string, err error) {
	c := sc.clusters[name]
	if c == nil {
		return "", "", fmt.Errorf("cluster %q not found", name)
	}
	ts := c.GetTransportSocket()
	if ts == nil {
		md := endpointMatchMetadata(sc.endpoints[clusterEDSName(c)])
		for _, tsm := range c.GetTransportSocketMatches() {
			if structSubset(tsm.GetMatch(), md) {
				ts = tsm.GetTransportSocket()
				break
			}
		}
	}
	if tls, err = transportTLS(ts); err != nil || tls == TLSNone {
		return tls, "", err
	}
	return tls, transportSNI(ts), nil
}

// transportSNI returns the SNI of an upstream TLS transport socket.
func transportSNI(ts *core.TransportSocket) string {
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return ""
	}
	return ctx.GetSni()
}

// authorizeEgress evaluates the RBAC filters of the egress gateway's
// filter chain that took the connection (istio_rbac.go) and returns the
// AuthorizationPolicy that admitted it, or why it was refused.
func (gw *sidecarSim) authorizeEgress(src *sidecarSim, res simulation.Result, call simulation.Call, c EgressCall) (string, string) {
	fc := gatewayChain(findListener(gw.sim.Listeners, res.ListenerMatched), call)
	if target, err := chainTarget(fc); err != nil || (target != res.RouteConfigMatched && target != res.ClusterMatched) {
		return "", fmt.Sprintf("cannot evaluate its authorization: no filter chain of listener %s that routes to %s",
			res.ListenerMatched, cmp.Or(res.RouteConfigMatched, res.ClusterMatched))
	}
	filters, err := chainRBAC(fc)
	if err != nil {
		return "", "cannot evaluate its authorization: " + err.Error()
	}
	in := rbacInput{srcIP: src.pod.IP, dstIP: call.Address, dstPort: call.Port, sni: call.Sni}
	if call.TLS == simulation.MTLS {
		in.principal = src.pod.identity(src.trustDomain)
	}
	if c.Protocol == EgressHTTP {
		in.req = &httpRequest{method: "GET", host: c.Host, path: cmp.Or(c.Path, "/")}
	}
	d, err := authorize(filters, in)
	switch {
	case err != nil:
		return "", "cannot evaluate its authorization: " + err.Error()
	case d.denied != "":
		return "", d.denied
	case d.allowedBy != "":
		return authzPolicyName(d.allowedBy), ""
	}
	return "", ""
}

// gatewayChain finds the filter chain Envoy picks for call among l's
// chains by server name (exact, else a chain without server names) and
// transport protocol: a gateway's chains carry no names to look up, and
// these are the only criteria Istio sets on them.
func gatewayChain(l *listener.Listener, call simulation.Call) *listener.FilterChain {
	tls := call.TLS != simulation.Plaintext
	var bySNI, open []*listener.FilterChain
	for _, fc := range l.GetFilterChains() {
		m := fc.GetFilterChainMatch()
		if tp := m.GetTransportProtocol(); tp != "" && (tp == "tls") != tls {
			continue
		}
		switch {
		case slices.Contains(m.GetServerNames(), call.Sni):
			bySNI = append(bySNI, fc)
		case len(m.GetServerNames()) == 0:
			open = append(open, fc)
		}
	}
	for _, chains := range [][]*listener.FilterChain{bySNI, open} {
		if len(chains) > 0 {
			return chains[0]
		}
	}
	return l.GetDefaultFilterChain()
}

// chainTarget returns what a filter chain sends to: the route
// configuration of its HTTP connection manager or the cluster of its TCP
// proxy, so that the chain gatewayChain found can be checked against the
// simulation's result.
func chainTarget(fc *listener.FilterChain) (string, error) {
	if fc == nil {
		return "", fmt.Errorf("no filter chain")
	}
	if h, err := chainHCM(fc); err != nil || h != nil {
		return h.GetRds().GetRouteConfigName(), err
	}
	for _, f := range fc.GetFilters() {
		if f.GetName() == wellknown.TCPProxy {
			tp := &tcpproxy.TcpProxy{}
			err := f.GetTypedConfig().UnmarshalTo(tp)
			return tp.GetCluster(), err
		}
	}
	return "", fmt.Errorf("filter chain %q routes nowhere", fc.GetName())
}

// serviceEntry names the ServiceEntry of the stream that holds host on
// port, or "".
func (e *IstioEgress) serviceEntry(host string, port int) string {
	for _, o := range e.objs {
		if !o.Is("networking.istio.io", "ServiceEntry") || !slices.Contains(stringList(o.Spec()["hosts"]), host) {
			continue
		}
		ports, _ := o.Spec()["ports"].([]any)
		for _, p := range ports {
			pm, _ := p.(map[string]any)
			if n, ok := asInt(pm["number"]); ok && n == port {
				return o.Namespace() + "/" + o.Name()
			}
		}
	}
	return ""
}

// stringList reads a YAML list of strings.
func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// String formats the call for messages, e.g. "TLS api.stripe.com:443
// from default/api-service".
func (c EgressCall) String() string {
	return strings.TrimSpace(fmt.Sprintf("%s %s:%d from %s", c.Protocol, c.Host, c.Port, c.From))
}
