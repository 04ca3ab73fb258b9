package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
		{"intent as an array", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_APP_PARAMETERS": `[{"name":"intent","array":["x.cue"]}]`}, "", "", true},
		{"strict as a map", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_APP_PARAMETERS": `[{"name":"strict","map":{"a":"b"}}]`}, "", "", true},
		{"other plugins' parameters", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_APP_PARAMETERS": `[{"name":"values","array":["a"]}]`}, "", "unset", false},
		{"absolute intent", map[string]string{"ARGOCD_APP_NAME": "a", "PARAM_INTENT": "/etc/passwd.yaml"}, "", "", true},
		{"intent above the app", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_APP_PARAMETERS": `[{"name":"intent","string":"../other/intent.yaml"}]`}, "", "", true},
		{"intent below the app", map[string]string{"ARGOCD_APP_NAME": "a", "ARGOCD_ENV_EGMC_INTENT": "sub/../intent.cue"}, "sub/../intent.cue", "unset", false},
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
		if p.strict != nil && !strings.Contains(p.strictFrom, "strict") {
			t.Errorf("%s: strict from %q", c.name, p.strictFrom)
		}
		if p.intent != c.intent || strict != c.strict {
			t.Errorf("%s: got intent %q strict %s", c.name, p.intent, strict)
		}
	}
}

// TestInsideDir: a symbolic link in the checkout must not lead the intent
// parameter out of it.
func TestInsideDir(t *testing.T) {
	app, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("a: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "intent.yaml"), []byte("a: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(app, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := insideDir(app, "intent.yaml"); err != nil {
		t.Errorf("intent.yaml: %v", err)
	}
	if err := insideDir(app, "link.yaml"); err == nil {
		t.Errorf("link.yaml leads outside and was accepted")
	}
}
