package sim

import (
	"fmt"
	"regexp"
	"strings"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pkg/wellknown"
)

// This file re-matches a request against the route configuration Istio
// generated. Istio's simulation names the matched route but matches only
// the path (and not path_separated_prefix boundaries, case, headers or
// query parameters) and does not apply rewrites; route names repeat
// across virtual hosts. The matching and rewriting here follow Envoy's
// documented semantics (route.v3.RouteMatch, RouteAction prefix_rewrite,
// regex_rewrite, host_rewrite_literal): it is this package's model of
// Envoy, not Envoy's code.

// httpRequest is the request a proxy routes.
type httpRequest struct {
	method, host, path string
}

// pathOnly returns the path without its query.
func (r httpRequest) pathOnly() string {
	p, _, _ := strings.Cut(r.path, "?")
	return p
}

// query returns the query string (without "?").
func (r httpRequest) query() string {
	_, q, _ := strings.Cut(r.path, "?")
	return q
}

// header returns a request header as Envoy sees it, and whether it is
// present. Only the pseudo-headers and Host exist in a simulated request.
func (r httpRequest) header(name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":method":
		return r.method, r.method != ""
	case ":authority", "host":
		return r.host, true
	case ":path":
		return r.path, true
	case ":scheme":
		return "http", true
	}
	return "", false
}

// routeMatch is what a proxy's route table did with a request.
type routeMatch struct {
	route  *route.Route
	vhost  *route.VirtualHost
	config string
}

// findChain returns the filter chain of l named name that fits the
// connection's transport (several chains share a name).
func findChain(l *listener.Listener, name string, tls bool) *listener.FilterChain {
	var first *listener.FilterChain
	for _, fc := range append(l.GetFilterChains(), l.GetDefaultFilterChain()) {
		if fc == nil || fc.GetName() != name {
			continue
		}
		if first == nil {
			first = fc
		}
		tp := fc.GetFilterChainMatch().GetTransportProtocol()
		if tp == "" || (tp == "tls") == tls {
			return fc
		}
	}
	return first
}

// findListener returns the listener named name.
func findListener(ls []*listener.Listener, name string) *listener.Listener {
	for _, l := range ls {
		if l.GetName() == name {
			return l
		}
	}
	return nil
}

// chainHCM returns the HTTP connection manager of a filter chain, or nil.
func chainHCM(fc *listener.FilterChain) (*hcm.HttpConnectionManager, error) {
	for _, f := range fc.GetFilters() {
		if f.GetName() != wellknown.HTTPConnectionManager {
			continue
		}
		h := &hcm.HttpConnectionManager{}
		if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
			return nil, fmt.Errorf("filter chain %s: %w", fc.GetName(), err)
		}
		return h, nil
	}
	return nil, nil
}

// matchRequest finds the route the proxy picks for req, using the
// simulation's result to find the route configuration and virtual host.
func matchRequest(sc *sidecarSim, res simulation.Result, req httpRequest, tls bool) (routeMatch, error) {
	rc, err := sc.routeConfig(res, tls)
	if err != nil || rc == nil {
		return routeMatch{}, err
	}
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() != res.VirtualHostMatched {
			continue
		}
		for _, r := range vh.GetRoutes() {
			ok, err := routeMatches(r.GetMatch(), req)
			if err != nil {
				return routeMatch{}, fmt.Errorf("route %q: %w", r.GetName(), err)
			}
			if ok {
				return routeMatch{route: r, vhost: vh, config: rc.GetName()}, nil
			}
		}
		return routeMatch{vhost: vh, config: rc.GetName()}, nil
	}
	return routeMatch{}, nil
}

// routeConfig returns the route configuration the simulation used: by
// RDS name, or inline in the matched filter chain's HCM.
func (sc *sidecarSim) routeConfig(res simulation.Result, tls bool) (*route.RouteConfiguration, error) {
	if res.RouteConfigMatched != "" {
		for _, rc := range sc.sim.Routes {
			if rc.GetName() == res.RouteConfigMatched {
				return rc, nil
			}
		}
		return nil, fmt.Errorf("route configuration %q not found", res.RouteConfigMatched)
	}
	l := findListener(sc.sim.Listeners, res.ListenerMatched)
	if l == nil {
		return nil, nil
	}
	fc := findChain(l, res.FilterChainMatched, tls)
	if fc == nil {
		return nil, nil
	}
	h, err := chainHCM(fc)
	if err != nil || h == nil {
		return nil, err
	}
	return h.GetRouteConfig(), nil
}

// routeMatches tells whether a route's match accepts req.
func routeMatches(m *route.RouteMatch, req httpRequest) (bool, error) {
	ok, err := pathMatches(m, req.pathOnly())
	if err != nil || !ok {
		return false, err
	}
	for _, h := range m.GetHeaders() {
		ok, err := headerMatches(h, req)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, q := range m.GetQueryParameters() {
		if !queryMatches(q, req.query()) {
			return false, nil
		}
	}
	return true, nil
}

// pathMatches applies the path specifier of m to path.
func pathMatches(m *route.RouteMatch, path string) (bool, error) {
	fold := m.GetCaseSensitive() != nil && !m.GetCaseSensitive().GetValue()
	cmp := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	switch ps := m.GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		return strings.HasPrefix(cmp(path), cmp(ps.Prefix)), nil
	case *route.RouteMatch_Path:
		return cmp(path) == cmp(ps.Path), nil
	case *route.RouteMatch_PathSeparatedPrefix:
		p := cmp(ps.PathSeparatedPrefix)
		return cmp(path) == p || strings.HasPrefix(cmp(path), p+"/"), nil
	case *route.RouteMatch_SafeRegex:
		return fullMatch(ps.SafeRegex.GetRegex(), path)
	case nil:
		return true, nil
	}
	return false, fmt.Errorf("path match %T is not simulated", m.GetPathSpecifier())
}

// fullMatch tells whether the RE2 regex matches all of s.
func fullMatch(re, s string) (bool, error) {
	r, err := regexp.Compile("^(?:" + re + ")$")
	if err != nil {
		return false, err
	}
	return r.MatchString(s), nil
}

// headerMatches applies one header matcher. As in Envoy, a missing
// header fails every matcher but a presence match, inverted or not.
func headerMatches(h *route.HeaderMatcher, req httpRequest) (bool, error) {
	v, present := req.header(h.GetName())
	if !present && h.GetTreatMissingHeaderAsEmpty() {
		v, present = "", true
	}
	switch spec := h.GetHeaderMatchSpecifier().(type) {
	case *route.HeaderMatcher_PresentMatch:
		return (present == spec.PresentMatch) != h.GetInvertMatch(), nil
	case nil:
		return present != h.GetInvertMatch(), nil
	}
	if !present {
		return false, nil
	}
	ok, err := headerValueMatches(h, v)
	return ok != h.GetInvertMatch(), err
}

// headerValueMatches applies the value matcher of h to v.
func headerValueMatches(h *route.HeaderMatcher, v string) (bool, error) {
	switch spec := h.GetHeaderMatchSpecifier().(type) {
	case *route.HeaderMatcher_ExactMatch:
		return v == spec.ExactMatch, nil
	case *route.HeaderMatcher_PrefixMatch:
		return strings.HasPrefix(v, spec.PrefixMatch), nil
	case *route.HeaderMatcher_SuffixMatch:
		return strings.HasSuffix(v, spec.SuffixMatch), nil
	case *route.HeaderMatcher_ContainsMatch:
		return strings.Contains(v, spec.ContainsMatch), nil
	case *route.HeaderMatcher_SafeRegexMatch:
		return fullMatch(spec.SafeRegexMatch.GetRegex(), v)
	case *route.HeaderMatcher_StringMatch:
		return stringMatches(spec.StringMatch, v)
	}
	return false, fmt.Errorf("header match %T is not simulated", h.GetHeaderMatchSpecifier())
}

// queryMatches applies a query parameter matcher to a raw query.
func queryMatches(q *route.QueryParameterMatcher, raw string) bool {
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k != q.GetName() {
			continue
		}
		if q.GetPresentMatch() || q.GetStringMatch() == nil {
			return true
		}
		ok, err := stringMatches(q.GetStringMatch(), v)
		return ok && err == nil
	}
	return false
}

// stringMatches applies an Envoy StringMatcher.
func stringMatches(m *matcher.StringMatcher, v string) (bool, error) {
	fold := m.GetIgnoreCase()
	if fold {
		v = strings.ToLower(v)
	}
	lower := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		return v == lower(p.Exact), nil
	case *matcher.StringMatcher_Prefix:
		return strings.HasPrefix(v, lower(p.Prefix)), nil
	case *matcher.StringMatcher_Suffix:
		return strings.HasSuffix(v, lower(p.Suffix)), nil
	case *matcher.StringMatcher_Contains:
		return strings.Contains(v, lower(p.Contains)), nil
	case *matcher.StringMatcher_SafeRegex:
		return fullMatch(p.SafeRegex.GetRegex(), v)
	}
	return false, fmt.Errorf("string match %T is not simulated", m.GetMatchPattern())
}

// rewrite applies the route's path and host rewrites to req.
func rewrite(r *route.Route, req httpRequest) (httpRequest, error) {
	a := r.GetRoute()
	if a == nil {
		return req, nil
	}
	out := req
	if h := a.GetHostRewriteLiteral(); h != "" {
		out.host = h
	}
	path, query := req.pathOnly(), req.query()
	switch {
	case a.GetRegexRewrite() != nil:
		re, err := regexp.Compile(a.GetRegexRewrite().GetPattern().GetRegex())
		if err != nil {
			return req, fmt.Errorf("route %q regex_rewrite: %w", r.GetName(), err)
		}
		path = re.ReplaceAllString(path, re2Substitution(a.GetRegexRewrite().GetSubstitution()))
	case a.GetPrefixRewrite() != "":
		path = a.GetPrefixRewrite() + path[matchedPrefixLen(r.GetMatch(), path):]
	}
	if query != "" {
		path += "?" + query
	}
	out.path = path
	return out, nil
}

// matchedPrefixLen is how much of path prefix_rewrite replaces: the
// matched prefix, or all of it for exact and regex matches.
func matchedPrefixLen(m *route.RouteMatch, path string) int {
	switch ps := m.GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		return min(len(ps.Prefix), len(path))
	case *route.RouteMatch_PathSeparatedPrefix:
		return min(len(ps.PathSeparatedPrefix), len(path))
	}
	return len(path)
}

// re2Substitution turns Envoy's "\1" group references into Go's "${1}".
func re2Substitution(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '$':
			b.WriteString("$$")
		case s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// routeTimeout is the route's request timeout in seconds, written as
// Envoy's JSON writes durations ("60s", "0.5s"): "0s" for disabled,
// Envoy's default 15s when unset.
func routeTimeout(r *route.Route) string {
	t := r.GetRoute().GetTimeout()
	if t == nil {
		return "15s"
	}
	return fmt.Sprintf("%gs", t.AsDuration().Seconds())
}

// routeRetries is the number of retries of the route (or of its virtual
// host): num_retries, Envoy's default 1 when a policy leaves it unset.
func routeRetries(r *route.Route, vh *route.VirtualHost) int {
	p := r.GetRoute().GetRetryPolicy()
	if p == nil {
		p = vh.GetRetryPolicy()
	}
	if p == nil {
		return 0
	}
	if p.GetNumRetries() == nil {
		return 1
	}
	return int(p.GetNumRetries().GetValue())
}

// routeCluster is the cluster a route sends to: its cluster, or the
// heaviest of its weighted clusters.
func routeCluster(r *route.Route) string {
	a := r.GetRoute()
	if c := a.GetCluster(); c != "" {
		return c
	}
	best, weight := "", -1
	for _, wc := range a.GetWeightedClusters().GetClusters() {
		if int(wc.GetWeight().GetValue()) > weight {
			best, weight = wc.GetName(), int(wc.GetWeight().GetValue())
		}
	}
	return best
}
