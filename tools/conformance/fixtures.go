package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Fixtures returns the objects a cluster would already hold when the stream
// is applied, for those the stream does not define itself:
//
//   - a v1 Service with a clusterIP for every Service that a backendRef or
//     backendRefs entry of a Gateway API or Envoy Gateway object points to
//     (route backends, EnvoyProxy telemetry collectors, policy backends), with
//     every port referenced;
//   - a kubernetes.io/tls Secret with a fresh self-signed certificate for
//     every Gateway listener certificateRef;
//   - a ConfigMap (or Secret) with a ca.crt for every caCertificateRef;
//   - an Opaque Secret with a client-secret for every SecurityPolicy OIDC
//     clientSecret (the user's Secret, which egmc never emits);
//   - an Envoy Gateway GatewayClass for every class a Gateway names that
//     the stream does not define (a distribution's chart installs it, as
//     TEG's installs class teg).
//
// Certificates are generated here, at test time, and never committed.
func Fixtures(objs []Object) ([]Object, error) {
	defined := map[Ref]bool{}
	for _, o := range objs {
		defined[o.Ref()] = true
	}
	out := gatewayClassFixtures(objs, defined)
	for _, svc := range serviceFixtures(objs) {
		if !defined[svc.Ref()] {
			out = append(out, svc)
		}
	}
	tlsSecrets, err := tlsSecretFixtures(objs)
	if err != nil {
		return nil, err
	}
	caRefs, err := caFixtures(objs)
	if err != nil {
		return nil, err
	}
	for _, o := range append(append(tlsSecrets, caRefs...), oidcSecretFixtures(objs)...) {
		if !defined[o.Ref()] {
			out = append(out, o)
		}
	}
	return out, nil
}

// gatewayClassFixtures returns a GatewayClass of Envoy Gateway's controller
// for every class a Gateway names that is not defined.
func gatewayClassFixtures(objs []Object, defined map[Ref]bool) []Object {
	var out []Object
	seen := map[string]bool{}
	for _, gw := range objs {
		class := str(gw.Spec(), "gatewayClassName")
		ref := Ref{Kind: "GatewayClass", Name: class}
		if !gw.Is(gatewayAPIGroup, "Gateway") || class == "" || defined[ref] || seen[class] {
			continue
		}
		seen[class] = true
		out = append(out, Object{
			"apiVersion": gatewayAPIGroup + "/v1",
			"kind":       "GatewayClass",
			"metadata":   map[string]any{"name": class, "labels": map[string]any{"egmc.dev/conformance-fixture": "true"}},
			"spec":       map[string]any{"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
		})
	}
	return out
}

// servicePorts records the ports referenced on one Service and whether a
// gRPC client refers to it.
type servicePorts struct {
	ports map[int]bool
	grpc  bool
}

// serviceFixtures builds one Service per backend Service referenced by the
// Gateway API and Envoy Gateway objects of the stream.
func serviceFixtures(objs []Object) []Object {
	services := map[Ref]*servicePorts{}
	for _, o := range objs {
		if o.Group() != gatewayAPIGroup && o.Group() != envoyGatewayGroup {
			continue
		}
		collectBackendRefs(o.Spec(), o.Namespace(), o.Kind() == "GRPCRoute", services)
	}
	refs := make([]Ref, 0, len(services))
	for ref := range services {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	out := make([]Object, 0, len(refs))
	for i, ref := range refs {
		out = append(out, serviceObject(ref, services[ref], clusterIP(i)))
	}
	return out
}

// collectBackendRefs walks v and records every Service named by a
// backendRef map or a backendRefs list. grpc marks the Services as gRPC
// backends; it is inherited and also set under an OpenTelemetry sink.
func collectBackendRefs(v any, namespace string, grpc bool, into map[Ref]*servicePorts) {
	switch v := v.(type) {
	case map[string]any:
		if str(v, "type") == "OpenTelemetry" {
			grpc = true
		}
		for key, child := range v {
			childGRPC := grpc || key == "openTelemetry"
			switch key {
			case "backendRef":
				addBackendRef(child, namespace, childGRPC, into)
			case "backendRefs":
				list, _ := child.([]any)
				for _, ref := range list {
					addBackendRef(ref, namespace, childGRPC, into)
				}
			}
			collectBackendRefs(child, namespace, childGRPC, into)
		}
	case []any:
		for _, child := range v {
			collectBackendRefs(child, namespace, grpc, into)
		}
	}
}

// addBackendRef records ref when it names a core Service with a port.
func addBackendRef(ref any, namespace string, grpc bool, into map[Ref]*servicePorts) {
	m, ok := ref.(map[string]any)
	if !ok || str(m, "group") != "" || orDefault(str(m, "kind"), "Service") != "Service" {
		return
	}
	port, ok := intAt(m, "port")
	if !ok || str(m, "name") == "" {
		return
	}
	key := Ref{Kind: "Service", Namespace: orDefault(str(m, "namespace"), namespace), Name: str(m, "name")}
	sp := into[key]
	if sp == nil {
		sp = &servicePorts{ports: map[int]bool{}}
		into[key] = sp
	}
	sp.ports[port] = true
	sp.grpc = sp.grpc || grpc
}

// clusterIP returns the i-th fixture address in 10.96.0.0/16.
func clusterIP(i int) string {
	return fmt.Sprintf("10.96.%d.%d", 1+i/250, 10+i%250)
}

// serviceObject renders a ClusterIP Service selecting app=<name>, with one
// port per referenced port named after its protocol (Istio's convention).
func serviceObject(ref Ref, sp *servicePorts, ip string) Object {
	protocol := "http"
	if sp.grpc {
		protocol = "grpc"
	}
	numbers := make([]int, 0, len(sp.ports))
	for p := range sp.ports {
		numbers = append(numbers, p)
	}
	slices.Sort(numbers)
	ports := make([]any, 0, len(numbers))
	for _, p := range numbers {
		ports = append(ports, map[string]any{
			"name":       protocol + "-" + strconv.Itoa(p),
			"port":       p,
			"targetPort": p,
			"protocol":   "TCP",
		})
	}
	return Object{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   metadata(ref, map[string]any{"app": ref.Name}),
		"spec": map[string]any{
			"type":      "ClusterIP",
			"clusterIP": ip,
			"selector":  map[string]any{"app": ref.Name},
			"ports":     ports,
		},
	}
}

// metadata renders metadata for a fixture, marked as one.
func metadata(ref Ref, labels map[string]any) map[string]any {
	if labels == nil {
		labels = map[string]any{}
	}
	labels["egmc.dev/conformance-fixture"] = "true"
	return map[string]any{"name": ref.Name, "namespace": ref.Namespace, "labels": labels}
}

// oidcSecretFixtures builds an Opaque Secret with a client-secret for
// every OIDC clientSecret of a SecurityPolicy.
func oidcSecretFixtures(objs []Object) []Object {
	var out []Object
	for _, sp := range objs {
		if !sp.Is(envoyGatewayGroup, "SecurityPolicy") {
			continue
		}
		ref := mapAt(sp.Spec(), "oidc", "clientSecret")
		if ref == nil || str(ref, "name") == "" {
			continue
		}
		key := Ref{Kind: "Secret", Namespace: orDefault(str(ref, "namespace"), sp.Namespace()), Name: str(ref, "name")}
		out = append(out, Object{
			"apiVersion": "v1",
			"kind":       "Secret",
			"metadata":   metadata(key, nil),
			"type":       "Opaque",
			"data":       map[string]any{"client-secret": base64.StdEncoding.EncodeToString([]byte("conformance-fixture"))},
		})
	}
	return out
}

// tlsSecretFixtures builds a kubernetes.io/tls Secret for every Gateway
// listener certificateRef, valid for the hostnames of the listeners using it.
func tlsSecretFixtures(objs []Object) ([]Object, error) {
	hosts := map[Ref][]string{}
	var order []Ref
	for _, gw := range objs {
		if !gw.Is(gatewayAPIGroup, "Gateway") {
			continue
		}
		for _, l := range maps(gw.Spec(), "listeners") {
			for _, ref := range maps(l, "tls", "certificateRefs") {
				if str(ref, "group") != "" || orDefault(str(ref, "kind"), "Secret") != "Secret" {
					continue
				}
				key := Ref{Kind: "Secret", Namespace: orDefault(str(ref, "namespace"), gw.Namespace()), Name: str(ref, "name")}
				if _, seen := hosts[key]; !seen {
					order = append(order, key)
				}
				hosts[key] = append(hosts[key], orDefault(str(l, "hostname"), "example.com"))
			}
		}
	}
	out := make([]Object, 0, len(order))
	for _, ref := range order {
		certPEM, keyPEM, err := selfSignedCert(hosts[ref], false)
		if err != nil {
			return nil, err
		}
		out = append(out, Object{
			"apiVersion": "v1",
			"kind":       "Secret",
			"metadata":   metadata(ref, nil),
			"type":       "kubernetes.io/tls",
			"data": map[string]any{
				"tls.crt": base64.StdEncoding.EncodeToString(certPEM),
				"tls.key": base64.StdEncoding.EncodeToString(keyPEM),
			},
		})
	}
	return out, nil
}

// caFixtures builds a ConfigMap (or an Opaque Secret) holding ca.crt for
// every caCertificateRefs entry of a Gateway API or Envoy Gateway object.
func caFixtures(objs []Object) ([]Object, error) {
	refs := map[Ref]bool{}
	var order []Ref
	for _, o := range objs {
		if o.Group() != gatewayAPIGroup && o.Group() != envoyGatewayGroup {
			continue
		}
		for _, ref := range findCARefs(o.Spec(), o.Namespace()) {
			if !refs[ref] {
				refs[ref] = true
				order = append(order, ref)
			}
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	caPEM, _, err := selfSignedCert([]string{"egmc-conformance-ca"}, true)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(order))
	for _, ref := range order {
		obj := Object{"apiVersion": "v1", "kind": ref.Kind, "metadata": metadata(ref, nil)}
		if ref.Kind == "Secret" {
			obj["type"] = "Opaque"
			obj["data"] = map[string]any{"ca.crt": base64.StdEncoding.EncodeToString(caPEM)}
		} else {
			obj["data"] = map[string]any{"ca.crt": string(caPEM)}
		}
		out = append(out, obj)
	}
	return out, nil
}

// findCARefs returns the ConfigMaps and Secrets named by caCertificateRefs
// lists anywhere under v.
func findCARefs(v any, namespace string) []Ref {
	var out []Ref
	switch v := v.(type) {
	case map[string]any:
		for key, child := range v {
			if key == "caCertificateRefs" {
				list, _ := child.([]any)
				for _, e := range list {
					m, _ := e.(map[string]any)
					kind := orDefault(str(m, "kind"), "ConfigMap")
					if str(m, "group") == "" && (kind == "ConfigMap" || kind == "Secret") && str(m, "name") != "" {
						out = append(out, Ref{Kind: kind, Namespace: orDefault(str(m, "namespace"), namespace), Name: str(m, "name")})
					}
				}
			}
			out = append(out, findCARefs(child, namespace)...)
		}
	case []any:
		for _, child := range v {
			out = append(out, findCARefs(child, namespace)...)
		}
	}
	return out
}

// selfSignedCert returns a PEM certificate and PKCS#8 key, self-signed with a
// fresh ECDSA P-256 key, valid for dnsNames (the first is the common name).
func selfSignedCert(dnsNames []string, isCA bool) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: dnsNames[0], Organization: []string{"egmc conformance"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if isCA {
		tmpl.IsCA = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	} else {
		tmpl.DNSNames = slices.Compact(slices.Sorted(slices.Values(dnsNames)))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
