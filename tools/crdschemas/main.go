// Command crdschemas extracts, from the pinned upstream releases in the Go
// module cache, the OpenAPI schemas of the custom resource kinds egmc
// emits, and writes them as generated files that egmc embeds.
//
// It is a separate module so that egmc's own module never depends on the
// upstream projects. Run it through `go generate ./compiler/validate`
// (make generate); CI fails when the result differs from the committed
// files.
//
// Usage: go run . -out DIR
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Upstream is one pinned upstream release and the CRD files egmc reads
// from it.
type Upstream struct {
	// Name is how egmc version names the release.
	Name    string
	Module  string
	Version string
	// Files are CRD files in the module, relative to its root.
	Files []string
	// Served lists more CRD files (globs) whose served versions egmc
	// records, for the rule that refuses an apiVersion no pinned CRD
	// serves.
	Served []string
}

// pins is the one place that pins the upstream releases egmc's output is
// checked against.
var pins = []Upstream{
	{Name: "Envoy Gateway", Module: "github.com/envoyproxy/gateway", Version: "v1.9.1", Files: []string{
		"charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml",
		"charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_envoyproxies.yaml",
		"charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_backendtrafficpolicies.yaml",
		"charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_securitypolicies.yaml",
		"charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_clienttrafficpolicies.yaml",
	}, Served: []string{"charts/gateway-helm/charts/crds/crds/generated/*.yaml"}},
	{Name: "Istio", Module: "istio.io/api", Version: "v1.31.1", Files: []string{
		"kubernetes/customresourcedefinitions.gen.yaml",
	}},
	{Name: "Cilium", Module: "github.com/cilium/cilium", Version: "v1.20.2", Files: []string{
		"pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml",
	}, Served: []string{"pkg/k8s/apis/cilium.io/client/crds/v2/*.yaml", "pkg/k8s/apis/cilium.io/client/crds/v2alpha1/*.yaml"}},
}

// kinds are the group/version/kind egmc emits (or may emit), each of which
// must have a schema.
var kinds = []string{
	"gateway.networking.k8s.io/v1/GatewayClass",
	"gateway.networking.k8s.io/v1/Gateway",
	"gateway.networking.k8s.io/v1/HTTPRoute",
	"gateway.networking.k8s.io/v1/GRPCRoute",
	"gateway.networking.k8s.io/v1/BackendTLSPolicy",
	"gateway.networking.k8s.io/v1beta1/ReferenceGrant",
	"gateway.envoyproxy.io/v1alpha1/EnvoyProxy",
	"gateway.envoyproxy.io/v1alpha1/BackendTrafficPolicy",
	"gateway.envoyproxy.io/v1alpha1/SecurityPolicy",
	"gateway.envoyproxy.io/v1alpha1/ClientTrafficPolicy",
	"networking.istio.io/v1/VirtualService",
	"networking.istio.io/v1/DestinationRule",
	"networking.istio.io/v1/Gateway",
	"networking.istio.io/v1/ServiceEntry",
	"networking.istio.io/v1/Sidecar",
	"security.istio.io/v1/PeerAuthentication",
	"security.istio.io/v1/AuthorizationPolicy",
	"telemetry.istio.io/v1/Telemetry",
	"cilium.io/v2/CiliumNetworkPolicy",
	"cilium.io/v2alpha1/CiliumL2AnnouncementPolicy",
}

// crd is the part of a CustomResourceDefinition the generator reads.
type crd struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema struct {
				OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

func main() {
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: crdschemas -out DIR")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "crdschemas:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	found := map[string][]byte{}
	served := map[string][]string{}
	for _, u := range pins {
		dir, err := moduleDir(u)
		if err != nil {
			return err
		}
		files := append([]string{}, u.Files...)
		for _, g := range u.Served {
			m, err := filepath.Glob(filepath.Join(dir, g))
			if err != nil {
				return err
			}
			for _, f := range m {
				rel, _ := filepath.Rel(dir, f)
				files = append(files, rel)
			}
		}
		for _, f := range files {
			if err := extract(filepath.Join(dir, f), found, served); err != nil {
				return fmt.Errorf("%s@%s %s: %w", u.Module, u.Version, f, err)
			}
		}
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for _, k := range kinds {
		schema, ok := found[k]
		if !ok {
			return fmt.Errorf("no served schema for %s in the pinned releases", k)
		}
		path := filepath.Join(out, fileName(k))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, schema, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, "README.md"), []byte(readme), 0o644); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, "served.json"), dedupe(served)); err != nil {
		return err
	}
	return writeVersions(filepath.Join(out, "upstream.json"))
}

// dedupe sorts and deduplicates each kind's served versions.
func dedupe(served map[string][]string) map[string][]string {
	for k, vs := range served {
		sort.Strings(vs)
		out := vs[:0]
		for i, v := range vs {
			if i == 0 || v != vs[i-1] {
				out = append(out, v)
			}
		}
		served[k] = out
	}
	return served
}

// writeJSON writes v as indented JSON (map keys sorted).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// readme marks the output directory as generated.
const readme = `# Generated: do not edit

Code generated by tools/crdschemas from the pinned upstream releases
(upstream.json); DO NOT EDIT. Regenerate with ` + "`make generate`" + `
(` + "`go generate ./compiler/validate`" + `); CI fails when the result differs.
`

// fileName maps group/version/Kind to group_version_kind.json.
func fileName(gvk string) string {
	return strings.ToLower(strings.ReplaceAll(gvk, "/", "_")) + ".json"
}

// moduleDir downloads a pinned module into the module cache and returns
// its directory.
func moduleDir(u Upstream) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", u.Module+"@"+u.Version)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", u.Module, u.Version, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(b, &info); err != nil {
		return "", err
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", u.Module, u.Version, info.Error)
	}
	return info.Dir, nil
}

// extract reads the CRDs of a multi-document YAML file, records the
// served versions of each group/Kind, and the served versions' schemas by
// group/version/Kind as JSON with sorted keys (stable across runs).
func extract(path string, found map[string][]byte, served map[string][]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, doc := range bytes.Split(b, []byte("\n---")) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return err
		}
		var c crd
		if err := json.Unmarshal(j, &c); err != nil || c.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range c.Spec.Versions {
			if v.Served {
				gk := c.Spec.Group + "/" + c.Spec.Names.Kind
				served[gk] = append(served[gk], v.Name)
			}
			if !v.Served || len(v.Schema.OpenAPIV3Schema) == 0 {
				continue
			}
			var schema any
			if err := json.Unmarshal(v.Schema.OpenAPIV3Schema, &schema); err != nil {
				return err
			}
			pretty, err := json.Marshal(stripDescriptions(schema))
			if err != nil {
				return err
			}
			found[c.Spec.Group+"/"+v.Name+"/"+c.Spec.Names.Kind] = append(pretty, '\n')
		}
	}
	return nil
}

// stripDescriptions drops the prose of a schema (string-valued
// "description" keys; a property named description has a schema, not a
// string, and stays): egmc validates with the schemas on every build, and
// the prose is most of their bytes and of their parsing time.
func stripDescriptions(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, prose := e.(string); prose && k == "description" {
				delete(v, k)
				continue
			}
			v[k] = stripDescriptions(e)
		}
	case []any:
		for i, e := range v {
			v[i] = stripDescriptions(e)
		}
	}
	return v
}

// writeVersions records the pins for egmc version.
func writeVersions(path string) error {
	type pin struct {
		Name    string `json:"name"`
		Module  string `json:"module"`
		Version string `json:"version"`
	}
	var ps []pin
	for _, u := range pins {
		ps = append(ps, pin{u.Name, u.Module, u.Version})
	}
	b, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
