package sim

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"egmc.dev/egmc/tools/conformance"
)

// configYAML renders the stream's *.istio.io objects for the fake istiod's
// config store (Istio's ConfigString parser skips other kinds).
func (c *istioCluster) configYAML() (string, error) {
	var out []conformance.Object
	for _, o := range c.objs {
		if strings.HasSuffix(o.Group(), istioGroupSuffix) {
			out = append(out, o)
		}
	}
	return marshalObjects(out)
}

// kubeYAML renders what the fake istiod's Kubernetes client holds:
// namespaces, Services, pods and EndpointSlices (core kinds only). With
// ambient it also holds what Istio's ambient index reads from Kubernetes:
// Gateway API Gateways and GatewayClasses (waypoints), and the Istio
// security and networking objects.
func (c *istioCluster) kubeYAML(ambient bool) (string, error) {
	out := append(c.workloadObjects(), podObject(c.gateway, nil))
	if ambient {
		out = append(out, c.ambientKubeObjects()...)
	}
	return marshalObjects(out)
}

// workloadObjects returns the namespaces, and each Service with its pod
// and EndpointSlice.
func (c *istioCluster) workloadObjects() []conformance.Object {
	var out []conformance.Object
	for _, ns := range slices.Sorted(maps.Keys(c.namespaces)) {
		out = append(out, namespaceObject(ns, c.namespaces[ns]))
	}
	for _, svc := range c.services {
		out = append(out, serviceObject(svc))
		if svc.Pod != nil {
			out = append(out, podObject(svc.Pod, svc.Ports), endpointSliceObject(svc))
		}
	}
	return out
}

// ambientKubeObjects returns the stream's objects Istio's ambient index
// reads from Kubernetes. A stream holds no status, and Istio treats a
// Gateway as a waypoint only once it has a status address: Gateways of
// Envoy Gateway's classes get the address EG publishes once their proxy
// Service is up (an IP), Gateways of class istio-waypoint the host name
// Istio's gateway controller publishes.
func (c *istioCluster) ambientKubeObjects() []conformance.Object {
	egClasses := map[string]bool{}
	for _, o := range c.objs {
		if o.Is(gatewayAPIGroup, "GatewayClass") && o.Spec()["controllerName"] == egControllerName {
			egClasses[o.Name()] = true
		}
	}
	var out []conformance.Object
	n := 0
	for _, o := range c.objs {
		switch {
		case o.Is(gatewayAPIGroup, "GatewayClass"):
			out = append(out, o)
		case o.Is(gatewayAPIGroup, "Gateway"):
			g := maps.Clone(o)
			cls, _ := o.Spec()["gatewayClassName"].(string)
			switch {
			case g["status"] != nil:
			case egClasses[cls]:
				n++
				g["status"] = statusAddress("IPAddress", egGatewayStatusBase+strconv.Itoa(9+n))
			case cls == istioWaypointClass:
				g["status"] = statusAddress("Hostname", o.Name()+"."+o.Namespace()+".svc.cluster.local")
			}
			out = append(out, g)
		case o.Is("security.istio.io", "AuthorizationPolicy"), o.Is("security.istio.io", "PeerAuthentication"),
			o.Is("networking.istio.io", "ServiceEntry"), o.Is("networking.istio.io", "WorkloadEntry"):
			out = append(out, o)
		}
	}
	return out
}

// statusAddress renders a Gateway status with one address.
func statusAddress(typ, value string) map[string]any {
	return map[string]any{"addresses": []any{map[string]any{"type": typ, "value": value}}}
}

// marshalObjects renders objects as a YAML stream.
func marshalObjects(objs []conformance.Object) (string, error) {
	data, err := conformance.MarshalStream(objs)
	return string(data), err
}

// namespaceObject renders a Namespace.
func namespaceObject(name string, labels map[string]string) conformance.Object {
	return conformance.Object{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata":   map[string]any{"name": name, "labels": anyMap(labels)},
	}
}

// serviceObject renders a ClusterIP Service.
func serviceObject(svc *svcInfo) conformance.Object {
	ports := make([]any, 0, len(svc.Ports))
	for _, p := range svc.Ports {
		ports = append(ports, map[string]any{"name": p.Name, "port": p.Port, "targetPort": p.TargetPort, "protocol": "TCP"})
	}
	spec := map[string]any{"type": "ClusterIP", "ports": ports, "selector": anyMap(svc.Selector)}
	if svc.ClusterIP != "" {
		spec["clusterIP"] = svc.ClusterIP
	}
	return conformance.Object{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": svc.Service.Name, "namespace": svc.Service.Namespace},
		"spec":       spec,
	}
}

// podObject renders a running, ready pod listening on the target ports.
func podObject(p *podInfo, ports []svcPort) conformance.Object {
	var containerPorts []any
	for _, sp := range ports {
		containerPorts = append(containerPorts, map[string]any{"containerPort": sp.TargetPort, "protocol": "TCP"})
	}
	container := map[string]any{"name": "app", "image": "app"}
	if len(containerPorts) > 0 {
		container["ports"] = containerPorts
	}
	return conformance.Object{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata": map[string]any{
			"name": p.Name, "namespace": p.Namespace,
			"labels": anyMap(p.Labels), "annotations": anyMap(p.Annotations),
		},
		"spec": map[string]any{
			"serviceAccountName": p.ServiceAccount,
			"nodeName":           "node-" + p.Name,
			"containers":         []any{container},
		},
		"status": map[string]any{
			"phase":      "Running",
			"podIP":      p.IP,
			"podIPs":     []any{map[string]any{"ip": p.IP}},
			"conditions": []any{map[string]any{"type": "Ready", "status": "True"}},
		},
	}
}

// endpointSliceObject renders the EndpointSlice of svc pointing at its pod.
func endpointSliceObject(svc *svcInfo) conformance.Object {
	ports := make([]any, 0, len(svc.Ports))
	for _, p := range svc.Ports {
		ports = append(ports, map[string]any{"name": p.Name, "port": p.TargetPort, "protocol": "TCP"})
	}
	return conformance.Object{
		"apiVersion":  "discovery.k8s.io/v1",
		"kind":        "EndpointSlice",
		"addressType": "IPv4",
		"metadata": map[string]any{
			"name": svc.Service.Name + "-fixture", "namespace": svc.Service.Namespace,
			"labels": map[string]any{"kubernetes.io/service-name": svc.Service.Name},
		},
		"endpoints": []any{map[string]any{
			"addresses":  []any{svc.Pod.IP},
			"conditions": map[string]any{"ready": true},
			"targetRef":  map[string]any{"kind": "Pod", "name": svc.Pod.Name, "namespace": svc.Pod.Namespace},
		}},
		"ports": ports,
	}
}

// anyMap converts labels for YAML rendering.
func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
