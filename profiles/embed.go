// Package profiles holds the CUE profiles: what egmc generates for each
// mesh integration.
//
// Each profile is one CUE package in its own directory (istio-sidecar,
// istio-ambient, cilium, none). A profile reads the resolved intent from
// its `intent` field and fills `out`: the objects of every apply phase, the
// Helm values files and the runbook. The parts profiles share live in
// common (Envoy Gateway objects, namespaces, ordering, runbook skeleton) and
// istio (objects both Istio modes emit). Go code never decides what to
// emit: it loads these packages, fills `intent`, and orders and prints
// `out`.
package profiles

import "embed"

// FS holds the profiles' CUE files, one directory per CUE package.
//
//go:embed */*.cue
var FS embed.FS
