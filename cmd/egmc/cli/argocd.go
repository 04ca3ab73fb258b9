package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Under the Argo CD config management plugin (ARGOCD_APP_NAME is set),
// egmc build takes its parameters from the Application:
//
//	intent  the intent file, relative to the app's source directory
//	        (default: the one intent.cue or intent.yaml there)
//	strict  "true" makes rule warnings fail the build
//
// from the plugin parameters (ARGOCD_APP_PARAMETERS, or PARAM_INTENT and
// PARAM_STRICT), or else from the plugin environment (ARGOCD_ENV_EGMC_INTENT
// and ARGOCD_ENV_EGMC_STRICT). Parameters win over the environment, and
// command-line arguments over both. The intent must lie inside the app's
// source directory: anyone who can edit an Application sets these, and
// egmc must not read files of the plugin's container for them.

// argoParams are the build settings an Argo CD Application gives.
type argoParams struct {
	// active: egmc runs under Argo CD.
	active bool
	intent string
	strict *bool
	// strictFrom names where strict came from, for the error it causes.
	strictFrom string
}

// argoCDParams reads the Application's parameters, or nothing outside
// Argo CD.
func argoCDParams(getenv func(string) string) (argoParams, error) {
	var p argoParams
	if getenv("ARGOCD_APP_NAME") == "" {
		return p, nil
	}
	p.active = true
	params := map[string]string{}
	if raw := getenv("ARGOCD_APP_PARAMETERS"); raw != "" {
		var list []struct {
			Name   string            `json:"name"`
			String *string           `json:"string"`
			Array  []string          `json:"array"`
			Map    map[string]string `json:"map"`
		}
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return p, fmt.Errorf("reading ARGOCD_APP_PARAMETERS: %v", err)
		}
		for _, e := range list {
			if e.Name != "intent" && e.Name != "strict" {
				continue // another plugin's, or a future egmc's
			}
			if e.String == nil || e.Array != nil || e.Map != nil {
				return p, fmt.Errorf("Argo CD parameter %s must be a string, as in {name: %s, string: ...}", e.Name, e.Name)
			}
			params[e.Name] = *e.String
		}
	}
	value := func(name string) (string, string) {
		if v, ok := params[name]; ok {
			return v, "the Argo CD parameter " + name
		}
		if v := getenv("PARAM_" + strings.ToUpper(name)); v != "" {
			return v, "the Argo CD parameter " + name
		}
		env := "ARGOCD_ENV_EGMC_" + strings.ToUpper(name)
		return getenv(env), "the plugin environment variable EGMC_" + strings.ToUpper(name)
	}
	intent, from := value("intent")
	if intent != "" && !filepath.IsLocal(intent) {
		return p, fmt.Errorf("%s: %q must be a path inside the application's source directory", from, intent)
	}
	p.intent = intent
	if s, from := value("strict"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, fmt.Errorf("%s: %q is not true or false", from, s)
		}
		p.strict, p.strictFrom = &b, from
	}
	return p, nil
}

// insideDir fails when path, once symbolic links are followed, lies
// outside dir: a link in the checkout must not lead the Argo CD intent
// parameter out of it.
func insideDir(dir, path string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(filepath.Join(dir, path))
	if err != nil {
		return nil // a missing file is reported when it is read
	}
	if rel, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("the intent %q leads outside the application's source directory (through a symbolic link): under Argo CD egmc reads only files of the application", path)
	}
	return nil
}

var getenv = os.Getenv
