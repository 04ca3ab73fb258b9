package sim

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"egmc.dev/egmc/tools/conformance"
)

// Labels and annotations Istio reads on namespaces and pods.
const (
	labelInjection      = "istio-injection"
	labelRev            = "istio.io/rev"
	labelInject         = "sidecar.istio.io/inject"
	annotationTemplates = "inject.istio.io/templates"
	labelTLSMode        = "security.istio.io/tlsMode"
	labelCanonicalName  = "service.istio.io/canonical-name"
	labelDataplaneMode  = "istio.io/dataplane-mode"
	annotationSidecar   = "sidecar.istio.io/status"
	annotationRedirect  = "ambient.istio.io/redirection"
	istioGroupSuffix    = ".istio.io"
	gatewayAPIGroup     = "gateway.networking.k8s.io"
	egControllerName    = "gateway.envoyproxy.io/gatewayclass-controller"
	istioWaypointClass  = "istio-waypoint"
	fixturePodIPPrefix  = "10.244."
	gatewayPodIP        = "10.244.250.10"
	egGatewayStatusBase = "10.96.250."
)

// podInfo is one pod of the simulated cluster.
type podInfo struct {
	Namespace, Name, IP, ServiceAccount string
	Labels, Annotations                 map[string]string
	// Sidecar tells whether Istio's injector gives the pod a sidecar.
	Sidecar bool
	// Ambient tells whether istio-cni enrolls the pod in ambient
	// (ztunnel captures its traffic).
	Ambient bool
	// GatewayTemplate tells whether Istio's injector gives the pod its
	// gateway template instead (inject.istio.io/templates: gateway): an
	// Istio agent with the pod's workload certificate, serving it over
	// SDS, and no traffic capture.
	GatewayTemplate bool
	// WorkloadSocketMounted: the pod's application container mounts the
	// agent's SDS socket directory (GatewayProxy.WorkloadSocketMounted).
	WorkloadSocketMounted bool
}

// key returns namespace/name.
func (p *podInfo) key() string { return p.Namespace + "/" + p.Name }

// identity returns the pod's SPIFFE identity in trustDomain.
func (p *podInfo) identity(trustDomain string) string {
	return fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", trustDomain, p.Namespace, p.ServiceAccount)
}

// svcPort is one port of a Service.
type svcPort struct {
	Name             string
	Port, TargetPort int
}

// svcInfo is one Service of the simulated cluster.
type svcInfo struct {
	Service   Service
	ClusterIP string
	Ports     []svcPort
	Selector  map[string]string
	// Pod is the fixture pod behind the Service (nil when the Service
	// selects nothing).
	Pod *podInfo
}

// hostname returns the Service's cluster-local host name.
func (s *svcInfo) hostname() string {
	return s.Service.Name + "." + s.Service.Namespace + ".svc.cluster.local"
}

// port returns the Service port numbered n.
func (s *svcInfo) port(n int) (svcPort, bool) {
	for _, p := range s.Ports {
		if p.Port == n {
			return p, true
		}
	}
	return svcPort{}, false
}

// istioCluster is the cluster the simulation runs on: the stream's objects
// plus the pods and endpoints a running cluster would hold.
type istioCluster struct {
	objs       []conformance.Object
	meshConfig []byte
	namespaces map[string]map[string]string
	services   []*svcInfo
	gateway    *podInfo
	// istioObjects tells whether the stream holds any *.istio.io object.
	istioObjects bool
}

// newIstioCluster builds the cluster from the stream and the fixtures.
func newIstioCluster(objs, fixtures []conformance.Object, meshConfig []byte, gw GatewayProxy) (*istioCluster, error) {
	c := &istioCluster{objs: objs, meshConfig: meshConfig, namespaces: map[string]map[string]string{}}
	for _, o := range objs {
		if o.APIVersion() == "v1" && o.Kind() == "Namespace" {
			c.namespaces[o.Name()] = o.Labels()
		}
		if strings.HasSuffix(o.Group(), istioGroupSuffix) {
			c.istioObjects = true
		}
	}
	if err := c.addServices(append(slices.Clone(objs), fixtures...)); err != nil {
		return nil, err
	}
	c.addGateway(gw)
	for _, ns := range []string{"istio-system", gw.Namespace} {
		c.ensureNamespace(ns)
	}
	return c, nil
}

// ensureNamespace records an unlabelled namespace unless the stream has it.
func (c *istioCluster) ensureNamespace(ns string) {
	if _, ok := c.namespaces[ns]; !ok && ns != "" {
		c.namespaces[ns] = map[string]string{}
	}
}

// addServices records every v1 Service (the stream's first, then the
// fixtures') with a fixture pod behind each.
func (c *istioCluster) addServices(objs []conformance.Object) error {
	seen := map[Service]bool{}
	for _, o := range objs {
		if o.APIVersion() != "v1" || o.Kind() != "Service" {
			continue
		}
		svc, err := serviceInfo(o)
		if err != nil {
			return err
		}
		if seen[svc.Service] {
			continue
		}
		seen[svc.Service] = true
		c.ensureNamespace(svc.Service.Namespace)
		c.services = append(c.services, svc)
	}
	sort.Slice(c.services, func(i, j int) bool {
		return c.services[i].Service.String() < c.services[j].Service.String()
	})
	for i, svc := range c.services {
		if len(svc.Selector) > 0 {
			svc.Pod = c.backendPod(svc, fmt.Sprintf("%s%d.%d", fixturePodIPPrefix, i/250, 10+i%250))
		}
	}
	return nil
}

// serviceInfo reads a v1 Service object.
func serviceInfo(o conformance.Object) (*svcInfo, error) {
	ns := o.Namespace()
	if ns == "" {
		ns = "default"
	}
	spec := o.Spec()
	svc := &svcInfo{Service: Service{Namespace: ns, Name: o.Name()}, Selector: map[string]string{}}
	svc.ClusterIP, _ = spec["clusterIP"].(string)
	if sel, ok := spec["selector"].(map[string]any); ok {
		for k, v := range sel {
			svc.Selector[k] = fmt.Sprint(v)
		}
	}
	ports, _ := spec["ports"].([]any)
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		port, ok := asInt(pm["port"])
		if !ok {
			return nil, fmt.Errorf("istio: Service %s: a port without a number", svc.Service)
		}
		target, ok := asInt(pm["targetPort"])
		if !ok {
			target = port
		}
		name, _ := pm["name"].(string)
		svc.Ports = append(svc.Ports, svcPort{Name: name, Port: port, TargetPort: target})
	}
	return svc, nil
}

// asInt reads a YAML number (or a numeric string).
func asInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

// backendPod builds the pod `<service>-0` behind svc, labelled the way
// Istio's injector labels injected pods.
func (c *istioCluster) backendPod(svc *svcInfo, ip string) *podInfo {
	labels := maps.Clone(svc.Selector)
	if _, ok := labels["app"]; !ok {
		labels["app"] = svc.Service.Name
	}
	p := &podInfo{
		Namespace:      svc.Service.Namespace,
		Name:           svc.Service.Name + "-0",
		IP:             ip,
		ServiceAccount: svc.Service.Name,
		Labels:         labels,
		Annotations:    map[string]string{},
	}
	c.enroll(p)
	if p.Sidecar {
		p.Labels[labelCanonicalName] = svc.Service.Name
	}
	return p
}

// addGateway records the gateway's proxy pod.
func (c *istioCluster) addGateway(gw GatewayProxy) {
	sa := gw.ServiceAccount
	if sa == "" {
		sa = "default"
	}
	p := &podInfo{
		Namespace:      gw.Namespace,
		Name:           gw.Name,
		IP:             gatewayPodIP,
		ServiceAccount: sa,
		Labels:         maps.Clone(gw.Labels),
		Annotations:    maps.Clone(gw.Annotations),

		WorkloadSocketMounted: gw.WorkloadSocketMounted,
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	c.ensureNamespace(gw.Namespace)
	c.enroll(p)
	c.gateway = p
}

// enroll decides whether p gets a sidecar or is captured by ztunnel, and
// labels and annotates it the way Istio's injector and istio-cni would.
func (c *istioCluster) enroll(p *podInfo) {
	nsLabels := c.namespaces[p.Namespace]
	p.Sidecar = sidecarInjected(nsLabels, p.Labels)
	if p.Sidecar && p.Annotations[annotationTemplates] == "gateway" {
		// Istio's gateway template: the agent runs Envoy as a router
		// and sets up no iptables capture.
		p.Sidecar, p.GatewayTemplate = false, true
	}
	if p.Sidecar {
		p.Labels[labelTLSMode] = "istio"
		p.Annotations[annotationSidecar] = `{"containers":["istio-proxy"]}`
	}
	p.Ambient = ambientEnrolled(p, nsLabels)
	if p.Ambient {
		p.Annotations[annotationRedirect] = "enabled"
	}
}

// sidecarInjected models the namespace and object selectors of Istio's
// sidecar injection webhooks (manifests/charts/istio-control/
// istio-discovery/templates/mutatingwebhook.yaml; they are Helm templates,
// not Go code Istio exports): a pod gets a sidecar when its namespace is
// labelled istio-injection=enabled, or carries an istio.io/rev revision
// label (istio-injection absent), or the pod itself asks for it with
// sidecar.istio.io/inject=true or istio.io/rev; the pod label
// sidecar.istio.io/inject=false opts out. Revisions are assumed installed.
func sidecarInjected(nsLabels, podLabels map[string]string) bool {
	if podLabels[labelInject] == "false" {
		return false
	}
	nsInjection, hasInjection := nsLabels[labelInjection]
	switch {
	case nsInjection == "disabled":
		return false
	case nsInjection == "enabled":
		return true
	case !hasInjection && nsLabels[labelRev] != "":
		return true
	}
	return podLabels[labelInject] == "true" || podLabels[labelRev] != ""
}

// servedSDSSockets lists the unix sockets where an Istio agent in the
// gateway's pod serves SDS to EG's Envoy: the agent's workload socket,
// when the pod has an agent and Envoy mounts its directory.
func (c *istioCluster) servedSDSSockets() []string {
	gw := c.gateway
	if (gw.Sidecar || gw.GatewayTemplate) && gw.WorkloadSocketMounted {
		return []string{workloadSocketDir + "/socket"}
	}
	return nil
}

// usesIstio tells whether anything of Istio is in the stream: Istio
// objects, or namespaces and pods labelled for sidecars or ambient.
func (c *istioCluster) usesIstio() bool {
	if c.istioObjects || c.gateway.Sidecar || c.gateway.Ambient {
		return true
	}
	for _, svc := range c.services {
		if svc.Pod != nil && (svc.Pod.Sidecar || svc.Pod.Ambient) {
			return true
		}
	}
	return false
}

// anySidecar tells whether any backend pod has a sidecar.
func (c *istioCluster) anySidecar() bool {
	for _, svc := range c.services {
		if svc.Pod != nil && svc.Pod.Sidecar {
			return true
		}
	}
	return false
}

// anyAmbient tells whether any pod is enrolled in ambient.
func (c *istioCluster) anyAmbient() bool {
	if c.gateway.Ambient {
		return true
	}
	for _, svc := range c.services {
		if svc.Pod != nil && svc.Pod.Ambient {
			return true
		}
	}
	return false
}

// service returns the Service s, or nil.
func (c *istioCluster) service(s Service) *svcInfo {
	for _, svc := range c.services {
		if svc.Service == s {
			return svc
		}
	}
	return nil
}

// serviceByHost returns the Service with the cluster-local host name h.
func (c *istioCluster) serviceByHost(h string) *svcInfo {
	for _, svc := range c.services {
		if svc.hostname() == h {
			return svc
		}
	}
	return nil
}

// pods returns every pod: the backends' and the gateway's.
func (c *istioCluster) pods() []*podInfo {
	var out []*podInfo
	for _, svc := range c.services {
		if svc.Pod != nil {
			out = append(out, svc.Pod)
		}
	}
	return append(out, c.gateway)
}
