package validate

import (
	"fmt"
	"sort"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// unknownFields applies the API server's pruning rule: an object field
// that the schema does not declare would be dropped silently, so egmc
// refuses it. Fields under x-kubernetes-preserve-unknown-fields, under
// additionalProperties, and inside metadata (the API server's own) are
// allowed, and so are apiVersion and kind at the root.
func unknownFields(path string, s *spec.Schema, v any) []Error {
	if s == nil || preserves(s) {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		return unknownInObject(path, s, v)
	case []any:
		if s.Items == nil || s.Items.Schema == nil {
			return nil
		}
		var errs []Error
		for i, e := range v {
			errs = append(errs, unknownFields(fmt.Sprintf("%s[%d]", path, i), s.Items.Schema, e)...)
		}
		return errs
	}
	return nil
}

func unknownInObject(path string, s *spec.Schema, v map[string]any) []Error {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []Error
	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		if path == "" && (k == "metadata" || k == "apiVersion" || k == "kind") {
			continue
		}
		if prop, ok := s.Properties[k]; ok {
			errs = append(errs, unknownFields(p, &prop, v[k])...)
			continue
		}
		if s.AdditionalProperties != nil {
			if s.AdditionalProperties.Schema != nil {
				errs = append(errs, unknownFields(p, s.AdditionalProperties.Schema, v[k])...)
			}
			continue
		}
		errs = append(errs, Error{Field: p, Message: "field not declared in the schema (the API server would prune it)"})
	}
	return errs
}

// preserves tells whether a schema keeps unknown fields.
func preserves(s *spec.Schema) bool {
	b, ok := s.Extensions["x-kubernetes-preserve-unknown-fields"].(bool)
	return ok && b
}
