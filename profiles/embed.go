// Package profiles holds the CUE profiles: what egmc generates for each
// mesh integration.
//
// Each profile is one CUE package in its own directory (istio-sidecar,
// istio-ambient, cilium, none). A profile declares:
//   - `#Env` (common.#Env): the facts it reads from the intent without its
//     routes;
//   - `#RouteGen` (from common.#RouteGen): one route's objects, the items
//     of the groups it joins and its notes;
//   - optionally `#Reduce.<group>`: the objects of one key of a group over
//     all routes (istio-sidecar: a ServiceEntry and a VirtualService per
//     hostname);
//   - `#Facts` (common.#Facts): what the routes contribute to the whole;
//   - and, from its `model` (#Env and #Facts), `out`: the objects that do
//     not belong to one route, the Helm values files, the runbook and the
//     explanation.
//
// The parts profiles share live in common (the model, Envoy Gateway
// objects, namespaces, ordering, runbook skeleton) and istio (objects both
// Istio modes emit). Go code never decides what to emit: it loads these
// packages, evaluates them in that order, and orders and prints the
// objects.
package profiles

import "embed"

// FS holds the profiles' CUE files, one directory per CUE package.
//
//go:embed */*.cue
var FS embed.FS
