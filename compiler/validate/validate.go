// Package validate checks generated objects against the pinned upstream
// schemas of their kinds (Envoy Gateway v1.9.1 with Gateway API v1.6.1,
// Istio 1.31.1, Cilium v1.20.2), before egmc prints anything.
//
// The schemas are the openAPIV3Schema of each CRD egmc emits, extracted
// from the upstream modules by tools/crdschemas (go generate) into
// schemas/, and embedded. An object is checked with k8s.io/kube-openapi's
// validator (types, enums, patterns, bounds, required fields) plus the
// API server's pruning rule: a field the schema does not declare is an
// error, unless the schema preserves unknown fields there. CEL rules are
// checked by the tests, with the API server's own code.
package validate

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	kvalidate "k8s.io/kube-openapi/pkg/validation/validate"

	"egmc.dev/egmc/compiler/diag"
)

//go:generate go run -C ../../tools/crdschemas . -out ../../compiler/validate/schemas

//go:embed schemas/*.json
var schemaFS embed.FS

// Upstream is one pinned upstream release.
type Upstream struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// Pins returns the upstream releases the schemas come from.
func Pins() []Upstream {
	var ps []Upstream
	b, err := schemaFS.ReadFile("schemas/upstream.json")
	if err == nil {
		err = json.Unmarshal(b, &ps)
	}
	if err != nil {
		panic("validate: embedded schemas/upstream.json: " + err.Error())
	}
	return ps
}

// Served returns the versions the pinned CRDs serve, by group/Kind.
func Served() map[string][]string {
	served := map[string][]string{}
	b, err := schemaFS.ReadFile("schemas/served.json")
	if err == nil {
		err = json.Unmarshal(b, &served)
	}
	if err != nil {
		panic("validate: embedded schemas/served.json: " + err.Error())
	}
	return served
}

// Kinds lists the group/version/Kind of every embedded schema.
func Kinds() []string {
	entries, _ := schemaFS.ReadDir("schemas")
	var kinds []string
	for _, e := range entries {
		if n := e.Name(); n != "upstream.json" && n != "served.json" && strings.HasSuffix(n, ".json") {
			kinds = append(kinds, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	sort.Strings(kinds)
	return kinds
}

// core lists the built-in kinds egmc emits, which have no CRD: their
// schemas are the API server's own, compiled into it (Namespaces, and the
// Secrets of type gateway.envoyproxy.io/sds of mtls mode gateway-sds, whose
// two data keys EG checks when it translates them).
var core = map[string]bool{"v1/Namespace": true, "v1/Secret": true}

// Error is one field of an object that its schema rejects.
type Error struct {
	// Field is the path of the field in the object, e.g. spec.rules[0].
	Field   string
	Message string
}

// String is "field: message", or the message alone when it names the field.
func (e Error) String() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Object validates obj, a decoded JSON object of the given apiVersion and
// kind. It returns the fields the schema rejects, or an error when egmc
// has no schema for the kind.
func Object(apiVersion, kind string, obj map[string]any) ([]Error, error) {
	if core[apiVersion+"/"+kind] {
		return nil, nil
	}
	k, err := kindOf(apiVersion, kind)
	if err != nil {
		return nil, err
	}
	var errs []Error
	res := k.validator.Validate(obj)
	for _, e := range res.Errors {
		errs = append(errs, Error{Message: e.Error()})
	}
	errs = append(errs, unknownFields("", k.schema, obj)...)
	return errs, nil
}

// kindSchema is the parsed schema of one kind and its validator, built
// once per process: the apiserver likewise shares one validator per CRD
// version between concurrent requests.
type kindSchema struct {
	schema    *spec.Schema
	validator *kvalidate.SchemaValidator
}

var (
	mu    sync.Mutex
	kinds = map[string]*kindSchema{}
)

// SchemaJSON returns the embedded openAPIV3Schema of a kind, as JSON.
func SchemaJSON(apiVersion, kind string) ([]byte, error) {
	key := apiVersion + "/" + kind
	b, err := schemaFS.ReadFile("schemas/" + strings.ToLower(strings.ReplaceAll(key, "/", "_")) + ".json")
	if err != nil {
		return nil, fmt.Errorf("no schema for %s %s: every kind egmc emits needs one (add it to tools/crdschemas and run go generate ./compiler/validate)", apiVersion, kind)
	}
	return b, nil
}

// kindOf parses the embedded schema of a kind once per process.
func kindOf(apiVersion, kind string) (*kindSchema, error) {
	key := apiVersion + "/" + kind
	mu.Lock()
	defer mu.Unlock()
	if k, ok := kinds[key]; ok {
		return k, nil
	}
	b, err := SchemaJSON(apiVersion, kind)
	if err != nil {
		return nil, err
	}
	s := new(spec.Schema)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", key, err)
	}
	k := &kindSchema{schema: s, validator: kvalidate.NewSchemaValidator(s, nil, "", strfmt.Default)}
	kinds[key] = k
	return k, nil
}

// Generated validates one object a profile generated, given as JSON. An
// invalid object is egmc's fault: an internal error naming the profile,
// the object and the fields.
func Generated(profile string, j []byte) error {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil {
		return diag.Internalf("profile %s: decoding an object: %v", profile, err)
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	errs, err := Object(apiVersion, kind, obj)
	if err != nil {
		return diag.Internalf("profile %s: %s: %v", profile, describe(obj), err)
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.String()
		}
		return diag.Internalf("profile %s generated an invalid %s %s: %s", profile, apiVersion, describe(obj), strings.Join(msgs, "; "))
	}
	return nil
}

// describe names an object as order.Object.String does: its kind and
// [namespace/]name.
func describe(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != "" {
		name = ns + "/" + name
	}
	return kind + " " + name
}
