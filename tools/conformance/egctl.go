package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Egctl checks streams with `egctl x translate --from gateway-api --to
// gateway-api`, which runs Envoy Gateway's own CRD validation (OpenAPI
// schema and CEL rules) and translator offline and prints every object with
// the status the controller would write.
//
// egctl's loader has limits that a cluster does not, and the harness works
// around them without hiding anything:
//
//   - It keeps only the name of a Namespace, not its labels, so a listener's
//     allowedRoutes namespace selector would reject every route. The harness
//     evaluates each selector itself against the stream's Namespace labels
//     (failures are reported with Tool "harness") and gives egctl a copy of
//     the Gateway whose Selector listeners allow routes from All namespaces.
//   - It holds a single EnvoyProxy and uses it as the GatewayClass's, whatever
//     its name. The harness resolves the GatewayClass's and the Gateways'
//     parametersRefs itself, feeds only the GatewayClass's EnvoyProxy to the
//     main run, and validates every other EnvoyProxy in a run of its own.
type Egctl struct {
	// Path is the egctl binary.
	Path string
}

// Kinds whose input objects must all come back from egctl with a good
// status; the map gives the key of egctl's output that lists them.
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
}

// Check translates the stream's Gateway API and Envoy Gateway objects,
// with the Namespaces and fixtures, and returns every failure. An error
// means the harness itself could not run.
func (e Egctl) Check(ctx context.Context, objs, fixtures []Object) ([]Failure, error) {
	gw := gatewayObjects(objs)
	if len(gw) == 0 {
		return nil, nil
	}
	classProxy, failures := resolveParametersRefs(gw)
	failures = append(failures, checkAllowedRoutes(objs)...)

	input := egctlInput(objs, fixtures, classProxy)
	out, runFailures, err := e.translate(ctx, input)
	if err != nil {
		return nil, err
	}
	failures = append(failures, runFailures...)
	if out != nil {
		failures = append(failures, checkTranslated(gw, out)...)
	}

	for _, ep := range gw {
		if !ep.Is(envoyGatewayGroup, "EnvoyProxy") || ep.Ref() == classProxy {
			continue
		}
		epFailures, err := e.checkEnvoyProxy(ctx, objs, fixtures, ep)
		if err != nil {
			return nil, err
		}
		failures = append(failures, epFailures...)
	}
	return failures, nil
}

// gatewayObjects returns the stream's Gateway API and Envoy Gateway objects.
func gatewayObjects(objs []Object) []Object {
	var out []Object
	for _, o := range objs {
		if o.Group() == gatewayAPIGroup || o.Group() == envoyGatewayGroup {
			out = append(out, o)
		}
	}
	return out
}

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

// egctlInput assembles egctl's input: the stream's Namespaces and core
// objects, the fixtures, and the Gateway API and Envoy Gateway objects with
// only the GatewayClass's EnvoyProxy and selector listeners opened to All.
func egctlInput(objs, fixtures []Object, classProxy Ref) []Object {
	var input []Object
	for _, o := range objs {
		if o.Group() == "" && o.APIVersion() == "v1" && isCoreInput(o.Kind()) {
			input = append(input, o)
		}
	}
	input = append(input, fixtures...)
	for _, o := range gatewayObjects(objs) {
		switch {
		case o.Is(envoyGatewayGroup, "EnvoyProxy") && o.Ref() != classProxy:
			continue
		case o.Is(gatewayAPIGroup, "Gateway"):
			o = openSelectorListeners(o)
		}
		input = append(input, o)
	}
	return input
}

// isCoreInput tells whether egctl reads core objects of this kind.
func isCoreInput(kind string) bool {
	switch kind {
	case "Namespace", "Service", "Secret", "ConfigMap":
		return true
	}
	return false
}

// openSelectorListeners returns a copy of the Gateway whose listeners that
// select route namespaces by label allow All namespaces instead (the
// harness checks the selectors, see checkAllowedRoutes).
func openSelectorListeners(gw Object) Object {
	data, _ := yaml.Marshal(map[string]any(gw))
	var cp Object
	_ = yaml.Unmarshal(data, &cp)
	for _, l := range maps(cp.Spec(), "listeners") {
		ns := mapAt(l, "allowedRoutes", "namespaces")
		if str(ns, "from") == "Selector" {
			ns["from"] = "All"
			delete(ns, "selector")
		}
	}
	return cp
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

// translate runs egctl on input and decodes its output. A rejected input is
// a failure, not an error.
func (e Egctl) translate(ctx context.Context, input []Object) (map[string]any, []Failure, error) {
	file, err := writeTemp("egctl-input-*.yaml", input)
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(file)
	cmd := exec.CommandContext(ctx, e.Path, "x", "translate",
		"--from", "gateway-api", "--to", "gateway-api", "-o", "yaml", "-f", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			return nil, nil, fmt.Errorf("running %s: %w", e.Path, err)
		}
		msg := strings.TrimSpace(stderr.String() + "\n" + stdout.String())
		return nil, []Failure{{Tool: "egctl", Object: "stream", Condition: err.Error(), Message: msg}}, nil
	}
	var out map[string]any
	if err := yaml.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, nil, fmt.Errorf("decoding egctl output: %w", err)
	}
	return out, nil, nil
}

// writeTemp writes objs as a YAML stream to a new temporary file.
func writeTemp(pattern string, objs []Object) (string, error) {
	data, err := MarshalStream(objs)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	return filepath.Clean(f.Name()), f.Close()
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

// gatewayFailures checks a Gateway's conditions and each listener's.
func gatewayFailures(name string, in, got Object) []Failure {
	failures := conditionFailures(name, "", maps(got, "status", "conditions"), required("Accepted", "True"))
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
	slicesSort(keys)
	return keys
}

// checkEnvoyProxy validates an EnvoyProxy that is not the GatewayClass's by
// translating it alone with the GatewayClass: egctl then validates it as the
// class's and reports the result on the GatewayClass and the EnvoyProxy.
func (e Egctl) checkEnvoyProxy(ctx context.Context, objs, fixtures []Object, ep Object) ([]Failure, error) {
	input := append([]Object{}, fixtures...)
	for _, o := range objs {
		if o.APIVersion() == "v1" && o.Kind() == "Namespace" || o.Is(gatewayAPIGroup, "GatewayClass") {
			input = append(input, o)
		}
	}
	input = append(input, ep)
	out, failures, err := e.translate(ctx, input)
	if err != nil || out == nil {
		return relabel(failures, ep), err
	}
	name := ep.Ref().String()
	failures = conditionFailures(name, "as GatewayClass parameters", maps(out, "gatewayClass", "status", "conditions"), required("Accepted", "True"))
	for _, a := range maps(out, "envoyProxyForGatewayClass", "status", "ancestors") {
		failures = append(failures, conditionFailures(name, "", maps(a, "conditions"), required("Accepted", "True"))...)
	}
	return failures, nil
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
