// Package conformance checks egmc's golden manifest streams with the real
// upstream tools: egctl (Envoy Gateway's offline translator) must accept and
// program every Gateway API and Envoy Gateway object, and istioctl analyze
// must find nothing to warn about in the Istio objects.
//
// The tools only see what a cluster would hold, so the package adds
// fixtures: a Service with a clusterIP for every backend, a self-signed TLS
// Secret for every listener certificate and a CA ConfigMap for every
// caCertificateRef. The checks run as tests (see conformance_test.go); the
// binaries come from build-tools.sh via the EGCTL and ISTIOCTL variables.
package conformance
