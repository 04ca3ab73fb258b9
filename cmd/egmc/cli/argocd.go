package cli

import (
	"encoding/json"
	"fmt"
	"os"
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
// command-line arguments over both.

// argoParams are the build settings an Argo CD Application gives.
type argoParams struct {
	intent string
	strict *bool
}

// argoCDParams reads the Application's parameters, or nothing outside
// Argo CD.
func argoCDParams(getenv func(string) string) (argoParams, error) {
	var p argoParams
	if getenv("ARGOCD_APP_NAME") == "" {
		return p, nil
	}
	params := map[string]string{}
	if raw := getenv("ARGOCD_APP_PARAMETERS"); raw != "" {
		var list []struct {
			Name   string `json:"name"`
			String string `json:"string"`
		}
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return p, fmt.Errorf("reading ARGOCD_APP_PARAMETERS: %v", err)
		}
		for _, e := range list {
			params[e.Name] = e.String
		}
	}
	value := func(name string) string {
		if v, ok := params[name]; ok {
			return v
		}
		if v := getenv("PARAM_" + strings.ToUpper(name)); v != "" {
			return v
		}
		return getenv("ARGOCD_ENV_EGMC_" + strings.ToUpper(name))
	}
	p.intent = value("intent")
	if s := value("strict"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, fmt.Errorf("Argo CD parameter strict: %q is not true or false", s)
		}
		p.strict = &b
	}
	return p, nil
}

var getenv = os.Getenv
