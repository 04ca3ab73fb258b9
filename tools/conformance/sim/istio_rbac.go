package sim

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacpb "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbachttp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	rbactcp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"istio.io/istio/pkg/wellknown"
)

// This file evaluates the Envoy RBAC filters Istio generated from the
// stream's AuthorizationPolicies (pilot/pkg/security/authz builds them into
// the backend sidecar's inbound filter chain). The policies are Istio's;
// the evaluation is this package's model of Envoy's RBAC filter
// (config.rbac.v3: ALLOW admits when a policy matches, DENY refuses when
// one matches, LOG is ignored; a policy matches when one permission and
// one principal match), covering the matchers Istio emits for L4 and
// simple HTTP rules. A matcher it does not model is an error, never a
// guess.

// rbacInput is what an RBAC filter sees of a connection and request.
type rbacInput struct {
	// principal is the peer's URI SAN (spiffe://...), empty without
	// mTLS.
	principal    string
	srcIP, dstIP string
	dstPort      int
	sni          string
	// req is the HTTP request, nil for an RBAC filter on TCP.
	req *httpRequest
}

// rbacFilter is one RBAC filter of a filter chain.
type rbacFilter struct {
	rules *rbacpb.RBAC
}

// chainRBAC returns the RBAC filters of a filter chain in the order Envoy
// runs them: network filters first, then the HTTP filters of its HCM.
func chainRBAC(fc *listener.FilterChain) ([]rbacFilter, error) {
	var out []rbacFilter
	for _, f := range fc.GetFilters() {
		if f.GetName() != wellknown.RoleBasedAccessControl {
			continue
		}
		cfg := &rbactcp.RBAC{}
		if err := f.GetTypedConfig().UnmarshalTo(cfg); err != nil {
			return nil, err
		}
		if cfg.GetMatcher() != nil {
			return nil, fmt.Errorf("RBAC matcher trees are not simulated")
		}
		if cfg.GetRules() != nil {
			out = append(out, rbacFilter{rules: cfg.GetRules()})
		}
	}
	h, err := chainHCM(fc)
	if err != nil || h == nil {
		return out, err
	}
	for _, f := range h.GetHttpFilters() {
		if f.GetName() != wellknown.HTTPRoleBasedAccessControl {
			continue
		}
		cfg := &rbachttp.RBAC{}
		if err := f.GetTypedConfig().UnmarshalTo(cfg); err != nil {
			return nil, err
		}
		if cfg.GetMatcher() != nil {
			return nil, fmt.Errorf("RBAC matcher trees are not simulated")
		}
		if cfg.GetRules() != nil {
			out = append(out, rbacFilter{rules: cfg.GetRules()})
		}
	}
	return out, nil
}

// authzDecision is the outcome of the RBAC filters of a chain.
type authzDecision struct {
	// allowedBy names the ALLOW policy that admitted the request, empty
	// when no ALLOW filter ran.
	allowedBy string
	// denied says why the request was refused, empty when admitted.
	denied string
}

// authorize runs the RBAC filters in order.
func authorize(filters []rbacFilter, in rbacInput) (authzDecision, error) {
	var d authzDecision
	for _, f := range filters {
		matched, err := matchingPolicy(f.rules, in)
		if err != nil {
			return d, err
		}
		switch f.rules.GetAction() {
		case rbacpb.RBAC_ALLOW:
			if matched == "" {
				d.denied = fmt.Sprintf("403 RBAC: no ALLOW policy matches (policies: %s)", policyList(f.rules))
				return d, nil
			}
			d.allowedBy = matched
		case rbacpb.RBAC_DENY:
			if matched != "" {
				d.denied = "403 RBAC: denied by " + authzPolicyName(matched)
				return d, nil
			}
		}
	}
	return d, nil
}

// matchingPolicy returns the first policy (by name) that matches, or "".
func matchingPolicy(rules *rbacpb.RBAC, in rbacInput) (string, error) {
	names := make([]string, 0, len(rules.GetPolicies()))
	for name := range rules.GetPolicies() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ok, err := policyMatches(rules.GetPolicies()[name], in)
		if err != nil {
			return "", fmt.Errorf("policy %s: %w", name, err)
		}
		if ok {
			return name, nil
		}
	}
	return "", nil
}

// policyList names the policies of an RBAC filter.
func policyList(rules *rbacpb.RBAC) string {
	var names []string
	for name := range rules.GetPolicies() {
		names = append(names, authzPolicyName(name))
	}
	if len(names) == 0 {
		return "none: allow nothing"
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}

var istioPolicyName = regexp.MustCompile(`^ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[\d+\]$`)

// authzPolicyName turns Istio's RBAC policy name
// "ns[<ns>]-policy[<name>]-rule[<n>]" into "AuthorizationPolicy <ns>/<name>".
func authzPolicyName(rbacName string) string {
	if m := istioPolicyName.FindStringSubmatch(rbacName); m != nil {
		return "AuthorizationPolicy " + m[1] + "/" + m[2]
	}
	return rbacName
}

// policyMatches tells whether one permission and one principal match.
func policyMatches(p *rbacpb.Policy, in rbacInput) (bool, error) {
	perm, err := anyPermission(p.GetPermissions(), in)
	if err != nil || !perm {
		return false, err
	}
	return anyPrincipal(p.GetPrincipals(), in)
}

// anyOf tells whether match accepts one of xs (an RBAC or list).
func anyOf[T any](xs []T, match func(T) (bool, error)) (bool, error) {
	for _, x := range xs {
		ok, err := match(x)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// allOf tells whether match accepts every one of xs (an RBAC and list).
func allOf[T any](xs []T, match func(T) (bool, error)) (bool, error) {
	for _, x := range xs {
		ok, err := match(x)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// anyPermission tells whether one of ps matches.
func anyPermission(ps []*rbacpb.Permission, in rbacInput) (bool, error) {
	return anyOf(ps, func(p *rbacpb.Permission) (bool, error) { return permissionMatches(p, in) })
}

// permissionMatches evaluates one permission.
func permissionMatches(p *rbacpb.Permission, in rbacInput) (bool, error) {
	switch r := p.GetRule().(type) {
	case *rbacpb.Permission_Any:
		return r.Any, nil
	case *rbacpb.Permission_AndRules:
		return allOf(r.AndRules.GetRules(), func(p *rbacpb.Permission) (bool, error) { return permissionMatches(p, in) })
	case *rbacpb.Permission_OrRules:
		return anyPermission(r.OrRules.GetRules(), in)
	case *rbacpb.Permission_NotRule:
		ok, err := permissionMatches(r.NotRule, in)
		return !ok, err
	case *rbacpb.Permission_DestinationPort:
		return int(r.DestinationPort) == in.dstPort, nil
	case *rbacpb.Permission_DestinationPortRange:
		return int32(in.dstPort) >= r.DestinationPortRange.GetStart() && int32(in.dstPort) < r.DestinationPortRange.GetEnd(), nil
	case *rbacpb.Permission_DestinationIp:
		return cidrContains(r.DestinationIp, in.dstIP)
	case *rbacpb.Permission_RequestedServerName:
		return stringMatches(r.RequestedServerName, in.sni)
	case *rbacpb.Permission_Header:
		if in.req == nil {
			return false, nil
		}
		return headerMatches(r.Header, *in.req)
	case *rbacpb.Permission_UrlPath:
		if in.req == nil {
			return false, nil
		}
		return stringMatches(r.UrlPath.GetPath(), in.req.pathOnly())
	}
	return false, fmt.Errorf("RBAC permission %T is not simulated", p.GetRule())
}

// anyPrincipal tells whether one of ps matches.
func anyPrincipal(ps []*rbacpb.Principal, in rbacInput) (bool, error) {
	return anyOf(ps, func(p *rbacpb.Principal) (bool, error) { return principalMatches(p, in) })
}

// principalMatches evaluates one principal.
func principalMatches(p *rbacpb.Principal, in rbacInput) (bool, error) {
	switch id := p.GetIdentifier().(type) {
	case *rbacpb.Principal_Any:
		return id.Any, nil
	case *rbacpb.Principal_AndIds:
		return allOf(id.AndIds.GetIds(), func(p *rbacpb.Principal) (bool, error) { return principalMatches(p, in) })
	case *rbacpb.Principal_OrIds:
		return anyPrincipal(id.OrIds.GetIds(), in)
	case *rbacpb.Principal_NotId:
		ok, err := principalMatches(id.NotId, in)
		return !ok, err
	case *rbacpb.Principal_Authenticated_:
		if in.principal == "" {
			return false, nil
		}
		if id.Authenticated.GetPrincipalName() == nil {
			return true, nil
		}
		return stringMatches(id.Authenticated.GetPrincipalName(), in.principal)
	case *rbacpb.Principal_FilterState:
		return filterStateMatches(id.FilterState.GetKey(), id.FilterState.GetStringMatch(), in)
	case *rbacpb.Principal_DirectRemoteIp:
		return cidrContains(id.DirectRemoteIp, in.srcIP)
	case *rbacpb.Principal_RemoteIp:
		return cidrContains(id.RemoteIp, in.srcIP)
	case *rbacpb.Principal_SourceIp:
		return cidrContains(id.SourceIp, in.srcIP)
	case *rbacpb.Principal_Header:
		if in.req == nil {
			return false, nil
		}
		return headerMatches(id.Header, *in.req)
	}
	return false, fmt.Errorf("RBAC principal %T is not simulated", p.GetIdentifier())
}

// filterStateMatches evaluates the filter state Istio's peer metadata
// filters set: io.istio.peer_principal holds the peer's URI SAN.
func filterStateMatches(key string, m *matcher.StringMatcher, in rbacInput) (bool, error) {
	if m == nil || key != "io.istio.peer_principal" {
		return false, fmt.Errorf("RBAC filter state %q is not simulated", key)
	}
	if in.principal == "" {
		return false, nil
	}
	return stringMatches(m, in.principal)
}

// cidrContains tells whether ip is in the CIDR range.
func cidrContains(r *core.CidrRange, ip string) (bool, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false, nil
	}
	prefix, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
	if err != nil {
		return false, fmt.Errorf("CIDR %s: %w", r.GetAddressPrefix(), err)
	}
	return prefix.Contains(a), nil
}
