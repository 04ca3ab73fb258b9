// Package intentgen generates intents for tests and benchmarks: random
// intents that cover every profile and every route feature (most of them
// valid, some refused by the schema's checks), so that a change to how egmc
// evaluates intents can be compared byte for byte on many shapes the
// examples do not have.
package intentgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Random returns a YAML intent drawn from seed. The same seed gives the
// same intent. routes bounds the number of routes (at least 1).
func Random(seed uint64, routes int) []byte {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	return g.intent(max(routes, 1))
}

type gen struct {
	r *rand.Rand
	b strings.Builder
	// sds: the intent's mtls mode is gateway-sds, whose mesh backends
	// name their service account.
	sds bool
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }
func (g *gen) line(format string, args ...any) {
	fmt.Fprintf(&g.b, format+"\n", args...)
}

func (g *gen) intent(maxRoutes int) []byte {
	provider := g.pick("istio", "istio", "istio", "cilium", "none")
	g.line("apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: %s}\nspec:", g.pick("shop", "fleet", "edge-a"))
	g.line("  mesh:")
	g.line("    provider: %s", provider)
	if provider == "istio" {
		g.line("    mode: %s", g.pick("sidecar", "sidecar", "ambient"))
		g.line("    istio: {mtlsMode: %s, mtlsScope: %s, revision: %q}", g.pick("STRICT", "PERMISSIVE"), g.pick("backends", "mesh"), g.pick("", "", "canary"))
	}
	if provider == "cilium" {
		g.line("    cilium: {loadBalancerClass: %s}", g.pick("none", "bgp", "l2"))
	}
	g.line("    state: %s", g.pick("installed", "install", "migrate"))
	g.gateway(provider)
	mode := g.mtls(provider)
	g.sds = mode == "gateway-sds"
	g.line("  mtls: {mode: %s}", mode)
	if provider == "istio" && g.chance(0.5) {
		g.line("  ownership: {retries: %s, timeouts: %s}", g.pick("gateway", "mesh"), g.pick("gateway", "mesh"))
	}
	hosts := g.hosts()
	n := 1 + g.r.IntN(maxRoutes)
	g.line("  routes:")
	for i := range n {
		g.route(i, hosts)
	}
	if g.chance(0.3) {
		g.line("  observability: {tracing: {collector: otel.observability:4317, protocol: %s, shared: %v}, metrics: {prometheus: true}}", g.pick("opentelemetry", "zipkin"), g.chance(0.7))
	}
	if provider != "none" && g.chance(0.4) {
		g.line("  networkPolicy: {enabled: true}")
	}
	if provider == "istio" && g.chance(0.25) {
		g.line("  egress:\n    outboundPolicy: %s\n    hosts:\n      - {host: api.stripe.com, port: 443, protocol: TLS}\n      - {host: status.example.org, port: 80, protocol: HTTP}", g.pick("REGISTRY_ONLY", "ALLOW_ANY"))
	}
	return []byte(g.b.String())
}

func (g *gen) gateway(provider string) {
	g.line("  gateway:")
	g.line("    namespace: %s", g.pick("gateway-system", "edge"))
	if provider == "istio" && g.chance(0.2) {
		g.line("    inMesh: false")
	}
	if g.chance(0.15) {
		g.line("    distribution: teg")
	}
	switch g.r.IntN(3) {
	case 0: // the default listener
	case 1:
		g.line("    listeners:\n      - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [tls-a]}, redirectHTTP: %v}", g.chance(0.5))
	default:
		g.line("    listeners:\n      - {name: a, port: 443, protocol: HTTPS, hostname: \"*.a.example.com\", tls: {certificateRefs: [tls-a]}}\n      - {name: b, port: 8443, protocol: HTTPS, hostname: b.example.com, tls: {certificateRefs: [tls-b]}}\n      - {name: plain, port: 8080, protocol: HTTP}")
	}
}

func (g *gen) mtls(provider string) string {
	if provider == "istio" {
		return g.pick("mesh", "mesh", "backend-tls", "gateway-sds")
	}
	return g.pick("none", "backend-tls")
}

func (g *gen) hosts() []string {
	all := []string{"www.a.example.com", "api.a.example.com", "b.example.com", "c.example.com", "*.a.example.com", "d.example.com"}
	n := 1 + g.r.IntN(len(all))
	return all[:n]
}

func (g *gen) route(i int, hosts []string) {
	var hs []string
	for range 1 + g.r.IntN(3) {
		hs = append(hs, hosts[g.r.IntN(len(hosts))])
	}
	proto := g.pick("http", "http", "http", "grpc", "http2")
	g.line("    - name: r%d", i)
	g.line("      hostnames: [%s]", strings.Join(quote(hs), ", "))
	switch {
	case proto == "grpc" && g.chance(0.5):
		g.line("      match: {pathPrefix: /pkg.Svc%d/}", i)
	case proto == "grpc":
		g.line("      match: {path: /pkg.Svc/M%d}", i)
	case g.chance(0.3):
		g.line("      match: {path: /exact/%d}", i)
	case g.chance(0.2):
		// the default pathPrefix "/"
	default:
		g.line("      match: {pathPrefix: /p%d%s}", i, g.pick("", "/"))
	}
	if proto != "grpc" && g.chance(0.4) {
		g.line("      rewrite: {pathPrefix: %s}", g.pick("/", "/v2", "/v2/"))
	}
	port := g.pick2(8080, 9090)
	// one backend Service keeps one targetPort per port, whichever
	// route names it.
	extra := ""
	if port == 9090 {
		extra = ", targetPort: 9000"
	}
	if g.sds {
		// the pods of s<n> run as service account s<n>-sa
		extra += fmt.Sprintf(", serviceAccount: s%d-sa", i%7)
	}
	g.line("      backend: {service: s%d, namespace: ns%d, port: %d, protocol: %s%s}", i%7, i%3, port, proto, extra)
	if g.chance(0.4) {
		g.line("      timeout: %s", g.pick("10s", "1m30s", "500ms"))
	}
	if g.chance(0.4) {
		g.line("      retries: {attempts: %d, perTryTimeout: 2s}", g.r.IntN(4))
	}
	if g.chance(0.2) {
		g.line("      rateLimit: {requests: 100, unit: Minute}")
	}
	if g.chance(0.2) {
		g.line("      auth: {jwt: {issuer: https://issuer.example.com, jwksUri: https://issuer.example.com/jwks, audiences: [api]}}")
	}
}

func (g *gen) pick2(a, b int) int {
	if g.chance(0.5) {
		return a
	}
	return b
}

func quote(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}
