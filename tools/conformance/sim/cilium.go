package sim

import (
	"fmt"
	"strconv"
	"strings"

	"egmc.dev/egmc/tools/conformance"
)

// Cilium is the L4 path of a Cilium cluster: the gateway's connection
// reaches the backend pod unless a CiliumNetworkPolicy selecting that pod
// leaves it out. This is egmc's own model of Cilium's ingress policy
// semantics (no Cilium code runs here): a pod that any policy with ingress
// rules selects accepts only what one of those rules allows; a rule's
// fromEndpoints labels without a namespace label match pods of the
// policy's namespace only; toPorts match the pod's (target) port.
type Cilium struct {
	policies []ciliumRule
	services map[Service]*svcInfo
	gw       GatewayProxy
}

// ciliumRule is one spec of a CiliumNetworkPolicy.
type ciliumRule struct {
	policy    string // namespace/name
	namespace string
	selector  map[string]any
	ingress   []any
}

// NewCilium reads the stream's CiliumNetworkPolicies and the Services of
// the stream and fixtures.
func NewCilium(objs, fixtures []conformance.Object, gw GatewayProxy) (*Cilium, error) {
	c := &Cilium{services: map[Service]*svcInfo{}, gw: gw}
	for _, o := range append(append([]conformance.Object{}, objs...), fixtures...) {
		switch {
		case o.APIVersion() == "v1" && o.Kind() == "Service":
			svc, err := serviceInfo(o)
			if err != nil {
				return nil, err
			}
			if _, seen := c.services[svc.Service]; !seen {
				c.services[svc.Service] = svc
			}
		case o.Is("cilium.io", "CiliumNetworkPolicy"):
			c.policies = append(c.policies, ciliumRules(o)...)
		}
	}
	return c, nil
}

// ciliumRules returns the spec and specs of a policy.
func ciliumRules(o conformance.Object) []ciliumRule {
	var specs []any
	if s, ok := o["spec"]; ok {
		specs = append(specs, s)
	}
	if ss, ok := o["specs"].([]any); ok {
		specs = append(specs, ss...)
	}
	var out []ciliumRule
	for _, s := range specs {
		m, _ := s.(map[string]any)
		sel, _ := m["endpointSelector"].(map[string]any)
		ingress, _ := m["ingress"].([]any)
		out = append(out, ciliumRule{policy: o.Namespace() + "/" + o.Name(), namespace: o.Namespace(), selector: sel, ingress: ingress})
	}
	return out
}

// Carry delivers the request to the backend pod when the policies allow
// the gateway's pod to reach its target port.
func (c *Cilium) Carry(u Upstream) ([]Hop, Delivery, string) {
	if refused := sdsServed(u, nil); refused != "" {
		return nil, Delivery{}, refused
	}
	d := Delivery{Service: u.Service, Port: u.Port, Path: u.Path}
	svc, ok := c.services[u.Service]
	if !ok {
		return nil, d, fmt.Sprintf("Service %s does not exist", u.Service)
	}
	target := u.Port
	if p, ok := svc.port(u.Port); ok {
		target = p.TargetPort
	}
	hop := Hop{Proxy: fmt.Sprintf("cilium datapath (to %s)", u.Service), TLS: u.TLS, Host: u.Host, Path: u.Path}
	if hop.TLS == "" {
		hop.TLS = TLSNone
	}
	selected, admitted := c.admit(u.Service.Namespace, svc.Selector, target)
	switch {
	case len(selected) == 0:
		hop.Note = "no CiliumNetworkPolicy selects the backend's pods: every source is allowed"
	case admitted == "":
		hop.Note = "selected by " + strings.Join(selected, ", ")
		return []Hop{hop}, Delivery{}, fmt.Sprintf("dropped by Cilium: %s select the backend's pods and no rule admits the gateway's proxies (%s/%s) on port %d", strings.Join(selected, ", "), c.gw.Namespace, c.gw.Name, target)
	default:
		hop.Policy = "CiliumNetworkPolicy " + admitted
	}
	return []Hop{hop}, d, ""
}

// admit returns the policies whose ingress rules select the backend pods
// and the one that admits the gateway's pod on port, if any.
func (c *Cilium) admit(namespace string, podLabels map[string]string, port int) (selected []string, admitted string) {
	for _, r := range c.policies {
		if r.namespace != namespace || r.ingress == nil || !ciliumSelects(r.selector, podLabels, namespace, namespace) {
			continue
		}
		selected = append(selected, "CiliumNetworkPolicy "+r.policy)
		for _, in := range r.ingress {
			m, _ := in.(map[string]any)
			if admitted == "" && c.fromMatches(m, r.namespace) && toPortsMatch(m["toPorts"], port) {
				admitted = r.policy
			}
		}
	}
	return selected, admitted
}

// fromMatches tells whether an ingress rule's sources include the
// gateway's pod.
func (c *Cilium) fromMatches(rule map[string]any, policyNS string) bool {
	if ents, ok := rule["fromEntities"].([]any); ok {
		for _, e := range ents {
			if e == "all" || e == "cluster" {
				return true
			}
		}
	}
	eps, ok := rule["fromEndpoints"].([]any)
	if !ok {
		_, hasEntities := rule["fromEntities"]
		return !hasEntities // no from: any source
	}
	for _, e := range eps {
		sel, _ := e.(map[string]any)
		if ciliumSelects(sel, c.gw.Labels, c.gw.Namespace, policyNS) {
			return true
		}
	}
	return false
}

// ciliumSelects evaluates an endpoint selector (matchLabels, "k8s:"
// prefixes allowed) against a pod. Without a namespace label the selector
// matches pods of defaultNS only.
func ciliumSelects(sel map[string]any, labels map[string]string, podNS, defaultNS string) bool {
	match, _ := sel["matchLabels"].(map[string]any)
	nsSet := false
	for k, v := range match {
		key := strings.TrimPrefix(k, "k8s:")
		want := fmt.Sprint(v)
		if key == "io.kubernetes.pod.namespace" {
			nsSet = true
			if podNS != want {
				return false
			}
			continue
		}
		if labels[key] != want {
			return false
		}
	}
	if _, hasExpr := sel["matchExpressions"]; hasExpr {
		return false // not modelled: treat as not matching rather than guess
	}
	return nsSet || podNS == defaultNS
}

// toPortsMatch tells whether toPorts (absent: all ports) admit port/TCP.
func toPortsMatch(v any, port int) bool {
	tps, ok := v.([]any)
	if !ok {
		return true
	}
	for _, tp := range tps {
		m, _ := tp.(map[string]any)
		ports, _ := m["ports"].([]any)
		for _, p := range ports {
			pm, _ := p.(map[string]any)
			n, _ := strconv.Atoi(fmt.Sprint(pm["port"]))
			proto := fmt.Sprint(pm["protocol"])
			if n == port && (proto == "TCP" || proto == "ANY" || pm["protocol"] == nil) {
				return true
			}
		}
	}
	return false
}
