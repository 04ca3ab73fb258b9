package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Egctl checks streams with `egctl x translate --from gateway-api`, which
// runs Envoy Gateway's own CRD validation (OpenAPI schema and CEL rules) and
// translators offline: `--to gateway-api` prints every object with the status
// the controller would write (checked in status.go), `--to xds` builds the
// Envoy configuration.
//
// egctl's loader has limits that a cluster does not, and the harness works
// around them without hiding anything (workarounds.go):
//
//   - It keeps only the name of a Namespace, not its labels, so a listener's
//     allowedRoutes namespace selector would reject every route. The harness
//     evaluates each selector itself against the stream's Namespace labels
//     (failures are reported with Tool "harness") and gives egctl a copy of
//     the Gateway whose Selector listeners allow routes from All namespaces.
//   - It holds a single EnvoyProxy and uses it as the GatewayClass's, whatever
//     its name. The harness resolves the GatewayClass's and the Gateways'
//     parametersRefs itself, feeds only the GatewayClass's EnvoyProxy to the
//     main runs, and checks every other EnvoyProxy, with the Gateways that
//     use it, in runs of its own.
type Egctl struct {
	// Path is the egctl binary.
	Path string
}

// Check translates the stream's Gateway API and Envoy Gateway objects,
// with the Namespaces and fixtures, and returns every failure. An error
// means the harness itself could not run.
func (e Egctl) Check(ctx context.Context, objs, fixtures []Object) ([]Failure, error) {
	gw := gatewayObjects(objs)
	if len(gw) == 0 {
		return nil, nil
	}
	classProxy, failures := resolveParametersRefs(gw)
	failures = append(failures, uncheckedKinds(gw)...)
	failures = append(failures, checkAllowedRoutes(objs)...)

	input := EgctlInput(objs, fixtures, classProxy)
	out, runFailures, err := e.Translate(ctx, input, "gateway-api")
	if err != nil {
		return nil, err
	}
	failures = append(failures, runFailures...)
	if out != nil {
		failures = append(failures, checkTranslated(gatewayObjects(input), out)...)
	}
	// A separate run, so that a failure to build the Envoy configuration
	// does not hide the statuses above.
	out, runFailures, err = e.Translate(ctx, input, "xds")
	if err != nil {
		return nil, err
	}
	failures = append(failures, runFailures...)
	if out != nil {
		failures = append(failures, checkXDS(gw, out)...)
	}

	for _, ep := range gw {
		if !ep.Is(envoyGatewayGroup, "EnvoyProxy") || ep.Ref() == classProxy {
			continue
		}
		epFailures, err := e.checkEnvoyProxy(ctx, objs, fixtures, ep)
		if err != nil {
			return nil, err
		}
		failures = append(failures, epFailures...)
	}
	return failures, nil
}

// gatewayObjects returns the stream's Gateway API and Envoy Gateway objects.
func gatewayObjects(objs []Object) []Object {
	var out []Object
	for _, o := range objs {
		if o.Group() == gatewayAPIGroup || o.Group() == envoyGatewayGroup {
			out = append(out, o)
		}
	}
	return out
}

// EgctlInput assembles egctl's input: the stream's Namespaces and core
// objects, the fixtures, and the Gateway API and Envoy Gateway objects with
// only the EnvoyProxy classProxy (egctl uses its single EnvoyProxy as the
// GatewayClass's) and selector listeners opened to All.
func EgctlInput(objs, fixtures []Object, classProxy Ref) []Object {
	input := append(coreObjects(objs), fixtures...)
	for _, o := range gatewayObjects(objs) {
		switch {
		case o.Is(envoyGatewayGroup, "EnvoyProxy") && o.Ref() != classProxy:
			continue
		case o.Is(gatewayAPIGroup, "Gateway"):
			o = openSelectorListeners(o)
		}
		input = append(input, o)
	}
	return input
}

// isCoreInput tells whether egctl reads core objects of this kind.
func isCoreInput(kind string) bool {
	switch kind {
	case "Namespace", "Service", "Secret", "ConfigMap":
		return true
	}
	return false
}

// Translate runs egctl on input, producing the comma-separated output
// types to ("gateway-api", "xds"), and decodes its output. A rejected input
// is a failure, not an error.
func (e Egctl) Translate(ctx context.Context, input []Object, to string) (map[string]any, []Failure, error) {
	file, err := writeTemp("egctl-input-*.yaml", input)
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(file)
	cmd := exec.CommandContext(ctx, e.Path, "x", "translate",
		"--from", "gateway-api", "--to", to, "-o", "yaml", "-f", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			return nil, nil, fmt.Errorf("running %s: %w", e.Path, err)
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return nil, []Failure{{Tool: "egctl", Object: "stream",
			Condition: fmt.Sprintf("--to %s: %v", to, err), Message: summarizePanic(msg)}}, nil
	}
	var out map[string]any
	if err := yaml.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, nil, fmt.Errorf("decoding egctl output: %w", err)
	}
	return out, nil, nil
}

// summarizePanic shortens a Go panic to its message and the first stack
// frame (function and file:line); other messages are returned as they are.
func summarizePanic(msg string) string {
	head, stack, found := strings.Cut(msg, "\ngoroutine ")
	if !strings.HasPrefix(msg, "panic:") || !found {
		return msg
	}
	lines := strings.Split(stack, "\n")
	if len(lines) < 3 {
		return msg
	}
	summary := strings.Join(strings.Fields(head), " ")
	return fmt.Sprintf("%s at %s %s", summary, strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2]))
}

// writeTemp writes objs as a YAML stream to a new temporary file.
func writeTemp(pattern string, objs []Object) (string, error) {
	data, err := MarshalStream(objs)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	return filepath.Clean(f.Name()), f.Close()
}

// coreObjects returns the stream's core objects that egctl reads.
func coreObjects(objs []Object) []Object {
	var out []Object
	for _, o := range objs {
		if o.APIVersion() == "v1" && isCoreInput(o.Kind()) {
			out = append(out, o)
		}
	}
	return out
}
