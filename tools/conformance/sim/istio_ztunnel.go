package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"istio.io/istio/pkg/workloadapi"
	"istio.io/istio/pkg/workloadapi/security"
)

// This file is this package's model of ztunnel's authorization (ztunnel is
// Rust; istio/ztunnel src/state.rs assert_rbac and src/rbac.rs
// Authorization::matches). The policies it evaluates are Istio's own: the
// ambient index converts AuthorizationPolicies and PeerAuthentications
// (STRICT becomes the DENY policy istio_converted_static_strict, "no
// principal") into the workload authorization xDS ztunnel receives.

// ztunnelConn is what ztunnel's authorization sees of a connection.
type ztunnelConn struct {
	srcIP, dstIP string
	dstPort      int
	// identity is the peer's SPIFFE identity (spiffe://td/ns/x/sa/y),
	// empty for plain text.
	identity string
}

// namespace returns the namespace of the identity.
func (c ztunnelConn) namespace() string {
	_, rest, ok := strings.Cut(c.identity, "/ns/")
	if !ok {
		return ""
	}
	ns, _, _ := strings.Cut(rest, "/")
	return ns
}

// serviceAccount returns the service account of the identity.
func (c ztunnelConn) serviceAccount() string {
	_, sa, _ := strings.Cut(c.identity, "/sa/")
	return sa
}

// authorize applies the policies of the destination workload the way
// ztunnel does: any matching DENY refuses; no ALLOW admits; else one
// matching ALLOW must admit. It returns the admitting ALLOW policy, or why
// the connection is refused.
func (av *ambientView) authorize(wl *workloadapi.Workload, c ztunnelConn) (allowedBy, denied string) {
	var allow, deny []*security.Authorization
	for _, key := range av.workloadPolicies(wl) {
		p := av.policies[key]
		if p == nil {
			continue
		}
		if p.GetAction() == security.Action_ALLOW {
			allow = append(allow, p)
		} else {
			deny = append(deny, p)
		}
	}
	for _, p := range deny {
		if authorizationMatches(p, c) {
			return "", "denied by " + ztunnelPolicyName(p)
		}
	}
	if len(allow) == 0 {
		return "", ""
	}
	for _, p := range allow {
		if authorizationMatches(p, c) {
			return ztunnelPolicyName(p), ""
		}
	}
	names := make([]string, 0, len(allow))
	for _, p := range allow {
		names = append(names, ztunnelPolicyName(p))
	}
	return "", fmt.Sprintf("no ALLOW policy matches port %d (%s)", c.dstPort, strings.Join(names, ", "))
}

// workloadPolicies lists the policy keys that apply to wl: its
// namespace's, the global ones, and those selecting it.
func (av *ambientView) workloadPolicies(wl *workloadapi.Workload) []string {
	keys := slices.Concat(av.byNamespace[wl.GetNamespace()], av.byNamespace[""], wl.GetAuthorizationPolicies())
	slices.Sort(keys)
	return slices.Compact(keys)
}

// ztunnelPolicyName names a policy for reports.
func ztunnelPolicyName(p *security.Authorization) string {
	switch {
	case p.GetName() == "istio_converted_static_strict":
		return "PeerAuthentication STRICT (Istio's converted policy " + p.GetNamespace() + "/" + p.GetName() + ": no mesh identity, no connection)"
	case strings.HasPrefix(p.GetName(), "converted_peer_authentication_"):
		return "PeerAuthentication " + p.GetNamespace() + "/" + strings.TrimPrefix(p.GetName(), "converted_peer_authentication_")
	}
	return "AuthorizationPolicy " + p.GetNamespace() + "/" + p.GetName()
}

// authorizationMatches is ztunnel's Authorization::matches: a policy
// matches when one group matches; a group when every rule matches; a
// rule when one of its non-empty matches matches (a rule without matches
// matches). A policy without groups matches nothing.
func authorizationMatches(p *security.Authorization, c ztunnelConn) bool {
	for _, g := range p.GetGroups() {
		if groupMatches(g, c) {
			return true
		}
	}
	return false
}

// groupMatches tells whether every rule of g matches.
func groupMatches(g *security.Group, c ztunnelConn) bool {
	for _, r := range g.GetRules() {
		if len(r.GetMatches()) == 0 {
			continue
		}
		ok := false
		for _, m := range r.GetMatches() {
			if !matchEmpty(m) && matchMatches(m, c) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchEmpty tells whether a match declares nothing.
func matchEmpty(m *security.Match) bool {
	return len(m.GetNamespaces())+len(m.GetNotNamespaces())+len(m.GetServiceAccounts())+
		len(m.GetNotServiceAccounts())+len(m.GetPrincipals())+len(m.GetNotPrincipals())+
		len(m.GetSourceIps())+len(m.GetNotSourceIps())+len(m.GetDestinationIps())+
		len(m.GetNotDestinationIps())+len(m.GetDestinationPorts())+len(m.GetNotDestinationPorts()) == 0
}

// matchMatches requires every declared kind to match: within a kind one
// positive value must match and no negative value may.
func matchMatches(m *security.Match, c ztunnelConn) bool {
	return posNeg(m.GetDestinationIps(), m.GetNotDestinationIps(), func(a *security.Address) bool { return addressContains(a, c.dstIP) }) &&
		posNeg(m.GetSourceIps(), m.GetNotSourceIps(), func(a *security.Address) bool { return addressContains(a, c.srcIP) }) &&
		posNeg(m.GetDestinationPorts(), m.GetNotDestinationPorts(), func(p uint32) bool { return int(p) == c.dstPort }) &&
		posNeg(m.GetServiceAccounts(), m.GetNotServiceAccounts(), func(sa *security.ServiceAccountMatch) bool {
			return c.identity != "" && sa.GetNamespace() == c.namespace() && sa.GetServiceAccount() == c.serviceAccount()
		}) &&
		posNeg(m.GetPrincipals(), m.GetNotPrincipals(), func(s *security.StringMatch) bool { return principalMatch(s, c.identity) }) &&
		posNeg(m.GetNamespaces(), m.GetNotNamespaces(), func(s *security.StringMatch) bool { return ztunnelStringMatch(s, c.namespace()) })
}

// posNeg is ztunnel's matches_internal.
func posNeg[T any](pos, neg []T, pred func(T) bool) bool {
	if len(pos) > 0 && !slices.ContainsFunc(pos, pred) {
		return false
	}
	return len(neg) == 0 || !slices.ContainsFunc(neg, pred)
}

// principalMatch is ztunnel's matches_principal: policies name principals
// without "spiffe://"; no identity matches nothing.
func principalMatch(s *security.StringMatch, identity string) bool {
	id, ok := strings.CutPrefix(identity, "spiffe://")
	if !ok {
		return false
	}
	return ztunnelStringMatch(s, id)
}

// ztunnelStringMatch is ztunnel's StringMatch::matches.
func ztunnelStringMatch(s *security.StringMatch, v string) bool {
	switch t := s.GetMatchType().(type) {
	case *security.StringMatch_Exact:
		return v == t.Exact
	case *security.StringMatch_Prefix:
		return strings.HasPrefix(v, t.Prefix)
	case *security.StringMatch_Suffix:
		return strings.HasSuffix(v, t.Suffix)
	case *security.StringMatch_Presence:
		return v != ""
	}
	return false
}

// addressContains tells whether ip is in the policy's address range.
func addressContains(a *security.Address, ip string) bool {
	base, ok := netip.AddrFromSlice(a.GetAddress())
	if !ok {
		return false
	}
	prefix, err := base.Prefix(int(a.GetLength()))
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(ip)
	return err == nil && prefix.Contains(addr)
}
