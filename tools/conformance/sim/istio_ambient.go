package sim

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshconfig "istio.io/api/mesh/v1alpha1"
	cniutil "istio.io/istio/cni/pkg/util"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/security/authn"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/workloadapi"
	"istio.io/istio/pkg/workloadapi/security"
)

// ambientSelectors are istio-cni's default ambient enablement selectors
// (manifests/charts/istio-cni/values.yaml, ambient.enablementSelectors): a
// pod labelled istio.io/dataplane-mode=ambient, or a pod not labelled
// istio.io/dataplane-mode=none in a namespace labelled
// istio.io/dataplane-mode=ambient.
var ambientSelectors = []cniutil.EnablementSelector{
	{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{labelDataplaneMode: "ambient"}}},
	{
		PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: labelDataplaneMode, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"none"}},
		}},
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{labelDataplaneMode: "ambient"}},
	},
}

// ambientEnrolled tells whether istio-cni enrolls the pod in ambient,
// with istio-cni's own selector code and default selectors. A pod with a
// sidecar is never enrolled.
func ambientEnrolled(p *podInfo, nsLabels map[string]string) bool {
	sel, err := cniutil.NewCompiledEnablementSelectors(ambientSelectors)
	if err != nil {
		return false
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, Annotations: p.Annotations,
	}}
	return sel.Matches(pod, nsLabels)
}

// ambientService is what Istio's ambient index says of a Service.
type ambientService struct {
	waypoint *workloadapi.GatewayAddress
	// waypointErr is Istio's reason for not binding the Service to the
	// waypoint its labels name.
	waypointErr *model.StatusMessage
}

// ambientView is what Istio's ambient index (pilot/pkg/serviceregistry/
// ambient, the source of the workload and authorization xDS ztunnel
// receives) says about the cluster.
type ambientView struct {
	trustDomain string
	workloads   map[string]*workloadapi.Workload // by pod IP
	services    map[Service]ambientService
	policies    map[string]*security.Authorization // by namespace/name
	// byNamespace lists the NAMESPACE-scoped policies of a namespace and,
	// under "", the GLOBAL ones.
	byNamespace map[string][]string
	// peerAuthn names the PeerAuthentications that apply to each pod and
	// their effective mode.
	peerAuthn map[string]string
	// waypoints maps the status address of each Gateway to it.
	waypoints map[string]waypointGateway
}

// waypointGateway is a Gateway Istio may use as a waypoint.
type waypointGateway struct {
	Namespace, Name, Class string
	envoyGateway           bool
}

// newAmbientView reads the ambient index of the fake istiod.
func newAmbientView(s *xds.FakeDiscoveryServer, c *istioCluster, mc *meshconfig.MeshConfig) *ambientView {
	av := &ambientView{
		trustDomain: mc.GetTrustDomain(),
		workloads:   map[string]*workloadapi.Workload{},
		services:    map[Service]ambientService{},
		policies:    map[string]*security.Authorization{},
		byNamespace: map[string][]string{},
		peerAuthn:   map[string]string{},
		waypoints:   c.waypointGateways(),
	}
	idx := s.AmbientIndex
	pc := s.PushContext()
	for _, p := range c.pods() {
		for _, a := range idx.Lookup("/" + p.IP) {
			if w := a.GetWorkload(); w != nil {
				av.workloads[p.IP] = w
			}
		}
		pas := pc.AuthnPolicies.GetPeerAuthenticationsForWorkload(model.WorkloadPolicyMatcher{
			WorkloadNamespace: p.Namespace, WorkloadLabels: p.Labels, RootNamespace: mc.GetRootNamespace(),
		})
		av.peerAuthn[p.key()] = peerAuthnSummary(pas, authn.ComposePeerAuthentication(mc.GetRootNamespace(), pas).Mode)
	}
	for _, svc := range c.services {
		if si := idx.ServiceInfo(svc.Service.Namespace + "/" + svc.hostname()); si != nil {
			av.services[svc.Service] = ambientService{waypoint: si.Service.GetWaypoint(), waypointErr: si.Waypoint.Error}
		}
	}
	for _, wa := range idx.Policies(nil) {
		av.addPolicy(wa.Authorization)
	}
	return av
}

// addPolicy indexes a policy the way ztunnel's policy store does.
func (av *ambientView) addPolicy(a *security.Authorization) {
	if a == nil {
		return
	}
	key := a.GetNamespace() + "/" + a.GetName()
	av.policies[key] = a
	switch a.GetScope() {
	case security.Scope_GLOBAL:
		av.byNamespace[""] = append(av.byNamespace[""], key)
	case security.Scope_NAMESPACE:
		av.byNamespace[a.GetNamespace()] = append(av.byNamespace[a.GetNamespace()], key)
	}
}

// waypointGateways lists the Gateways that got a status address (see
// ambientKubeObjects), by that address.
func (c *istioCluster) waypointGateways() map[string]waypointGateway {
	classes := map[string]string{}
	for _, o := range c.objs {
		if o.Is(gatewayAPIGroup, "GatewayClass") {
			classes[o.Name()], _ = o.Spec()["controllerName"].(string)
		}
	}
	out := map[string]waypointGateway{}
	for _, o := range c.ambientKubeObjects() {
		if !o.Is(gatewayAPIGroup, "Gateway") {
			continue
		}
		cls, _ := o.Spec()["gatewayClassName"].(string)
		for _, a := range statusAddresses(o) {
			out[a] = waypointGateway{
				Namespace: o.Namespace(), Name: o.Name(), Class: cls,
				envoyGateway: classes[cls] == egControllerName,
			}
		}
	}
	return out
}

// statusAddresses returns the values of a Gateway's status addresses.
func statusAddresses(o map[string]any) []string {
	st, _ := o["status"].(map[string]any)
	list, _ := st["addresses"].([]any)
	var out []string
	for _, a := range list {
		if m, ok := a.(map[string]any); ok {
			if v, ok := m["value"].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// carryAmbient carries u over ambient's data path: the gateway pod's
// ztunnel (when istio-cni captured the pod), a waypoint (when Istio bound
// one to the destination), the destination pod's ztunnel (when the pod is
// enrolled), which enforces PeerAuthentication and AuthorizationPolicy.
// Ambient does not route by Host: the request arrives at the Service
// addressed, with the path unchanged.
func (m *Istio) carryAmbient(u Upstream) ([]Hop, Delivery, string) {
	av, c := m.ambient, m.cluster
	d := Delivery{Service: u.Service, Port: u.Port, Path: u.Path}
	svc := c.service(u.Service)
	if svc == nil || svc.Pod == nil {
		return nil, d, ""
	}
	path := ambientPath{u: u, svc: svc, src: av.workloads[c.gateway.IP], dst: av.workloads[svc.Pod.IP]}
	path.waypoint, path.waypointNote = av.waypointFor(u, svc, path.dst)
	var hops []Hop
	identity := ""
	if path.srcCaptured() {
		hop := path.sourceHop(c.gateway)
		if hop.TLS == TLSIstioMTLS {
			identity = c.gateway.identity(av.trustDomain)
		}
		hops = append(hops, hop)
		if path.waypoint != nil {
			hop, id, refused := av.waypointHop(path)
			hops = append(hops, hop)
			if refused != "" {
				return hops, Delivery{}, refused
			}
			identity = id
		}
	}
	if !path.dstEnrolled() {
		return hops, d, ""
	}
	hop, refused := av.destinationHop(path, c.gateway, identity)
	hops = append(hops, hop)
	if refused != "" {
		return hops, Delivery{}, refused
	}
	return hops, d, ""
}

// ambientPath is one request's way through ambient.
type ambientPath struct {
	u            Upstream
	svc          *svcInfo
	src, dst     *workloadapi.Workload
	waypoint     *workloadapi.GatewayAddress
	waypointNote string
}

// srcCaptured tells whether ztunnel captures the source pod's traffic.
func (p ambientPath) srcCaptured() bool {
	return p.src.GetTunnelProtocol() == workloadapi.TunnelProtocol_HBONE
}

// dstEnrolled tells whether the destination pod is in ambient.
func (p ambientPath) dstEnrolled() bool {
	return p.dst.GetTunnelProtocol() == workloadapi.TunnelProtocol_HBONE
}

// targetPort is the port the destination pod receives on.
func (p ambientPath) targetPort() int {
	if sp, ok := p.svc.port(p.u.Port); ok {
		return sp.TargetPort
	}
	return p.u.Port
}

// sourceHop is the gateway node's ztunnel.
func (p ambientPath) sourceHop(gw *podInfo) Hop {
	hop := Hop{Proxy: fmt.Sprintf("ztunnel (node of %s)", gw.key()), TLS: TLSNone, Host: p.u.Host, Path: p.u.Path}
	switch {
	case p.waypoint != nil:
		hop.TLS = TLSIstioMTLS
		hop.Note = "HBONE to the waypoint " + gatewayAddressString(p.waypoint)
	case p.dstEnrolled():
		hop.TLS = TLSIstioMTLS
		hop.Note = fmt.Sprintf("HBONE to %s:15008", p.svc.Pod.IP)
	default:
		hop.Note = "the destination is not in the mesh: plain TCP passthrough"
	}
	if p.u.TLS == TLSSimple && hop.TLS == TLSNone {
		hop.TLS = TLSSimple
	}
	hop.Note = joinNotes(hop.Note, p.waypointNote)
	return hop
}

// waypointFor returns the waypoint Istio binds to the destination: the
// Service's when the request is addressed to the Service VIP, the
// workload's when it is addressed to the pod. The note explains a waypoint
// the labels name that Istio does not use.
func (av *ambientView) waypointFor(u Upstream, svc *svcInfo, dst *workloadapi.Workload) (*workloadapi.GatewayAddress, string) {
	as := av.services[svc.Service]
	note := ""
	if as.waypointErr != nil {
		note = fmt.Sprintf("Istio binds no waypoint to Service %s: %s: %s", svc.Service, as.waypointErr.Reason, as.waypointErr.Message)
	}
	if u.Address == "" {
		return dst.GetWaypoint(), note
	}
	return as.waypoint, note
}

// waypointHop is the waypoint on the path. Istio's waypoints are Envoy
// proxies Istio configures; their L7 processing is not simulated here.
// The identity they present to the destination is the waypoint
// deployment's service account (Istio's waypoint template names it after
// the Gateway): that is this package's model.
func (av *ambientView) waypointHop(p ambientPath) (Hop, string, string) {
	gw, known := av.waypoints[waypointKey(p.waypoint)]
	name := gatewayAddressString(p.waypoint)
	if known {
		name = gw.Namespace + "/" + gw.Name
	}
	hop := Hop{Proxy: "waypoint " + name, TLS: TLSIstioMTLS, Host: p.u.Host, Path: p.u.Path}
	if known && gw.envoyGateway {
		hop.TLS = TLSNone
		return hop, "", fmt.Sprintf("waypoint %s is a Gateway of Envoy Gateway's class %s: ztunnel sends it HBONE "+
			"(mTLS and HTTP CONNECT) on port 15008, which an Envoy Gateway listener does not terminate "+
			"(no EG support for ambient waypoints, envoyproxy/gateway#7500)", name, gw.Class)
	}
	hop.Note = "the waypoint's L7 routing and policies are not simulated"
	if !known {
		return hop, "", fmt.Sprintf("waypoint %s: no Gateway of the stream has that address", name)
	}
	return hop, fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", av.trustDomain, gw.Namespace, gw.Name), ""
}

// waypointKey is the status address a waypoint address refers to.
func waypointKey(a *workloadapi.GatewayAddress) string {
	if h := a.GetHostname(); h != nil {
		return h.GetHostname()
	}
	if ip, ok := netip.AddrFromSlice(a.GetAddress().GetAddress()); ok {
		return ip.String()
	}
	return ""
}

// gatewayAddressString formats a waypoint address.
func gatewayAddressString(a *workloadapi.GatewayAddress) string {
	return fmt.Sprintf("%s:%d", waypointKey(a), a.GetHboneMtlsPort())
}

// destinationHop is the destination node's ztunnel, which authorizes the
// connection.
func (av *ambientView) destinationHop(p ambientPath, gw *podInfo, identity string) (Hop, string) {
	pod := p.svc.Pod
	hop := Hop{Proxy: fmt.Sprintf("ztunnel (node of %s)", pod.key()), TLS: TLSNone, Host: p.u.Host, Path: p.u.Path}
	if p.u.TLS == TLSSimple {
		hop.TLS = TLSSimple
	}
	if identity == "" {
		hop.Note = "plain text from a source outside the mesh"
	}
	conn := ztunnelConn{srcIP: gw.IP, dstIP: pod.IP, dstPort: p.targetPort(), identity: identity}
	allowed, denied := av.authorize(p.dst, conn)
	if denied != "" {
		hop.Note = joinNotes(hop.Note, av.peerAuthnNote(pod))
		return hop, fmt.Sprintf("ztunnel of %s refused the connection from %s: %s", pod.key(), sourceName(identity), denied)
	}
	hop.Policy = joinPolicies(allowed, av.peerAuthnNote(pod))
	hop.Note = joinNotes(hop.Note, p.waypointNote)
	return hop, ""
}

// peerAuthnNote names the PeerAuthentications that apply to a pod.
func (av *ambientView) peerAuthnNote(p *podInfo) string {
	return av.peerAuthn[p.key()]
}

// joinNotes joins non-empty notes.
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// joinPolicies joins what admitted a request.
func joinPolicies(parts ...string) string { return joinNotes(parts...) }
