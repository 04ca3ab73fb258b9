package apiserver

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// command is one shell line of a runbook's code blocks.
type command struct {
	// section is the runbook section ("1. Assess the cluster", ...).
	section string
	line    int
	text    string
}

// runbookCommands reads the shell lines of a runbook's code blocks, in
// order.
func runbookCommands(t *testing.T, path string) []command {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []command
	section, inCode := "", false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case strings.HasPrefix(line, "```"):
			inCode = !inCode && line == "```sh"
		case inCode && line != "":
			out = append(out, command{section: section, line: n, text: line})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Runbook commands the runner carries out; the others (reads, restarts,
// patches of what Helm installs, istioctl, curl) are stubbed: they need
// running workloads, not objects. Patches and restarts are still checked
// for order: after the Helm release, in a namespace that exists.
var (
	helmInstall     = regexp.MustCompile(`^helm upgrade (?:--install )?\S+ \S+ .*-n (\S+)`)
	kubectlApply    = regexp.MustCompile(`^kubectl apply --server-side --field-manager (\S+) -f (\S+)$`)
	kubectlCreate   = regexp.MustCompile(`^kubectl create (configmap|secret generic) (\S+) -n (\S+) .*\| kubectl apply -f -$`)
	kubectlLabelDel = regexp.MustCompile(`^kubectl label namespace (\S+) (\S+)-$`)
	getNamespace    = regexp.MustCompile(`^kubectl get namespace (\S+)$`)
	// commands on what a Helm release installed (Envoy Gateway's own
	// Deployment and Service) or on the workloads of a namespace: they
	// are stubbed, but must come after what they need.
	kubectlPatch   = regexp.MustCompile(`^kubectl patch \S+ -n (\S+) `)
	kubectlRollout = regexp.MustCompile(`kubectl rollout restart deployment -n (\S+)`)
	// a release installed by its vendor's own instructions (TEG), which
	// the runbook checks with helm list after its install step
	helmList = regexp.MustCompile(`^helm list -n (\S+)$`)
)

// preinstalled returns the namespaces the cluster holds before the
// runbook starts: the Istio namespace when the runbook checks an Istio
// installation (its assessment runs `kubectl get namespace <ns>` and then
// `istioctl version`) and does not install Istio itself (mesh.state
// installed or migrate).
func preinstalled(cmds []command) []string {
	installsIstio := false
	for _, c := range cmds {
		installsIstio = installsIstio || strings.HasPrefix(c.text, "helm upgrade --install istio-base ")
	}
	var out []string
	for i, c := range cmds {
		m := getNamespace.FindStringSubmatch(c.text)
		if m != nil && !installsIstio && strings.HasPrefix(c.section, "1.") && i+1 < len(cmds) && cmds[i+1].text == "istioctl version" {
			out = append(out, m[1])
		}
	}
	return out
}

// runRunbook carries out b's runbook, in order, on c: Helm installs
// create their namespace when the command says --create-namespace (and
// otherwise need it to exist), each phase file is applied by server-side
// apply under the runbook's field manager, the ConfigMaps and Secrets it
// creates are created (with stand-in data) where it says, the labels it
// removes are removed, patches of what Helm installs come after the Helm
// release, and restarts name a namespace that exists. A command that needs
// what a later one creates fails the test; an object the server refuses ends the run with the
// refusal. It returns the objects of the phase files as applied.
func runRunbook(t *testing.T, c *cluster, b built) ([]applied, error) {
	t.Helper()
	for _, ns := range preinstalled(b.commands) {
		mustApply(t, c, namespace(ns), "preinstalled")
	}
	var out []applied
	helmInstalled := map[string]bool{}
	for _, cmd := range b.commands {
		where := fmt.Sprintf("%s: RUNBOOK.md:%d: %s", b.name, cmd.line, cmd.text)
		switch {
		case strings.HasPrefix(cmd.section, "1."):
			// the assessment only reads
		case kubectlApply.MatchString(cmd.text):
			m := kubectlApply.FindStringSubmatch(cmd.text)
			objs, err := applyFile(c, b, m[1], m[2])
			out = append(out, objs...)
			if err != nil {
				return out, err
			}
		case helmInstall.MatchString(cmd.text):
			ns := helmInstall.FindStringSubmatch(cmd.text)[1]
			helmInstalled[ns] = true
			if strings.Contains(cmd.text, " --create-namespace") {
				mustApply(t, c, namespace(ns), "helm")
			} else if _, err := c.get(namespace(ns)); err != nil {
				t.Fatalf("%s: Helm installs into namespace %s, which does not exist at this point: %v", where, ns, err)
			}
		case kubectlCreate.MatchString(cmd.text):
			m := kubectlCreate.FindStringSubmatch(cmd.text)
			if _, err := c.apply(standIn(m[1], m[2], m[3]), "kubectl"); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case helmList.MatchString(cmd.text):
			// after the assessment, the step before installed a release
			// there by its vendor's instructions, which create the
			// namespace
			ns := helmList.FindStringSubmatch(cmd.text)[1]
			helmInstalled[ns] = true
			mustApply(t, c, namespace(ns), "helm")
		case kubectlPatch.MatchString(cmd.text):
			if ns := kubectlPatch.FindStringSubmatch(cmd.text)[1]; !helmInstalled[ns] {
				t.Fatalf("%s: patches what a Helm release installs in %s, and no earlier step installs one there", where, ns)
			}
		case kubectlRollout.MatchString(cmd.text):
			if _, err := c.get(namespace(kubectlRollout.FindStringSubmatch(cmd.text)[1])); err != nil {
				t.Fatalf("%s: restarts workloads of a namespace that does not exist at this point: %v", where, err)
			}
		case kubectlLabelDel.MatchString(cmd.text):
			m := kubectlLabelDel.FindStringSubmatch(cmd.text)
			ns, err := c.get(namespace(m[1]))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			labels := ns.GetLabels()
			delete(labels, m[2])
			ns.SetLabels(labels)
			if err := c.update(ns); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	}
	return out, nil
}

// applyFile applies one phase file of b as manager, object by object,
// until the server refuses one.
func applyFile(c *cluster, b built, manager, file string) ([]applied, error) {
	objs, err := readObjects(b.dir + "/" + file)
	if err != nil {
		return nil, err
	}
	var out []applied
	for _, o := range objs {
		live, err := c.apply(o, manager)
		if err != nil {
			return out, fmt.Errorf("%s: %s: %s: the server refuses it: %w", b.name, file, name(o), err)
		}
		out = append(out, applied{sent: o, resourceVersion: live.GetResourceVersion(), manager: manager})
	}
	return out, nil
}

// mustApply applies obj as manager or fails the test.
func mustApply(t *testing.T, c *cluster, obj *unstructured.Unstructured, manager string) {
	t.Helper()
	if _, err := c.apply(obj, manager); err != nil {
		t.Fatalf("%s: %v", name(obj), err)
	}
}

// namespace is a bare Namespace object.
func namespace(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name},
	}}
}

// standIn is the object a runbook's `kubectl create configmap|secret
// generic` makes, with stand-in data (the real data is the user's).
func standIn(kind, name, ns string) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": "v1", "metadata": map[string]any{"name": name, "namespace": ns}}
	if kind == "configmap" {
		o["kind"], o["data"] = "ConfigMap", map[string]any{"ca.crt": "stand-in"}
	} else {
		o["kind"], o["stringData"] = "Secret", map[string]any{"client-secret": "stand-in"}
	}
	return &unstructured.Unstructured{Object: o}
}

// TestRunbookOrderMatters runs a runbook that applies a phase before the
// phase that creates its namespace: the runner must report the server's
// refusal, so that the examples' runbooks passing means their order works.
func TestRunbookOrderMatters(t *testing.T) {
	startEtcd(t)
	dir := t.TempDir()
	files := map[string]string{
		"00-namespaces.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
		"01-mesh.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n",
		"RUNBOOK.md": "## 2. Install\n\n```sh\nkubectl apply --server-side --field-manager egmc-shop -f 01-mesh.yaml\n" +
			"kubectl apply --server-side --field-manager egmc-shop -f 00-namespaces.yaml\n```\n",
	}
	for f, content := range files {
		if err := os.WriteFile(dir+"/"+f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := built{name: "out-of-order", dir: dir, commands: runbookCommands(t, dir+"/RUNBOOK.md"), manager: "egmc-shop"}
	c := startCluster(t, crds)
	_, err := runRunbook(t, c, b)
	if err == nil || !strings.Contains(err.Error(), `01-mesh.yaml: ConfigMap shop/settings: the server refuses it: namespaces "shop" not found`) {
		t.Fatalf("want the ConfigMap refused for its missing namespace, got %v", err)
	}
}
