package conformance

import (
	"fmt"
	"slices"
)

// selectorMatches tells whether a Kubernetes LabelSelector (matchLabels and
// matchExpressions, as decoded YAML) selects an object with the given
// labels. An empty selector selects everything, as in Kubernetes.
func selectorMatches(selector map[string]any, labels map[string]string) (bool, error) {
	for k, v := range mapAt(selector, "matchLabels") {
		got, ok := labels[k]
		if !ok || got != fmt.Sprint(v) {
			return false, nil
		}
	}
	for _, expr := range maps(selector, "matchExpressions") {
		ok, err := expressionMatches(expr, labels)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// expressionMatches evaluates one matchExpressions requirement.
func expressionMatches(expr map[string]any, labels map[string]string) (bool, error) {
	key := str(expr, "key")
	var values []string
	list, _ := at(expr, "values").([]any)
	for _, v := range list {
		values = append(values, fmt.Sprint(v))
	}
	got, has := labels[key]
	switch op := str(expr, "operator"); op {
	case "In":
		return has && slices.Contains(values, got), nil
	case "NotIn":
		return !has || !slices.Contains(values, got), nil
	case "Exists":
		return has, nil
	case "DoesNotExist":
		return !has, nil
	default:
		return false, fmt.Errorf("unknown label selector operator %q", op)
	}
}
