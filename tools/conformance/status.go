package conformance

import (
	"fmt"
	"slices"
	"strings"
)

// translatedKinds are the kinds whose input objects must all come back from
// egctl with a good status; the map gives the key of egctl's output that
// lists them.
var translatedKinds = map[string]string{
	"GatewayClass":         "gatewayClass",
	"Gateway":              "gateways",
	"HTTPRoute":            "httpRoutes",
	"GRPCRoute":            "grpcRoutes",
	"TLSRoute":             "tlsRoutes",
	"TCPRoute":             "tcpRoutes",
	"UDPRoute":             "udpRoutes",
	"BackendTrafficPolicy": "backendTrafficPolicies",
	"SecurityPolicy":       "securityPolicies",
	"ClientTrafficPolicy":  "clientTrafficPolicies",
	"BackendTLSPolicy":     "backendTLSPolicies",
	"EnvoyExtensionPolicy": "envoyExtensionPolicies",
	"EnvoyPatchPolicy":     "envoyPatchPolicies",
	"EnvoyProxy":           "envoyProxyForGatewayClass", // only the GatewayClass's
}

// loadedKinds are the kinds, beyond translatedKinds, that egctl loads and
// that carry no status of their own to check.
var loadedKinds = map[string]bool{"ReferenceGrant": true, "HTTPRouteFilter": true, "Backend": true}

// uncheckedKinds reports the objects of kinds the harness cannot check:
// egctl's loader silently skips kinds it does not know.
func uncheckedKinds(gw []Object) []Failure {
	var failures []Failure
	for _, o := range gw {
		if _, ok := translatedKinds[o.Kind()]; !ok && !loadedKinds[o.Kind()] {
			failures = append(failures, Failure{Tool: "harness", Object: o.Ref().String(), Condition: "unchecked kind",
				Message: "egctl x translate does not load or report this kind, so nothing checks it: teach the harness about it"})
		}
	}
	return failures
}

// translatedObjects indexes egctl's output objects by kind, namespace and
// name.
func translatedObjects(out map[string]any) map[Ref]Object {
	index := map[Ref]Object{}
	for kind, key := range translatedKinds {
		var list []any
		switch v := out[key].(type) {
		case []any:
			list = v
		case map[string]any:
			list = []any{v}
		}
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			o := Object(m)
			index[Ref{Kind: kind, Namespace: o.Namespace(), Name: o.Name()}] = o
		}
	}
	return index
}

// checkTranslated compares the input objects with egctl's output: every one
// must be there, with good conditions.
func checkTranslated(gw []Object, out map[string]any) []Failure {
	index := translatedObjects(out)
	var failures []Failure
	for _, in := range gw {
		if _, checked := translatedKinds[in.Kind()]; !checked {
			continue
		}
		ref := in.Ref()
		if ref.Namespace == "" && in.Kind() != "GatewayClass" {
			ref.Namespace = "default"
		}
		got, ok := index[ref]
		if !ok {
			failures = append(failures, Failure{Tool: "egctl", Object: ref.String(), Condition: "missing",
				Message: "the object is not in egctl's output: the translator dropped it (does its parentRef or targetRef name a Gateway or GatewayClass it processed?)"})
			continue
		}
		failures = append(failures, checkStatus(in, got)...)
	}
	return failures
}

// checkStatus checks the status egctl computed for one object.
func checkStatus(in, got Object) []Failure {
	name := in.Ref().String()
	switch kind := in.Kind(); {
	case kind == "GatewayClass":
		return conditionFailures(name, "", maps(got, "status", "conditions"), required("Accepted", "True"))
	case kind == "Gateway":
		return gatewayFailures(name, in, got)
	case strings.HasSuffix(kind, "Route"):
		return routeFailures(name, in, got)
	default:
		return policyFailures(name, got)
	}
}

// gatewayFailures checks a Gateway's conditions and each listener's. egctl
// leaves the Gateway's own Accepted and Programmed to the controller's
// provider layer, so they are checked only when present.
func gatewayFailures(name string, in, got Object) []Failure {
	want := map[string]condWant{
		"Accepted":   {status: "True", optional: true},
		"Programmed": {status: "True", optional: true},
	}
	failures := conditionFailures(name, "", maps(got, "status", "conditions"), want)
	statuses := map[string]map[string]any{}
	for _, ls := range maps(got, "status", "listeners") {
		statuses[str(ls, "name")] = ls
	}
	for _, l := range maps(in.Spec(), "listeners") {
		where := "listener " + str(l, "name")
		ls, ok := statuses[str(l, "name")]
		if !ok {
			failures = append(failures, Failure{Tool: "egctl", Object: name, Condition: where + ": no status", Message: "egctl reported no status for the listener"})
			continue
		}
		want := required("Accepted", "True", "Programmed", "True", "ResolvedRefs", "True")
		want["Conflicted"] = condWant{status: "False", optional: true}
		failures = append(failures, conditionFailures(name, where, maps(ls, "conditions"), want)...)
	}
	return failures
}

// routeFailures checks that every parentRef of a route has a parent status
// with Accepted=True and ResolvedRefs=True.
func routeFailures(name string, in, got Object) []Failure {
	var failures []Failure
	parents := maps(got, "status", "parents")
	for _, pr := range maps(in.Spec(), "parentRefs") {
		where := "parent " + parentName(pr, in.Namespace())
		status := findParentStatus(parents, pr, in.Namespace())
		if status == nil {
			failures = append(failures, Failure{Tool: "egctl", Object: name, Condition: where + ": no status",
				Message: "egctl reported no status for this parentRef: the parent is not a Gateway it processed"})
			continue
		}
		failures = append(failures, conditionFailures(name, where, maps(status, "conditions"), required("Accepted", "True", "ResolvedRefs", "True"))...)
	}
	return failures
}

// parentName formats a parentRef as namespace/name[#section][:port].
func parentName(pr map[string]any, namespace string) string {
	s := orDefault(str(pr, "namespace"), namespace) + "/" + str(pr, "name")
	if sec := str(pr, "sectionName"); sec != "" {
		s += "#" + sec
	}
	if port, ok := intAt(pr, "port"); ok {
		s += fmt.Sprintf(":%d", port)
	}
	return s
}

// findParentStatus returns the status.parents entry for parentRef pr.
func findParentStatus(parents []map[string]any, pr map[string]any, namespace string) map[string]any {
	for _, p := range parents {
		if parentName(mapAt(p, "parentRef"), namespace) == parentName(pr, namespace) {
			return p
		}
	}
	return nil
}

// policyFailures checks that a policy has at least one ancestor and is
// Accepted (and, where reported, has ResolvedRefs) for each.
func policyFailures(name string, got Object) []Failure {
	ancestors := maps(got, "status", "ancestors")
	if len(ancestors) == 0 {
		return []Failure{{Tool: "egctl", Object: name, Condition: "no ancestors",
			Message: "egctl reported no ancestor status: the policy attached to nothing"}}
	}
	var failures []Failure
	for _, a := range ancestors {
		where := "ancestor " + parentName(mapAt(a, "ancestorRef"), "")
		want := required("Accepted", "True")
		want["ResolvedRefs"] = condWant{status: "True", optional: true}
		failures = append(failures, conditionFailures(name, where, maps(a, "conditions"), want)...)
	}
	return failures
}

// condWant is the expected status of one condition type.
type condWant struct {
	status   string
	optional bool // only checked when the condition is present
}

// required builds expectations from type/status pairs.
func required(pairs ...string) map[string]condWant {
	want := map[string]condWant{}
	for i := 0; i+1 < len(pairs); i += 2 {
		want[pairs[i]] = condWant{status: pairs[i+1]}
	}
	return want
}

// conditionFailures compares conditions with what is wanted, in a stable
// order (the order of the conditions, then the missing ones).
func conditionFailures(object, where string, conds []map[string]any, want map[string]condWant) []Failure {
	prefix := ""
	if where != "" {
		prefix = where + ": "
	}
	var failures []Failure
	seen := map[string]bool{}
	for _, c := range conds {
		typ := str(c, "type")
		w, ok := want[typ]
		if !ok {
			continue
		}
		seen[typ] = true
		if got := str(c, "status"); got != w.status {
			failures = append(failures, Failure{Tool: "egctl", Object: object,
				Condition: fmt.Sprintf("%s%s=%s (%s)", prefix, typ, got, str(c, "reason")),
				Message:   str(c, "message")})
		}
	}
	for _, typ := range sortedKeys(want) {
		if !seen[typ] && !want[typ].optional {
			failures = append(failures, Failure{Tool: "egctl", Object: object,
				Condition: prefix + typ + " missing", Message: "egctl reported no " + typ + " condition"})
		}
	}
	return failures
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkXDS checks that egctl produced Envoy configuration (xDS) for every
// Gateway of the GatewayClass: it is keyed by the Gateway's namespace/name.
func checkXDS(gw []Object, out map[string]any) []Failure {
	xds := mapAt(out, "xds")
	class := ""
	for _, o := range gw {
		if o.Is(gatewayAPIGroup, "GatewayClass") {
			class = o.Name()
		}
	}
	var failures []Failure
	for _, o := range gw {
		if !o.Is(gatewayAPIGroup, "Gateway") || str(o.Spec(), "gatewayClassName") != class {
			continue
		}
		if _, ok := xds[o.Namespace()+"/"+o.Name()]; !ok {
			failures = append(failures, Failure{Tool: "egctl", Object: o.Ref().String(), Condition: "no xDS",
				Message: "egctl translated no Envoy configuration for the Gateway"})
		}
	}
	return failures
}
