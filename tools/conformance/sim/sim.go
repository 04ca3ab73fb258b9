// Package sim simulates requests through an egmc stream, hop by hop, with
// the real upstream code: where a request goes is proven, not argued.
//
// A request enters at the gateway. The gateway hop is Envoy Gateway's own
// translator (egctl x translate --to xds) and a match of host, path and
// method against the route configuration it builds (gateway.go). What leaves
// the gateway's Envoy is an Upstream: a Service address and port, the Host
// header and path after the gateway's rewrites, and the TLS the gateway
// opened. A Mesh then carries the Upstream to the backend: Istio's own
// simulation (pilot/pkg/simulation on a fake istiod) for the sidecar of the
// gateway's proxy and the backend's sidecar (istio.go), ambient's L4 path,
// Cilium's policy (cilium.go), or nothing (no mesh).
//
// The stream is all the simulator sees; what a cluster would already hold
// (Services with cluster IPs, backend pods and their endpoints) comes from
// the conformance fixtures.
package sim

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// TLS values of a hop: the TLS of the connection the hop opens.
const (
	TLSNone      = "none"
	TLSSimple    = "tls"
	TLSIstioMTLS = "istio-mtls"
)

// Request is one request to simulate, written "METHOD URL".
type Request struct {
	// Raw is the request as given.
	Raw string
	// Method is the HTTP method, upper case.
	Method string
	// Scheme is http or https.
	Scheme string
	// Host is the Host header (the URL's host without port).
	Host string
	// Port is the URL's port, or the scheme's default.
	Port int
	// Path is the URL's path with its query.
	Path string
}

// ParseRequest parses "METHOD URL", e.g. "GET http://www.example.com/get".
func ParseRequest(s string) (Request, error) {
	method, rawURL, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || method == "" {
		return Request{}, fmt.Errorf("request %q: want METHOD URL, e.g. 'GET http://www.example.com/'", s)
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return Request{}, fmt.Errorf("request %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Request{}, fmt.Errorf("request %q: the URL must start with http:// or https://", s)
	}
	if u.Hostname() == "" {
		return Request{}, fmt.Errorf("request %q: the URL has no host", s)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return Request{}, fmt.Errorf("request %q: bad port %q", s, p)
		}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return Request{
		Raw:    s,
		Method: strings.ToUpper(method),
		Scheme: u.Scheme,
		Host:   u.Hostname(),
		Port:   port,
		Path:   path,
	}, nil
}

// Hop is one proxy on the request's path and what it did.
type Hop struct {
	// Proxy names the proxy, e.g. "envoy-gateway default/apps" or
	// "istio-proxy envoy-gateway-system/envoy-default-apps-1a2b3c4d".
	Proxy string `json:"proxy"`
	// Route names the route the proxy matched ("" when it matched none).
	Route string `json:"route"`
	// Cluster names the upstream cluster the proxy chose.
	Cluster string `json:"cluster,omitempty"`
	// TLS is the TLS of the connection this hop opens: none, tls or
	// istio-mtls.
	TLS string `json:"tls"`
	// Timeout is the hop's effective request timeout ("15s" when the
	// route sets none: Envoy's default), or "0s" for none.
	Timeout string `json:"timeout,omitempty"`
	// Retries is the number of retries the hop makes.
	Retries int `json:"retries"`
	// Host is the Host header the hop sends on.
	Host string `json:"host,omitempty"`
	// Path is the path the hop sends on, after its rewrites.
	Path string `json:"path,omitempty"`
	// Policy names what admitted the request at this hop (an
	// AuthorizationPolicy, a CiliumNetworkPolicy, a PeerAuthentication).
	Policy string `json:"policy,omitempty"`
	// Note says more about the hop, e.g. why it refused the request.
	Note string `json:"note,omitempty"`
}

// Result is the fate of one request.
type Result struct {
	// Request is the request as given.
	Request string `json:"request"`
	// Backend is "<service>.<namespace>:<port>", empty when the request
	// was not delivered.
	Backend string `json:"backend"`
	// Path is the path the backend sees.
	Path string `json:"path"`
	// Error says why the request was not delivered, or is empty.
	Error string `json:"error"`
	// Hops are the proxies the request crossed, the gateway's Envoy first.
	Hops []Hop `json:"hops"`
}

// Service names a Kubernetes Service.
type Service struct {
	Namespace, Name string
}

// String formats the Service as namespace/name.
func (s Service) String() string { return s.Namespace + "/" + s.Name }

// Upstream is what leaves the gateway's Envoy for one request.
type Upstream struct {
	// Service is the Service the gateway's cluster points to, and
	// Address its cluster IP (routingType Service) or "" when the gateway
	// sends to the endpoints (pod IPs) directly.
	Service Service
	Address string
	// Port is the Service port.
	Port int
	// Method, Host and Path are the request as the gateway sends it on.
	Method, Host, Path string
	// HTTP2 tells whether the gateway speaks HTTP/2 to the upstream (gRPC,
	// h2c app protocol).
	HTTP2 bool
	// TLS is the TLS the gateway opened: none, tls, or istio-mtls (the
	// gateway presents Istio's workload certificate itself).
	TLS string
	// ALPN is the protocols the gateway's TLS offers.
	ALPN []string
	// URISANs are the URI SANs the gateway accepts in the backend's
	// certificate; empty when it checks none.
	URISANs []string
	// SDSSockets are the unix sockets the gateway's TLS fetches its
	// certificates from, which its pod must serve.
	SDSSockets []string
}

// Delivery is where a mesh delivered an Upstream.
type Delivery struct {
	// Service, Port and Path are the backend Service, its port and the
	// path it sees.
	Service Service
	Port    int
	Path    string
}

// Backend formats the delivery as "<service>.<namespace>:<port>".
func (d Delivery) Backend() string {
	return fmt.Sprintf("%s.%s:%d", d.Service.Name, d.Service.Namespace, d.Port)
}

// Mesh carries an Upstream from the gateway's Envoy to a backend.
type Mesh interface {
	// Carry returns the hops after the gateway's Envoy (none when
	// nothing stands between it and the backend) and where the request
	// arrives, or a non-empty reason why it is not delivered.
	Carry(u Upstream) (hops []Hop, d Delivery, refused string)
}
