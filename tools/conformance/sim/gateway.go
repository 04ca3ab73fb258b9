package sim

import (
	"fmt"
	"sort"
	"strings"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// Gateways holds the Envoy configuration egctl built for every Gateway of a
// stream.
type Gateways struct {
	configs []*gatewayConfig
}

// ParseGateways reads egctl's --to xds output (decoded YAML or JSON: a
// map with key "xds" holding one configuration dump per Gateway).
func ParseGateways(out map[string]any) (*Gateways, error) {
	xds, ok := out["xds"].(map[string]any)
	if !ok || len(xds) == 0 {
		return nil, fmt.Errorf("egctl printed no xds configuration")
	}
	names := make([]string, 0, len(xds))
	for name := range xds {
		names = append(names, name)
	}
	sort.Strings(names)
	g := &Gateways{}
	for _, name := range names {
		cfg, err := parseGatewayConfig(name, xds[name])
		if err != nil {
			return nil, err
		}
		g.configs = append(g.configs, cfg)
	}
	return g, nil
}

// gatewayResult is what the gateway hop did with a request.
type gatewayResult struct {
	hop      Hop
	upstream Upstream
	// refused says why the gateway did not send the request upstream.
	refused string
}

// Route sends a request through the first Gateway, by name, with a
// listener that takes it (the request's port, scheme and server name).
func (g *Gateways) Route(req Request) gatewayResult {
	var refusals []string
	for _, cfg := range g.configs {
		res, taken := cfg.route(req)
		if taken {
			return res
		}
		refusals = append(refusals, res.refused)
	}
	return gatewayResult{hop: Hop{Proxy: "envoy-gateway", TLS: TLSNone}, refused: strings.Join(refusals, "; ")}
}

// route matches the request against one Gateway's configuration. taken is
// false when no listener of the Gateway takes the connection.
func (cfg *gatewayConfig) route(req Request) (gatewayResult, bool) {
	hop := Hop{Proxy: "envoy-gateway " + cfg.name, TLS: TLSNone}
	fc, why := cfg.filterChain(req)
	if fc == nil {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("gateway %s: %s", cfg.name, why)}, false
	}
	rc, err := cfg.routeConfig(fc)
	if err != nil {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("gateway %s: %v", cfg.name, err)}, true
	}
	vh := matchVirtualHost(rc, req.Host)
	if vh == nil {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("404: no virtual host of %s serves %s", rc.GetName(), req.Host)}, true
	}
	hreq := httpRequest{method: req.Method, host: req.Host, path: req.Path}
	r, err := firstRoute(vh, hreq)
	if err != nil {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("gateway %s: %v", cfg.name, err)}, true
	}
	if r == nil {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("404: no route of %s matches %s %s", vh.GetName(), req.Method, req.Path)}, true
	}
	hop.Route, hop.Policy = r.GetName(), routePolicies(r)
	return cfg.act(hop, vh, r, req, hreq), true
}

// filterChain picks the listener for the request's port (EG listens on
// port+10000 for ports below 1024) and its filter chain for the scheme and
// server name (SNI = Host for https).
func (cfg *gatewayConfig) filterChain(req Request) (*listener.FilterChain, string) {
	for _, l := range cfg.listeners {
		p := int(l.GetAddress().GetSocketAddress().GetPortValue())
		if p != req.Port && !(req.Port < 1024 && p == req.Port+10000) {
			continue
		}
		if fc := pickChain(l, req); fc != nil {
			return fc, ""
		}
		return nil, fmt.Sprintf("listener %s on port %d does not take %s for %s", l.GetName(), req.Port, req.Scheme, req.Host)
	}
	return nil, fmt.Sprintf("no listener on port %d", req.Port)
}

// routeConfig returns the route configuration of a filter chain's HTTP
// connection manager: by RDS name, or inline.
func (cfg *gatewayConfig) routeConfig(fc *listener.FilterChain) (*route.RouteConfiguration, error) {
	h, err := chainHCM(fc)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("filter chain %s has no HTTP connection manager", fc.GetName())
	}
	if rc := h.GetRouteConfig(); rc != nil {
		return rc, nil
	}
	name := h.GetRds().GetRouteConfigName()
	rc, ok := cfg.routes[name]
	if !ok {
		return nil, fmt.Errorf("route configuration %q is missing", name)
	}
	return rc, nil
}

// pickChain returns the filter chain of l for the request: TLS chains for
// https (the most specific server name first), plain chains for http.
func pickChain(l *listener.Listener, req Request) *listener.FilterChain {
	wantTLS := req.Scheme == "https"
	var best *listener.FilterChain
	bestRank := -1
	for _, fc := range append(l.GetFilterChains(), l.GetDefaultFilterChain()) {
		if fc == nil || (fc.GetTransportSocket() != nil) != wantTLS {
			continue
		}
		if rank := serverNameRank(fc.GetFilterChainMatch().GetServerNames(), req.Host); rank > bestRank {
			best, bestRank = fc, rank
		}
	}
	return best
}

// serverNameRank ranks how well names match host: exact above wildcard
// (longer first), no names (any) lowest, -1 for no match.
func serverNameRank(names []string, host string) int {
	if len(names) == 0 {
		return 0
	}
	rank := -1
	for _, n := range names {
		switch {
		case n == host:
			return 1 << 20
		case strings.HasPrefix(n, "*.") && strings.HasSuffix(host, n[1:]) && len(n) > rank:
			rank = len(n)
		}
	}
	return rank
}

// matchVirtualHost picks the virtual host for host as Envoy does: an exact
// domain, then the longest suffix wildcard (*.example.com), then the
// longest prefix wildcard (www.*), then *.
func matchVirtualHost(rc *route.RouteConfiguration, host string) *route.VirtualHost {
	host = strings.ToLower(host)
	var best *route.VirtualHost
	bestRank := -1
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			if r := domainRank(strings.ToLower(d), host); r > bestRank {
				best, bestRank = vh, r
			}
		}
	}
	return best
}

// domainRank ranks one domain against host, -1 when it does not match.
func domainRank(d, host string) int {
	switch {
	case d == host:
		return 3 << 20
	case d == "*":
		return 0
	case strings.HasPrefix(d, "*") && strings.HasSuffix(host, d[1:]) && len(host) > len(d)-1:
		return 2<<20 + len(d)
	case strings.HasSuffix(d, "*") && strings.HasPrefix(host, d[:len(d)-1]) && len(host) > len(d)-1:
		return 1<<20 + len(d)
	}
	return -1
}

// firstRoute returns the first route of vh that matches req.
func firstRoute(vh *route.VirtualHost, req httpRequest) (*route.Route, error) {
	for _, r := range vh.GetRoutes() {
		ok, err := routeMatches(r.GetMatch(), req)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r.GetName(), err)
		}
		if ok {
			return r, nil
		}
	}
	return nil, nil
}

// act carries out the matched route: a redirect or direct response ends
// the request at the gateway; a route action picks the cluster, applies
// the rewrites and reads the timeout and retries.
func (cfg *gatewayConfig) act(hop Hop, vh *route.VirtualHost, r *route.Route, req Request, hreq httpRequest) gatewayResult {
	switch {
	case r.GetRedirect() != nil:
		return gatewayResult{hop: hop, refused: "redirect: " + describeRedirect(r.GetRedirect(), req)}
	case r.GetDirectResponse() != nil:
		return gatewayResult{hop: hop, refused: fmt.Sprintf("the gateway answers %d itself (direct response)", r.GetDirectResponse().GetStatus())}
	case r.GetRoute() == nil:
		return gatewayResult{hop: hop, refused: "the route has no action"}
	}
	hop.Cluster, hop.Timeout, hop.Retries = routeCluster(r), routeTimeout(r), routeRetries(r, vh)
	next, err := rewrite(r, hreq)
	if err != nil {
		return gatewayResult{hop: hop, refused: err.Error()}
	}
	hop.Host, hop.Path = next.host, next.path
	cl, ok := cfg.clusters[hop.Cluster]
	if !ok {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("cluster %s is missing: the gateway answers 500", hop.Cluster)}
	}
	tls, err := clusterUpstreamTLS(cl, cfg.clusters)
	if err != nil {
		return gatewayResult{hop: hop, refused: err.Error()}
	}
	hop.TLS = tls.Kind
	if clusterHTTP2(cl) {
		hop.Note = "HTTP/2 to the upstream"
	}
	svc, addr, port, ok := cfg.backend(hop.Cluster)
	if !ok {
		return gatewayResult{hop: hop, refused: fmt.Sprintf("cluster %s has no endpoints: the gateway answers 503", hop.Cluster)}
	}
	return gatewayResult{hop: hop, upstream: Upstream{
		Service: svc, Address: addr, Port: port,
		Method: req.Method, Host: hop.Host, Path: hop.Path,
		HTTP2: clusterHTTP2(cl), TLS: hop.TLS,
		ALPN: tls.ALPN, URISANs: tls.URISANs, SDSSockets: tls.SDSSockets,
	}}
}

// routeFilters names the per-route HTTP filters a request must pass
// before the gateway sends it upstream. The simulator reports them and
// does not run them: a request without a token is routed, but a real
// gateway answers it 401.
var routeFilters = map[string]string{
	"envoy.filters.http.jwt_authn":       "JWT authentication",
	"envoy.filters.http.oauth2":          "OIDC",
	"envoy.filters.http.ext_authz":       "external authorization",
	"envoy.filters.http.local_ratelimit": "local rate limit",
	"envoy.filters.http.ratelimit":       "global rate limit",
}

// routePolicies names the Envoy Gateway policies attached to a route
// (from the metadata EG gives it) and the filters they add.
func routePolicies(r *route.Route) string {
	eg := r.GetMetadata().GetFilterMetadata()["envoy-gateway"]
	var names []string
	for _, p := range eg.GetFields()["policies"].GetListValue().GetValues() {
		f := p.GetStructValue().GetFields()
		names = append(names, f["kind"].GetStringValue()+" "+f["namespace"].GetStringValue()+"/"+f["name"].GetStringValue())
	}
	var filters []string
	for name := range r.GetTypedPerFilterConfig() {
		if what, ok := routeFilters[name]; ok {
			filters = append(filters, what)
		}
	}
	sort.Strings(filters)
	return strings.Join(append(names, filters...), ", ")
}

// describeRedirect formats where a redirect sends the client.
func describeRedirect(rd *route.RedirectAction, req Request) string {
	scheme, host, path := req.Scheme, req.Host, req.Path
	if s := rd.GetSchemeRedirect(); s != "" {
		scheme = s
	}
	if h := rd.GetHostRedirect(); h != "" {
		host = h
	}
	if p := rd.GetPathRedirect(); p != "" {
		path = p
	}
	port := ""
	if p := rd.GetPortRedirect(); p != 0 {
		port = fmt.Sprintf(":%d", p)
	}
	codes := map[route.RedirectAction_RedirectResponseCode]string{
		route.RedirectAction_MOVED_PERMANENTLY:  "301",
		route.RedirectAction_FOUND:              "302",
		route.RedirectAction_SEE_OTHER:          "303",
		route.RedirectAction_TEMPORARY_REDIRECT: "307",
		route.RedirectAction_PERMANENT_REDIRECT: "308",
	}
	return fmt.Sprintf("%s to %s://%s%s%s", codes[rd.GetResponseCode()], scheme, host, port, path)
}
