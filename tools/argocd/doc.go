// Package argocd tests egmc's Argo CD config management plugin
// (deploy/argocd) against the real argocd-cmp-server of the Argo CD release
// pinned in this module's go.mod.
//
// The package holds only tests. plugin_test.go builds egmc, starts the CMP
// server with deploy/argocd/plugin.yaml, and drives it over its unix socket
// with Argo CD's own gRPC client and repository streaming, as
// argocd-repo-server does. deploy_test.go checks the other files of
// deploy/argocd against Argo CD's and Kubernetes' Go types. See README.md.
package argocd
