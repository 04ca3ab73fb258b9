// Package profiles holds the CUE profiles: what egmc generates for each
// mesh integration.
//
// Each profile is one CUE package in its own directory (istio-sidecar,
// istio-ambient, cilium, none). A profile declares `#Model` (common.#Model,
// the facts it reads from a resolved intent), reads that model from its
// `model` field and fills `out`: the objects of every apply phase, the
// Helm values files, the runbook and the explanation. The parts profiles
// share live in common (the model, Envoy Gateway objects, namespaces,
// ordering, runbook skeleton) and istio (objects both Istio modes emit).
// Go code never decides what to emit: it loads these packages, evaluates
// `#Model` of the intent, fills it into `model`, and orders and prints
// `out`.
package profiles

import "embed"

// FS holds the profiles' CUE files, one directory per CUE package.
//
//go:embed */*.cue
var FS embed.FS
