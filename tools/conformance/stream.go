package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Group names of the API groups the checks care about.
const (
	gatewayAPIGroup   = "gateway.networking.k8s.io"
	envoyGatewayGroup = "gateway.envoyproxy.io"
	istioGroupSuffix  = ".istio.io"
)

// Object is one Kubernetes object of a YAML stream, as decoded data.
type Object map[string]any

// Stream is one example's manifest stream with what the tools need beside it.
type Stream struct {
	// Name names the stream in reports (the example directory's name).
	Name string
	// Objects are the stream's documents, in order.
	Objects []Object
	// MeshConfig is the Istio mesh config that goes with the stream (the
	// meshConfig of helm/istiod-values.yaml), or nil.
	MeshConfig []byte
	// SDSSecretRefEnabled: the stream's Envoy Gateway values
	// (helm/envoy-gateway-values.yaml) enable SDS Secret references.
	SDSSecretRefEnabled bool
}

// ValuesDir is the directory of an egmc output (and of a golden
// directory) that holds the Helm values files. It is
// egmc.dev/egmc/compiler/layout.ValuesDir, which this module cannot
// import without taking the compiler's Kubernetes versions:
// TestLayoutIsEgmcs reads it from that package's source.
const ValuesDir = "helm"

// LoadExample reads dir/stream.yaml, or else the phase files an `egmc
// build -o` directory holds (NN-<phase>.yaml, in order), and, when
// present, the meshConfig of dir/helm/istiod-values.yaml and the SDS
// switch of dir/helm/envoy-gateway-values.yaml.
func LoadExample(dir string) (Stream, error) {
	s := Stream{Name: filepath.Base(dir)}
	files := []string{filepath.Join(dir, "stream.yaml")}
	if _, err := os.Stat(files[0]); errors.Is(err, os.ErrNotExist) {
		files, _ = filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.yaml"))
		if len(files) == 0 {
			return s, fmt.Errorf("%s holds neither stream.yaml nor phase files (NN-<phase>.yaml)", dir)
		}
	}
	for _, f := range files {
		objs, err := ReadStreamFile(f)
		if err != nil {
			return s, err
		}
		s.Objects = append(s.Objects, objs...)
	}
	if _, err := os.Stat(filepath.Join(dir, "istiod-values.yaml")); err == nil {
		return s, fmt.Errorf("%s holds istiod-values.yaml beside the manifests, where egmc before v0.3 wrote it: build it again (values now go in %s/)", dir, ValuesDir)
	}
	var err error
	s.MeshConfig, err = readMeshConfig(filepath.Join(dir, ValuesDir, "istiod-values.yaml"))
	if err != nil {
		return s, err
	}
	s.SDSSecretRefEnabled, err = readSDSSecretRefEnabled(filepath.Join(dir, ValuesDir, "envoy-gateway-values.yaml"))
	return s, err
}

// readMeshConfig returns the meshConfig subtree of a Helm values file as
// YAML, or nil when the file or the key is absent.
func readMeshConfig(path string) ([]byte, error) {
	values, err := readValues(path)
	if err != nil {
		return nil, err
	}
	mc, ok := values["meshConfig"]
	if !ok {
		return nil, nil
	}
	return yaml.Marshal(mc)
}

// readValues reads a Helm values file, or returns nil when it is absent.
func readValues(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return values, nil
}

// ReadStreamFile reads a YAML stream from a file.
func ReadStreamFile(path string) ([]Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	objs, err := ParseStream(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// ParseStream decodes a `---` separated YAML stream, skipping empty
// documents.
func ParseStream(data []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []Object
	for {
		// Decode into a plain map: yaml would give nested maps the named type.
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			objs = append(objs, Object(obj))
		}
	}
}

// MarshalStream encodes objects as one `---` separated YAML stream.
func MarshalStream(objs []Object) ([]byte, error) {
	var buf bytes.Buffer
	for i, obj := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		out, err := yaml.Marshal(map[string]any(obj))
		if err != nil {
			return nil, err
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// APIVersion returns the object's apiVersion.
func (o Object) APIVersion() string { return str(o, "apiVersion") }

// Group returns the API group of the object's apiVersion ("" for core).
func (o Object) Group() string {
	group, _, found := strings.Cut(o.APIVersion(), "/")
	if !found {
		return ""
	}
	return group
}

// Kind returns the object's kind.
func (o Object) Kind() string { return str(o, "kind") }

// Name returns metadata.name.
func (o Object) Name() string { return str(o, "metadata", "name") }

// Namespace returns metadata.namespace ("" when unset).
func (o Object) Namespace() string { return str(o, "metadata", "namespace") }

// Labels returns metadata.labels as strings.
func (o Object) Labels() map[string]string {
	labels := map[string]string{}
	for k, v := range mapAt(o, "metadata", "labels") {
		labels[k] = fmt.Sprint(v)
	}
	return labels
}

// Spec returns the object's spec (nil when absent).
func (o Object) Spec() map[string]any { return mapAt(o, "spec") }

// Ref returns the object's kind, namespace and name.
func (o Object) Ref() Ref { return Ref{Kind: o.Kind(), Namespace: o.Namespace(), Name: o.Name()} }

// Is tells whether the object has the given API group and kind.
func (o Object) Is(group, kind string) bool { return o.Group() == group && o.Kind() == kind }

// Ref names an object by kind, namespace and name.
type Ref struct {
	Kind, Namespace, Name string
}

// String formats the reference as "Kind namespace/name" (or "Kind name").
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// at walks m along keys and returns the value found, or nil.
func at(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			if o, isObj := v.(Object); isObj {
				mm = o
			} else {
				return nil
			}
		}
		v = mm[k]
	}
	return v
}

// str returns the string at keys, or "".
func str(m map[string]any, keys ...string) string {
	s, _ := at(m, keys...).(string)
	return s
}

// mapAt returns the map at keys, or nil.
func mapAt(m map[string]any, keys ...string) map[string]any {
	switch v := at(m, keys...).(type) {
	case map[string]any:
		return v
	case Object:
		return v
	}
	return nil
}

// maps returns the list of maps at keys, skipping other elements.
func maps(m map[string]any, keys ...string) []map[string]any {
	list, _ := at(m, keys...).([]any)
	var out []map[string]any
	for _, e := range list {
		if mm, ok := e.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

// intAt returns the integer at keys and whether there is one.
func intAt(m map[string]any, keys ...string) (int, bool) {
	switch v := at(m, keys...).(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	}
	return 0, false
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
