package conformance

import (
	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// resolveParametersRefs checks that the GatewayClass's and every Gateway's
// parametersRef name an EnvoyProxy of the stream (the controller rejects
// the class, or ignores the Gateway's settings, otherwise) and returns the
// GatewayClass's EnvoyProxy.
func resolveParametersRefs(gw []Object) (Ref, []Failure) {
	proxies := map[Ref]bool{}
	for _, o := range gw {
		if o.Is(envoyGatewayGroup, "EnvoyProxy") {
			proxies[o.Ref()] = true
		}
	}
	var classProxy Ref
	var failures []Failure
	check := func(owner Object, ref map[string]any, namespace string) Ref {
		target := Ref{Kind: str(ref, "kind"), Namespace: orDefault(str(ref, "namespace"), namespace), Name: str(ref, "name")}
		if str(ref, "group") != envoyGatewayGroup || target.Kind != "EnvoyProxy" {
			return Ref{}
		}
		if !proxies[target] {
			failures = append(failures, Failure{Tool: "harness", Object: owner.Ref().String(),
				Condition: "parametersRef not found",
				Message:   fmt.Sprintf("parametersRef names %s, which is not in the stream", target)})
		}
		return target
	}
	for _, o := range gw {
		switch {
		case o.Is(gatewayAPIGroup, "GatewayClass"):
			if ref := mapAt(o.Spec(), "parametersRef"); ref != nil {
				classProxy = check(o, ref, "")
			}
		case o.Is(gatewayAPIGroup, "Gateway"):
			if ref := mapAt(o.Spec(), "infrastructure", "parametersRef"); ref != nil {
				check(o, ref, o.Namespace())
			}
		}
	}
	return classProxy, failures
}

// checkAllowedRoutes reports every route parentRef whose listeners all
// refuse the route's namespace, when one of them selects namespaces by
// label: egctl cannot see Namespace labels, so the harness decides.
func checkAllowedRoutes(objs []Object) []Failure {
	namespaces := map[string]Object{}
	gateways := map[Ref]Object{}
	for _, o := range objs {
		switch {
		case o.APIVersion() == "v1" && o.Kind() == "Namespace":
			namespaces[o.Name()] = o
		case o.Is(gatewayAPIGroup, "Gateway"):
			gateways[o.Ref()] = o
		}
	}
	var failures []Failure
	for _, route := range objs {
		if route.Group() != gatewayAPIGroup || !strings.HasSuffix(route.Kind(), "Route") {
			continue
		}
		for _, pr := range maps(route.Spec(), "parentRefs") {
			if f, bad := refusedBySelector(route, pr, gateways, namespaces); bad {
				failures = append(failures, f)
			}
		}
	}
	return failures
}

// refusedBySelector evaluates one parentRef of route against the allowed
// namespaces of the listeners it selects.
func refusedBySelector(route Object, pr map[string]any, gateways map[Ref]Object, namespaces map[string]Object) (Failure, bool) {
	if orDefault(str(pr, "group"), gatewayAPIGroup) != gatewayAPIGroup || orDefault(str(pr, "kind"), "Gateway") != "Gateway" {
		return Failure{}, false
	}
	gwRef := Ref{Kind: "Gateway", Namespace: orDefault(str(pr, "namespace"), route.Namespace()), Name: str(pr, "name")}
	gw, ok := gateways[gwRef]
	if !ok {
		return Failure{}, false // egctl reports the missing parent
	}
	nsObj, declared := namespaces[route.Namespace()]
	nsLabels := map[string]string{"kubernetes.io/metadata.name": route.Namespace()}
	for k, v := range nsObj.Labels() {
		nsLabels[k] = v
	}
	var selectorListeners []string
	for _, l := range selectedListeners(gw, pr) {
		allowed, usesSelector, err := listenerAllows(l, gw.Namespace(), route.Namespace(), nsLabels)
		if err != nil {
			return Failure{Tool: "harness", Object: route.Ref().String(), Condition: "allowedRoutes", Message: err.Error()}, true
		}
		if allowed {
			return Failure{}, false
		}
		if usesSelector {
			selectorListeners = append(selectorListeners, str(l, "name"))
		}
	}
	if len(selectorListeners) == 0 {
		return Failure{}, false // no listener, or none by selector: egctl decides
	}
	msg := fmt.Sprintf("namespace %q (labels %v) is not selected by the allowedRoutes selector of %s listener(s) %s",
		route.Namespace(), nsObj.Labels(), gwRef, strings.Join(selectorListeners, ", "))
	if !declared {
		msg += "; the stream does not declare the namespace"
	}
	return Failure{Tool: "harness", Object: route.Ref().String(),
		Condition: fmt.Sprintf("parent %s: Accepted=False (NotAllowedByListeners)", parentName(pr, route.Namespace())),
		Message:   msg}, true
}

// selectedListeners returns the Gateway listeners a parentRef selects by
// sectionName and port.
func selectedListeners(gw Object, pr map[string]any) []map[string]any {
	var out []map[string]any
	section := str(pr, "sectionName")
	port, hasPort := intAt(pr, "port")
	for _, l := range maps(gw.Spec(), "listeners") {
		lport, _ := intAt(l, "port")
		if (section == "" || section == str(l, "name")) && (!hasPort || port == lport) {
			out = append(out, l)
		}
	}
	return out
}

// listenerAllows tells whether listener l of a Gateway in gwNamespace
// allows routes from routeNamespace, and whether it decides by selector.
func listenerAllows(l map[string]any, gwNamespace, routeNamespace string, nsLabels map[string]string) (allowed, bySelector bool, err error) {
	ns := mapAt(l, "allowedRoutes", "namespaces")
	switch str(ns, "from") {
	case "All":
		return true, false, nil
	case "Selector":
		ok, err := selectorMatches(mapAt(ns, "selector"), nsLabels)
		return ok, true, err
	default: // Same
		return gwNamespace == routeNamespace, false, nil
	}
}

// openSelectorListeners returns a copy of the Gateway whose listeners that
// select route namespaces by label allow All namespaces instead (the
// harness checks the selectors, see checkAllowedRoutes).
func openSelectorListeners(gw Object) Object {
	data, _ := yaml.Marshal(map[string]any(gw))
	var m map[string]any
	_ = yaml.Unmarshal(data, &m)
	cp := Object(m)
	for _, l := range maps(cp.Spec(), "listeners") {
		ns := mapAt(l, "allowedRoutes", "namespaces")
		if str(ns, "from") == "Selector" {
			ns["from"] = "All"
			delete(ns, "selector")
		}
	}
	return cp
}

// checkEnvoyProxy checks an EnvoyProxy that is not the GatewayClass's in a
// run of its own, where it takes the GatewayClass's place: egctl validates
// it and reports the result on the GatewayClass and the EnvoyProxy. When
// Gateways name it as their parametersRef with the default mergeType
// (Replace: the Gateway's EnvoyProxy replaces the GatewayClass's), the run
// also translates those Gateways and their routes, so their listeners and
// Envoy configuration are checked with the EnvoyProxy they really get.
func (e Egctl) checkEnvoyProxy(ctx context.Context, objs, fixtures []Object, ep Object) ([]Failure, error) {
	users := gatewaysUsing(objs, ep)
	input := proxyInput(objs, fixtures, ep, users)
	out, failures, err := e.Translate(ctx, input, "gateway-api")
	if err != nil || out == nil {
		return relabel(failures, ep), err
	}
	name := ep.Ref().String()
	failures = conditionFailures(name, "as GatewayClass parameters", maps(out, "gatewayClass", "status", "conditions"), required("Accepted", "True"))
	for _, a := range maps(out, "envoyProxyForGatewayClass", "status", "ancestors") {
		failures = append(failures, conditionFailures(name, "", maps(a, "conditions"), required("Accepted", "True"))...)
	}
	if len(users) == 0 {
		return failures, nil
	}
	index := translatedObjects(out)
	for _, gw := range users {
		got, ok := index[gw.Ref()]
		if !ok {
			continue // the main run reports a missing Gateway
		}
		failures = append(failures, withProxy(gatewayFailures(gw.Ref().String(), gw, got), ep)...)
	}
	out, xdsFailures, err := e.Translate(ctx, input, "xds")
	if err != nil {
		return nil, err
	}
	failures = append(failures, withProxy(relabel(xdsFailures, ep), ep)...)
	if out != nil {
		failures = append(failures, withProxy(checkXDS(append([]Object{gatewayClass(objs)}, users...), out), ep)...)
	}
	return failures, nil
}

// gatewaysUsing returns the Gateways whose infrastructure.parametersRef
// names ep, when ep replaces the GatewayClass's EnvoyProxy (no mergeType, or
// Replace).
func gatewaysUsing(objs []Object, ep Object) []Object {
	if mt := str(ep.Spec(), "mergeType"); mt != "" && mt != "Replace" {
		return nil
	}
	var users []Object
	for _, o := range objs {
		ref := mapAt(o.Spec(), "infrastructure", "parametersRef")
		if o.Is(gatewayAPIGroup, "Gateway") && o.Namespace() == ep.Namespace() &&
			str(ref, "group") == envoyGatewayGroup && str(ref, "kind") == "EnvoyProxy" && str(ref, "name") == ep.Name() {
			users = append(users, o)
		}
	}
	return users
}

// gatewayClass returns the stream's GatewayClass (nil when it has none).
func gatewayClass(objs []Object) Object {
	for _, o := range objs {
		if o.Is(gatewayAPIGroup, "GatewayClass") {
			return o
		}
	}
	return nil
}

// proxyInput assembles the input of an EnvoyProxy's own run: the core
// objects, fixtures, GatewayClass and ep, the Gateways using ep with the
// routes attached to them, and every policy.
func proxyInput(objs, fixtures []Object, ep Object, users []Object) []Object {
	using := map[Ref]bool{}
	for _, gw := range users {
		using[gw.Ref()] = true
	}
	var gw []Object
	for _, o := range gatewayObjects(objs) {
		kind := o.Kind()
		switch {
		case kind == "EnvoyProxy":
			continue
		case kind == "Gateway" && !using[o.Ref()]:
			continue
		case strings.HasSuffix(kind, "Route") && !attachedTo(o, using):
			continue
		}
		gw = append(gw, o)
	}
	gw = append(gw, ep)
	return EgctlInput(append(coreObjects(objs), gw...), fixtures, ep.Ref())
}

// attachedTo tells whether a route has a parentRef naming one of gateways.
func attachedTo(route Object, gateways map[Ref]bool) bool {
	for _, pr := range maps(route.Spec(), "parentRefs") {
		if orDefault(str(pr, "kind"), "Gateway") != "Gateway" {
			continue
		}
		ref := Ref{Kind: "Gateway", Namespace: orDefault(str(pr, "namespace"), route.Namespace()), Name: str(pr, "name")}
		if gateways[ref] {
			return true
		}
	}
	return false
}

// withProxy marks failures found in an EnvoyProxy's own run.
func withProxy(failures []Failure, ep Object) []Failure {
	for i := range failures {
		if failures[i].Object != ep.Ref().String() {
			failures[i].Condition = "with " + ep.Ref().String() + ": " + failures[i].Condition
		}
	}
	return failures
}

// relabel attributes whole-input failures of a single-object run to that
// object.
func relabel(failures []Failure, o Object) []Failure {
	for i := range failures {
		if failures[i].Object == "stream" {
			failures[i].Object = o.Ref().String()
		}
	}
	return failures
}

// egctlOIDCHMAC is egctl's refusal of every OIDC SecurityPolicy, whatever
// the cluster holds: egctl translate runs Envoy Gateway's translator
// without a controller namespace, so the translator looks the chart's
// envoy-oidc-hmac Secret (created by its certgen job) up in namespace
// "" (internal/gatewayapi/securitypolicy.go), while egctl's loader puts
// a Secret given without a namespace into envoy-gateway-system. The
// translator checks the provider, the client ID, the client secret's
// Secret and key and the redirect URL before it, so a policy refused for
// this alone passed those checks.
const egctlOIDCHMAC = "OIDC: HMAC secret /envoy-oidc-hmac not found."

// knownLimitations splits out of failures the refusals that come from
// egctl's own limits, not from the stream; they are reported as notes.
func knownLimitations(failures []Failure) (kept, notes []Failure) {
	for _, f := range failures {
		if f.Tool == "egctl" && f.Message == egctlOIDCHMAC {
			f.Message += " (egctl's limit, not the stream's: see egctlOIDCHMAC in tools/conformance/workarounds.go)"
			notes = append(notes, f)
			continue
		}
		kept = append(kept, f)
	}
	return kept, notes
}
