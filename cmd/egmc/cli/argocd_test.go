package cli

import "testing"

func TestArgoCDParams(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name   string
		env    map[string]string
		intent string
		strict string
		err    bool
	}{
		{"outside Argo CD", map[string]string{"PARAM_STRICT": "true"}, "", "unset", false},
		{"parameters JSON", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_APP_PARAMETERS": `[{"name":"strict","string":"true"},{"name":"intent","string":"x.cue"}]`, "PARAM_STRICT": "false"}, "x.cue", "true", false},
		{"PARAM variables", map[string]string{"ARGOCD_APP_NAME": "a", "PARAM_STRICT": "false", "ARGOCD_ENV_EGMC_STRICT": "true"}, "", "false", false},
		{"plugin env", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_ENV_EGMC_INTENT": "i.yaml"}, "i.yaml", "unset", false},
		{"bad bool", map[string]string{"ARGOCD_APP_NAME": "a", "PARAM_STRICT": "yes please"}, "", "", true},
		{"bad JSON", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_APP_PARAMETERS": "[{"}, "", "", true},
	}
	for _, c := range cases {
		p, err := argoCDParams(env(c.env))
		if (err != nil) != c.err {
			t.Errorf("%s: error %v", c.name, err)
			continue
		}
		if err != nil {
			continue
		}
		strict := "unset"
		if p.strict != nil {
			strict = map[bool]string{true: "true", false: "false"}[*p.strict]
		}
		if p.intent != c.intent || strict != c.strict {
			t.Errorf("%s: got intent %q strict %s", c.name, p.intent, strict)
		}
	}
}
