// Package bench measures egmc as users run it: whole-process builds of
// generated intents of 10 to 5000 routes and of 1000 to 4000 routes
// sharing 400 hostnames, the minimal intent, and lint of 200 intents,
// with wall time and peak memory, beside the cost of merely re-emitting
// egmc's own output with sigs.k8s.io/yaml and beside the floors (./floor:
// an empty Go program, and CUE evaluating a trivial template per route). `make bench` runs
// it; docs/performance.md records the method and the results.
package bench

import (
	"fmt"
	"strings"
)

// Intent returns an Istio sidecar intent with n routes spread over 50
// hostnames and 20 namespaces, each with a prefix, a rewrite, a timeout
// and retries: the shape of a fleet's intent.
func Intent(n int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: fleet}\nspec:\n  mesh: {provider: istio, mode: sidecar}\n  routes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - {name: r%d, hostnames: [h%d.example.com], match: {pathPrefix: /p%d/}, rewrite: {pathPrefix: /}, backend: {service: s%d, namespace: ns%d, port: 8080}, timeout: 10s, retries: {attempts: 2}}\n", i, i%50, i, i, i%20)
	}
	return []byte(b.String())
}

// SharedHosts returns an Istio sidecar intent with n routes over 400
// hostnames, each route serving 4 of them (route i: h<i>, h<i+100>,
// h<i+200>, h<i+300>, modulo 400), and 20 namespaces: the shape that
// makes every hostname's VirtualService gather ten routes at 1000.
func SharedHosts(n int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: fleet}\nspec:\n  mesh: {provider: istio, mode: sidecar}\n  routes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - {name: r%d, hostnames: [h%d.example.com, h%d.example.com, h%d.example.com, h%d.example.com], match: {pathPrefix: /p%d/}, backend: {service: s%d, namespace: ns%d, port: 8080}, timeout: 10s}\n",
			i, i%400, (i+100)%400, (i+200)%400, (i+300)%400, i, i, i%20)
	}
	return []byte(b.String())
}

// Minimal is the spec's minimal intent.
const Minimal = `apiVersion: "egmc.dev/v1alpha1"
kind:       "Intent"
metadata: name: "shop"
spec: {
	mesh: {provider: "istio", mode: "ambient"}
	routes: [{name: "httpbin", hostnames: ["www.example.com"], backend: {service: "httpbin", namespace: "httpbin", port: 8000}}]
}
`
