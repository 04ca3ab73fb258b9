package validate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"egmc.dev/egmc/compiler/validate"
	"egmc.dev/egmc/golden"
)

// apiServer validates custom resources the way the Kubernetes API server
// does on create: defaulting, then the structural schema, pruning of
// unknown fields, list types, and the CEL x-kubernetes-validations rules.
type apiServer struct {
	kinds map[string]*kindValidator
}

type kindValidator struct {
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

func (a *apiServer) validator(apiVersion, kind string) (*kindValidator, error) {
	key := apiVersion + "/" + kind
	if v, ok := a.kinds[key]; ok {
		return v, nil
	}
	raw, err := validate.SchemaJSON(apiVersion, kind)
	if err != nil {
		return nil, err
	}
	var v1 apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal(raw, &v1); err != nil {
		return nil, err
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, &internal, nil); err != nil {
		return nil, err
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return nil, fmt.Errorf("%s: not a structural schema: %w", key, err)
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		return nil, err
	}
	v := &kindValidator{structural: s, schema: sv, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}
	a.kinds[key] = v
	return v, nil
}

// validate returns every error the API server would report for obj.
func (a *apiServer) validate(obj map[string]any) (field.ErrorList, error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if apiVersion == "v1" && (kind == "Namespace" || kind == "Secret") {
		return nil, nil
	}
	v, err := a.validator(apiVersion, kind)
	if err != nil {
		return nil, err
	}
	// the API server applies the schema's defaults before it validates
	defaulting.Default(obj, v.structural)
	var errs field.ErrorList
	for _, p := range pruning.PruneWithOptions(deepCopy(obj), v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		errs = append(errs, field.Invalid(field.NewPath(p), nil, "unknown field (pruned)"))
	}
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.schema)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...), nil
}

func deepCopy(obj map[string]any) map[string]any {
	b, _ := json.Marshal(obj)
	var out map[string]any
	_ = utiljson.Unmarshal(b, &out)
	return out
}

// decode reads a YAML document the way the API server does: integers stay
// int64 (plain unmarshalling would make them float64 and CEL rules would
// then fail falsely).
func decode(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestGoldenStreamsPassTheAPIServer validates every object of every golden
// stream with the API server's own code.
func TestGoldenStreamsPassTheAPIServer(t *testing.T) {
	streams, err := filepath.Glob("../../golden/*/stream.yaml")
	if err != nil || len(streams) == 0 {
		t.Fatalf("no golden streams: %v", err)
	}
	a := &apiServer{kinds: map[string]*kindValidator{}}
	for _, s := range streams {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range golden.Split(b) {
			obj := decode(t, doc)
			errs, err := a.validate(obj)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			for _, e := range errs {
				md, _ := obj["metadata"].(map[string]any)
				t.Errorf("%s: %s %v/%v: %v", s, obj["kind"], md["namespace"], md["name"], e)
			}
		}
	}
}

// TestAPIServerCatchesBrokenObjects shows each check can fail.
func TestAPIServerCatchesBrokenObjects(t *testing.T) {
	const route = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: n}
spec:
  parentRefs: [{name: g}]
  rules:
  - matches: [{path: {type: %s, value: /x}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: s, port: 80}]%s
`
	cases := []struct{ name, doc, want string }{
		{"valid", fmt.Sprintf(route, "PathPrefix", ""), ""},
		{"bad enum", fmt.Sprintf(route, "Prefix", ""), "Unsupported value"},
		{"CEL: ReplacePrefixMatch without a PathPrefix match", fmt.Sprintf(route, "Exact", ""), "replacePrefixMatch"},
		{"unknown field", fmt.Sprintf(route, "PathPrefix", "\n    retries: 3"), "unknown field"},
		{"list map duplicates", `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: g, namespace: n}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: http, port: 8080, protocol: HTTP}
`, "Duplicate value"},
	}
	a := &apiServer{kinds: map[string]*kindValidator{}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs, err := a.validate(decode(t, []byte(c.doc)))
			if err != nil {
				t.Fatal(err)
			}
			got := errs.ToAggregate()
			switch {
			case c.want == "" && got != nil:
				t.Errorf("want no errors, got %v", got)
			case c.want != "" && (got == nil || !strings.Contains(got.Error(), c.want)):
				t.Errorf("want an error containing %q, got %v", c.want, got)
			}
		})
	}
}
