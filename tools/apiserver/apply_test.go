package apiserver

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"
)

var (
	// egmcBin is the egmc binary TestMain builds from this repository.
	egmcBin string
	// crds are the pinned upstream CRDs, read once.
	crds []*apiextensionsv1.CustomResourceDefinition
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds egmc and reads the CRDs, then runs the tests. The servers'
// own logs (klog, to stderr by default) are dropped: a failing test says
// what the server refused.
func run(m *testing.M) int {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	dir, err := os.MkdirTemp("", "egmc-apiserver")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if egmcBin, err = buildEgmc(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if crds, err = pinnedCRDs(); err != nil {
		fmt.Fprintln(os.Stderr, "pinned CRDs:", err)
		return 1
	}
	return m.Run()
}

// built is one example built with `egmc build -o`.
type built struct {
	name string
	dir  string
	// commands are its runbook's shell lines; manager is the field
	// manager its apply commands use.
	commands []command
	manager  string
}

// build runs egmc build -o on an example and reads its runbook, whose
// apply commands must apply every phase file once, in the files' order,
// under one field manager.
func build(t *testing.T, example string) built {
	t.Helper()
	intents, _ := filepath.Glob(filepath.Join(repoRoot, "examples", example, "intent.*"))
	if len(intents) != 1 {
		t.Fatalf("example %s: want one intent file, found %v", example, intents)
	}
	dir := t.TempDir()
	if out, err := exec.Command(egmcBin, "build", "-o", dir, intents[0]).CombinedOutput(); err != nil {
		t.Fatalf("egmc build -o: %v\n%s", err, out)
	}
	b := built{name: example, dir: dir, commands: runbookCommands(t, filepath.Join(dir, "RUNBOOK.md"))}
	var files []string
	for _, c := range b.commands {
		if m := kubectlApply.FindStringSubmatch(c.text); m != nil {
			if b.manager != "" && m[1] != b.manager {
				t.Fatalf("the runbook applies as %s and as %s", b.manager, m[1])
			}
			b.manager = m[1]
			files = append(files, m[2])
		}
	}
	phases, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.yaml"))
	if len(phases) != len(files) {
		t.Fatalf("the runbook applies %d files, egmc wrote %d phase files", len(files), len(phases))
	}
	for i, p := range phases {
		if files[i] != filepath.Base(p) {
			t.Fatalf("the runbook's apply %d is of %s, the phase file in that place is %s", i+1, files[i], filepath.Base(p))
		}
	}
	return b
}

// applied is an object as sent and its resourceVersion after the apply.
type applied struct {
	sent            *unstructured.Unstructured
	resourceVersion string
	manager         string
}

// checkReadBack reads every object back and requires it to hold all that
// was sent.
func checkReadBack(t *testing.T, c *cluster, objs []applied) {
	t.Helper()
	for _, a := range objs {
		live, err := c.get(a.sent)
		if err != nil {
			t.Errorf("%s: read back: %v", name(a.sent), err)
			continue
		}
		for _, d := range differences(a.sent.Object, live.Object, "") {
			t.Errorf("%s: %s", name(a.sent), d)
		}
	}
}

// examples lists the example directories.
func examples(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "intent.*"))
	if len(dirs) == 0 {
		t.Fatal("no examples")
	}
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Base(filepath.Dir(d)))
	}
	return out
}

// TestExamplesApply runs each example's runbook on a fresh kube-apiserver
// with the pinned CRDs (runRunbook): every object must apply on what the
// earlier steps created, read back holding all
// that was sent (no field dropped or changed), and applying it again must
// change nothing (checkReapply).
func TestExamplesApply(t *testing.T) {
	startEtcd(t)
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			b := build(t, ex)
			c := startCluster(t, crds)
			objs, err := runRunbook(t, c, b)
			if err != nil {
				t.Fatal(err)
			}
			checkReadBack(t, c, objs)
			for _, a := range objs {
				checkReapply(t, c, a)
			}
		})
	}
}

// sharedCluster is two examples in one cluster, and the conflict the
// server must report when the second is applied ("" for none).
type sharedCluster struct {
	first, second string
	conflict      string
}

// sharedClusters are examples that may run in one cluster (Gateways of
// their own in the default class, sharing the class, namespaces or both),
// and one pair that may not: two ambient intents that both share tracing
// with the mesh write the one mesh-wide Telemetry, with other collectors;
// server-side apply refuses the second instead of letting it overwrite
// the first's (the runbook says so in its limitations).
var sharedClusters = []sharedCluster{
	{first: "istio-sidecar-edge-auth", second: "istio-sidecar-gateway-sds"},
	{first: "istio-sidecar-mesh-resilience", second: "istio-sidecar-grpc-listeners"},
	{first: "istio-sidecar-https", second: "istio-sidecar-gateway-outside-mesh"},
	{first: "cilium-bgp-network-policy", second: "cilium-l2-backend-tls"},
	{first: "istio-ambient-authorization", second: "istio-ambient-shared-observability",
		conflict: `Telemetry istio-system/mesh-default: the server refuses it: Apply failed with 1 conflict: conflict with "egmc-media": .spec.tracing`},
}

// TestSideBySide runs the runbooks of two intents of one cluster, each
// under its own field manager and without forcing conflicts: the second
// must apply without a conflict (or with exactly the one expected), and
// every object of the first must still hold what the first sent.
func TestSideBySide(t *testing.T) {
	startEtcd(t)
	for _, sc := range sharedClusters {
		t.Run(sc.first+"+"+sc.second, func(t *testing.T) {
			first, second := build(t, sc.first), build(t, sc.second)
			if first.manager == second.manager {
				t.Fatalf("both intents apply as %s", first.manager)
			}
			c := startCluster(t, crds)
			objs, err := runRunbook(t, c, first)
			if err != nil {
				t.Fatal(err)
			}
			_, err = runRunbook(t, c, second)
			switch {
			case sc.conflict == "" && err != nil:
				t.Errorf("the second intent does not apply beside the first: %v", err)
			case sc.conflict != "" && (err == nil || !strings.Contains(err.Error(), sc.conflict)):
				t.Errorf("want the conflict %q, got %v", sc.conflict, err)
			}
			checkReadBack(t, c, objs)
		})
	}
}

// checkReapply applies an applied object again: what the server holds
// must not change (metadata.resourceVersion and the managed fields' times
// aside), and a third apply must not even write. The second apply may
// write once: the server stores the defaults of a CRD's schema (Gateway
// API's status conditions) only when it next writes the object, with the
// same content as it served before.
func checkReapply(t *testing.T, c *cluster, a applied) {
	t.Helper()
	before, err := c.get(a.sent)
	if err != nil {
		t.Errorf("%s: read back: %v", name(a.sent), err)
		return
	}
	second, err := c.apply(a.sent, a.manager)
	if err != nil {
		t.Errorf("%s: second apply: %v", name(a.sent), err)
		return
	}
	if d := cmp.Diff(content(before), content(second)); d != "" {
		t.Errorf("%s: a second apply changed it (-before +after):\n%s", name(a.sent), d)
	}
	third, err := c.apply(a.sent, a.manager)
	if err != nil {
		t.Errorf("%s: third apply: %v", name(a.sent), err)
		return
	}
	if third.GetResourceVersion() != second.GetResourceVersion() {
		t.Errorf("%s: every apply writes it (resourceVersion %s -> %s)", name(a.sent), second.GetResourceVersion(), third.GetResourceVersion())
	}
}

// content is what an object holds for its readers: the object without
// its resourceVersion and the times in its managed fields.
func content(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy()
	c.SetResourceVersion("")
	mf := c.GetManagedFields()
	for i := range mf {
		mf[i].Time = nil
	}
	c.SetManagedFields(mf)
	return c.Object
}
