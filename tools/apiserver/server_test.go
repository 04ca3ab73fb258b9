package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// repoRoot is egmc's repository, from this module's directory.
const repoRoot = "../.."

// serverFlags are kube-apiserver flags for a server without controllers:
// no endpoint reconciler and no ServiceAccount admission (as Kubernetes'
// own integration tests run it), and a service range large enough for
// every Service a test creates (a /24 runs out after ~250).
var serverFlags = []string{
	"--endpoint-reconciler-type=none",
	"--disable-admission-plugins=ServiceAccount",
	"--service-cluster-ip-range=10.96.0.0/16",
}

// crdFiles are, per pinned module (compiler/validate/schemas/upstream.json
// names the versions), the CRD files a cluster running those releases
// holds: every CRD their charts install, not only the kinds egmc emits,
// since an object must apply beside them.
var crdFiles = map[string][]string{
	"github.com/envoyproxy/gateway": {
		"charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml",
		"charts/gateway-helm/charts/crds/crds/generated/*.yaml",
	},
	"istio.io/api":             {"kubernetes/customresourcedefinitions.gen.yaml"},
	"github.com/cilium/cilium": {"pkg/k8s/apis/cilium.io/client/crds/v2/*.yaml", "pkg/k8s/apis/cilium.io/client/crds/v2alpha1/*.yaml"},
}

// etcdURL is the etcd every test server of the package stores in (each
// under its own prefix); set by TestMain's first server.
var (
	etcdURL   string
	serverSeq atomic.Int64
)

// cluster is one kube-apiserver with the pinned CRDs established.
type cluster struct {
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
}

// startCluster starts a fresh kube-apiserver on the package's etcd (its
// own storage prefix: no object of another test is visible) and installs
// the pinned CRDs. The server stops when t ends.
func startCluster(t *testing.T, crds []*apiextensionsv1.CustomResourceDefinition) *cluster {
	t.Helper()
	sc := storagebackend.NewDefaultConfig(fmt.Sprintf("/egmc-%d/registry", serverSeq.Add(1)), nil)
	sc.Transport.ServerList = []string{etcdURL}
	s := kubeapiservertesting.StartTestServerOrDie(t, nil, serverFlags, sc)
	t.Cleanup(s.TearDownFn)
	cfg := rest.CopyConfig(s.ClientConfig)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling
	installCRDs(t, cfg, crds)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

// startEtcd starts the package's etcd, in process, for the life of t.
func startEtcd(t *testing.T) {
	cfg := testserver.NewTestConfig(t)
	testserver.RunEtcd(t, cfg)
	etcdURL = cfg.ListenClientUrls[0].String()
}

// installCRDs creates the CRDs and waits until each is established.
func installCRDs(t *testing.T, cfg *rest.Config, crds []*apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, crd := range crds {
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd.DeepCopy(), metav1.CreateOptions{}); err != nil {
			t.Fatalf("CRD %s: %v", crd.Name, err)
		}
	}
	for _, crd := range crds {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("CRD %s not established: %v", crd.Name, err)
		}
	}
}

// pinnedCRDs reads the CRDs of the pinned releases from the Go module
// cache (go mod download fetches a missing one).
func pinnedCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "compiler", "validate", "schemas", "upstream.json"))
	if err != nil {
		return nil, err
	}
	var pins []struct{ Module, Version string }
	if err := json.Unmarshal(data, &pins); err != nil {
		return nil, err
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, p := range pins {
		globs, ok := crdFiles[p.Module]
		if !ok {
			return nil, fmt.Errorf("upstream.json pins %s, whose CRD files crdFiles does not name", p.Module)
		}
		dir, err := moduleDir(p.Module, p.Version)
		if err != nil {
			return nil, err
		}
		for _, g := range globs {
			files, _ := filepath.Glob(filepath.Join(dir, g))
			if len(files) == 0 {
				return nil, fmt.Errorf("%s@%s has no %s", p.Module, p.Version, g)
			}
			for _, f := range files {
				crds, err := readCRDs(f)
				if err != nil {
					return nil, err
				}
				out = append(out, crds...)
			}
		}
	}
	return out, nil
}

// moduleDir returns the module cache directory of module@version.
func moduleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s %v", module, version, m.Error, err)
	}
	return m.Dir, nil
}

// readCRDs decodes every CRD of a multi-document YAML file.
func readCRDs(path string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*apiextensionsv1.CustomResourceDefinition
	for {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := dec.Decode(crd); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if crd.Kind == "CustomResourceDefinition" {
			out = append(out, crd)
		}
	}
}

// resource returns the client of obj's kind (namespaced when the kind
// is), rediscovering once when the kind is new to the mapper.
func (c *cluster) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

// apply applies obj by server-side apply as manager, without forcing
// conflicts, and returns the object the server holds.
func (c *cluster) apply(obj *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	ri, err := c.resource(obj)
	if err != nil {
		return nil, err
	}
	return ri.Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: manager})
}

// update writes obj (read from the server) back.
func (c *cluster) update(obj *unstructured.Unstructured) error {
	ri, err := c.resource(obj)
	if err != nil {
		return err
	}
	_, err = ri.Update(context.Background(), obj, metav1.UpdateOptions{})
	return err
}

// get reads obj back from the server.
func (c *cluster) get(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := c.resource(obj)
	if err != nil {
		return nil, err
	}
	return ri.Get(context.Background(), obj.GetName(), metav1.GetOptions{})
}

// readObjects decodes a YAML stream file into objects.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// name formats an object for messages: Kind namespace/name.
func name(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// differences lists where live does not hold what sent holds: a field
// dropped (pruned) or changed by the server. Fields the server adds
// (status, defaults of fields egmc leaves out, metadata) are not
// differences.
func differences(sent, live any, path string) []string {
	sent, live = normalize(sent), normalize(live)
	switch s := sent.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: sent an object, the server holds %v", path, live)}
		}
		var out []string
		for k, v := range s {
			lv, ok := l[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: dropped by the server", path, k))
				continue
			}
			out = append(out, differences(v, lv, path+"."+k)...)
		}
		return out
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(s) {
			return []string{fmt.Sprintf("%s: sent %d items, the server holds %v", path, len(s), live)}
		}
		var out []string
		for i := range s {
			out = append(out, differences(s[i], l[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if fmt.Sprint(sent) != fmt.Sprint(live) {
		return []string{fmt.Sprintf("%s: sent %v, the server holds %v", path, sent, live)}
	}
	return nil
}

// normalize gives numbers one type (JSON's), so that 80 sent and 80 read
// back compare equal.
func normalize(v any) any {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case int32:
		return float64(n)
	}
	return v
}

// buildEgmc builds the egmc binary of this repository into dir.
func buildEgmc(dir string) (string, error) {
	bin := filepath.Join(dir, "egmc")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/egmc")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/egmc: %v\n%s", err, out)
	}
	return bin, nil
}
