package golden_test

import (
	"context"
	"strings"
	"testing"

	"egmc.dev/egmc/compiler"
)

// TestRunbookOrder walks the install and restart steps of every example's
// runbook in order, as on a fresh cluster, and fails when a command writes
// into a namespace that no earlier step created: a Helm install with
// --create-namespace, kubectl create namespace, or a manifest file whose
// Namespace objects it applies. Within a manifest file, a namespaced object
// needs its Namespace earlier in the same file or in an earlier step.
func TestRunbookOrder(t *testing.T) {
	for name, file := range examples(t) {
		t.Run(name, func(t *testing.T) {
			res, err := testCompiler.CompileFile(context.Background(), file, everything)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range runbookOrderProblems(res) {
				t.Error(p)
			}
		})
	}
}

// runbookOrderProblems returns each write into a namespace that does not
// exist yet when the runbook's steps run in order. Unless the runbook sets
// the mesh up from scratch, the namespaces its assessment looks for
// (kubectl get namespace) are there already.
func runbookOrderProblems(res *compiler.Result) []string {
	exists := map[string]bool{"default": true, "kube-system": true}
	var problems []string
	for _, sec := range res.Runbook.Sections {
		if sec.Title == "Install" && strings.HasPrefix(sec.Intro, "Setting up both from scratch") {
			clear(exists)
			exists["default"], exists["kube-system"] = true, true
		}
		if sec.Title == "Assess the cluster" {
			for _, st := range sec.Steps {
				for _, cmd := range st.Commands {
					if w := strings.Fields(cmd); len(w) == 4 && w[0] == "kubectl" && w[1] == "get" && w[2] == "namespace" {
						exists[w[3]] = true
					}
				}
			}
		}
		if sec.Title != "Install" && sec.Title != "Restart" {
			continue
		}
		for _, st := range sec.Steps {
			for _, cmd := range st.Commands {
				problems = append(problems, commandOrderProblems(res, cmd, exists)...)
			}
		}
	}
	return problems
}

// commandOrderProblems checks one shell line and records the namespaces
// it creates. A mesh that is already installed brings its namespace: a
// `helm upgrade` without --install names it.
func commandOrderProblems(res *compiler.Result, cmd string, exists map[string]bool) []string {
	var problems []string
	for _, part := range strings.Split(cmd, "|") {
		words := strings.Fields(part)
		ns := flagValue(words, "-n")
		switch {
		case len(words) > 1 && words[0] == "helm" && (strings.Contains(part, "--create-namespace") || !strings.Contains(part, "--install")):
			exists[ns] = true
		case len(words) > 3 && words[0] == "kubectl" && words[1] == "create" && words[2] == "namespace":
			exists[words[3]] = true
		case len(words) > 1 && words[0] == "kubectl" && words[1] == "apply" && flagValue(words, "-f") != "-":
			problems = append(problems, applyOrderProblems(res, flagValue(words, "-f"), exists)...)
		case len(words) > 1 && words[0] == "kubectl" && isWrite(words[1]) && ns != "" && !exists[ns]:
			problems = append(problems, "`"+strings.TrimSpace(part)+"` writes into namespace "+ns+", which no earlier step creates")
		}
	}
	return problems
}

// applyOrderProblems checks the objects of one phase file in order.
func applyOrderProblems(res *compiler.Result, file string, exists map[string]bool) []string {
	var problems []string
	for _, o := range res.Objects {
		if o.Phase.File != file {
			continue
		}
		if o.Group == "" && o.Kind == "Namespace" {
			exists[o.Name] = true
			continue
		}
		if o.Namespace != "" && !exists[o.Namespace] {
			problems = append(problems, file+": "+o.Kind+" "+o.Namespace+"/"+o.Name+" is applied before its namespace exists")
		}
	}
	return problems
}

// isWrite tells whether a kubectl verb changes the cluster.
func isWrite(verb string) bool {
	switch verb {
	case "create", "apply", "patch", "label", "annotate", "rollout":
		return true
	}
	return false
}

// flagValue returns the word after flag, or "".
func flagValue(words []string, flag string) string {
	for i, w := range words[:max(len(words)-1, 0)] {
		if w == flag {
			return words[i+1]
		}
	}
	return ""
}
