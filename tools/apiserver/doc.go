// Package apiserver applies egmc's output to a real kube-apiserver, in
// process, and checks what schemas and translators cannot: that each phase
// applies on what the earlier ones created, that a second apply changes
// nothing, that every object reads back as it was sent, and that two
// intents of one cluster apply side by side without a field-manager
// conflict.
//
// The server is Kubernetes' own (k8s.io/kubernetes/cmd/kube-apiserver, the
// test server its integration tests use) on an etcd embedded in the test
// process, with the CRDs of the pinned upstream releases
// (compiler/validate/schemas/upstream.json) installed from the Go module
// cache. Each example is built with `egmc build -o` and its phase files
// are applied one by one, in order, by server-side apply under the field
// manager the runbook uses (egmc-<intent name>), without --force-conflicts.
//
// It is a module of its own: k8s.io/kubernetes pins Kubernetes versions
// that neither egmc nor the Istio-pinned conformance module can take.
package apiserver
