package sim

import (
	"fmt"
	"slices"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Istio's SDS resources: the workload certificate and the mesh's root CA,
// as Istio's agent serves them on its workload socket.
const (
	sdsWorkloadCert = "default"
	sdsRootCA       = "ROOTCA"
	// workloadSocketVolume and workloadSocketDir: the volume of Istio's
	// injection templates where the agent serves SDS, and where it is
	// mounted.
	workloadSocketVolume = "workload-socket"
	workloadSocketDir    = "/var/run/secrets/workload-spiffe-uds"
)

// GatewayTLS is the TLS the gateway's Envoy opens to an upstream, read from
// the cluster's transport socket.
type GatewayTLS struct {
	// Kind is none, tls or istio-mtls: istio-mtls when the client
	// certificate is Istio's workload certificate, fetched over SDS.
	Kind string
	// ALPN is the protocols the gateway offers.
	ALPN []string
	// URISANs are the URI SANs the gateway accepts in the upstream's
	// certificate (exact matches); empty when it checks none.
	URISANs []string
	// SDSSockets are the unix socket paths the gateway fetches its SDS
	// secrets from: the cluster does not warm until they answer.
	SDSSockets []string
}

// clusterUpstreamTLS reads the TLS of a cluster of EG's: its transport
// socket, or the first transport socket match with a TLS context (EG
// attaches the real one as a match and a placeholder as the socket).
func clusterUpstreamTLS(c *cluster.Cluster, clusters map[string]*cluster.Cluster) (GatewayTLS, error) {
	ctx, err := upstreamTLSContext(c)
	if err != nil || ctx == nil {
		return GatewayTLS{Kind: TLSNone}, err
	}
	common := ctx.GetCommonTlsContext()
	t := GatewayTLS{Kind: TLSSimple, ALPN: common.GetAlpnProtocols()}
	sds := map[string]bool{}
	addSDS := func(cfg *tlsv3.SdsSecretConfig) {
		for _, g := range cfg.GetSdsConfig().GetApiConfigSource().GetGrpcServices() {
			for _, p := range pipePaths(clusters[g.GetEnvoyGrpc().GetClusterName()]) {
				if !sds[p] {
					sds[p] = true
					t.SDSSockets = append(t.SDSSockets, p)
				}
			}
		}
	}
	for _, cfg := range common.GetTlsCertificateSdsSecretConfigs() {
		addSDS(cfg)
		if cfg.GetName() == sdsWorkloadCert {
			t.Kind = TLSIstioMTLS
		}
	}
	validation := common.GetCombinedValidationContext()
	addSDS(validation.GetValidationContextSdsSecretConfig())
	for _, m := range validation.GetDefaultValidationContext().GetMatchTypedSubjectAltNames() {
		if m.GetSanType() == tlsv3.SubjectAltNameMatcher_URI {
			t.URISANs = append(t.URISANs, m.GetMatcher().GetExact())
		}
	}
	if t.Kind == TLSIstioMTLS && validation.GetValidationContextSdsSecretConfig().GetName() != sdsRootCA {
		return t, fmt.Errorf("cluster %s presents Istio's workload certificate but does not trust the mesh's root CA (SDS %s)", c.GetName(), sdsRootCA)
	}
	return t, nil
}

// upstreamTLSContext returns the cluster's TLS context, or nil.
func upstreamTLSContext(c *cluster.Cluster) (*tlsv3.UpstreamTlsContext, error) {
	sockets := []*core.TransportSocket{}
	for _, m := range c.GetTransportSocketMatches() {
		sockets = append(sockets, m.GetTransportSocket())
	}
	sockets = append(sockets, c.GetTransportSocket())
	for _, ts := range sockets {
		ctx := &tlsv3.UpstreamTlsContext{}
		if ts.GetTypedConfig() == nil || !ts.GetTypedConfig().MessageIs(ctx) {
			continue
		}
		if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
			return nil, err
		}
		if ctx.GetCommonTlsContext() != nil && (len(ctx.GetCommonTlsContext().GetAlpnProtocols()) > 0 ||
			ctx.GetCommonTlsContext().GetValidationContextType() != nil ||
			len(ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()) > 0 || ctx.GetSni() != "") {
			return ctx, nil
		}
	}
	return nil, nil
}

// pipePaths lists the unix socket paths of a cluster's static endpoints.
func pipePaths(c *cluster.Cluster) []string {
	var out []string
	for _, lle := range c.GetLoadAssignment().GetEndpoints() {
		for _, ep := range lle.GetLbEndpoints() {
			if p := ep.GetEndpoint().GetAddress().GetPipe().GetPath(); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// sdsServed checks, for a mesh that carries u, that something in the
// gateway's pod serves the SDS sockets u's TLS needs: until they answer,
// Envoy keeps the cluster warming and answers 503.
func sdsServed(u Upstream, served []string) string {
	for _, p := range u.SDSSockets {
		if !slices.Contains(served, p) {
			return fmt.Sprintf("the gateway: 503 (its cluster waits for SDS secrets from unix socket %s, which nothing in the gateway's pod serves: the EG proxy needs Istio's agent (gateway injection template) and the socket's volume mounted)", p)
		}
	}
	return ""
}
