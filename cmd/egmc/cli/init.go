package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/internal/yamlenc"
)

const initHelp = `Init writes a first intent by asking the intake questions of the
eg-service-mesh skill: which mesh, its current state, mTLS and
observability, then the first route (the gateway's role is ingress: Envoy
Gateway cannot be an ambient waypoint, EGMC024). Each question shows its
choices, the guidance, and a default (press Enter to take it).

Every answer is also a flag, checked (with --name) before anything is
asked or written. On a terminal, init asks each question left and asks
again until the answer is valid. When stdin is not a terminal, init reads
one answer per line for the questions left, in the order above, without
prompting: an empty line, or the end of the input, takes the default, and
the first invalid answer stops init with its line. The intent it writes
(intent.yaml, or intent.cue with --format cue) always builds: init
compiles it before saying so.

Examples:
  egmc init
  egmc init --mesh istio-ambient --hostname shop.example.com --service web --namespace shop --port 8080
  egmc init --mesh none < answers.txt
  egmc init --mesh cilium --format cue -o platform/intent.cue`

// question is one intake question.
type question struct {
	flag     string
	prompt   string
	guidance string
	choices  []string
	// def computes the default from the answers so far.
	def func(a map[string]string) string
	// ask tells whether the question applies given the answers so far.
	ask func(a map[string]string) bool
	// check validates a free-form answer (nil: one of choices).
	check func(string) error
	// schema names the definition of the intent schema a free-form answer
	// must satisfy (#Hostname...), checked before check.
	schema string
}

func always(map[string]string) bool { return true }

// questions are asked in order.
var questions = []question{
	{flag: "mesh", prompt: "Which service mesh?", choices: []string{"istio-ambient", "istio-sidecar", "cilium", "none"},
		guidance: "Istio ambient is recommended: no sidecar injection conflicts, ztunnel does the mTLS, no double proxy. Istio sidecar puts a second proxy on every hop. Cilium is the CNI (eBPF) with Envoy Gateway for L7. none: plain Envoy Gateway.",
		def:      func(map[string]string) string { return "istio-ambient" }, ask: always},
	{flag: "state", prompt: "Current state?", choices: []string{"installed", "install", "migrate"},
		guidance: "installed: the mesh runs, add Envoy Gateway. install: set up both from scratch. migrate: replace another ingress controller.",
		def:      func(map[string]string) string { return "installed" }, ask: always},
	{flag: "mtls", prompt: "mTLS between the gateway and the services?", choices: []string{"mesh", "backend-tls", "gateway-sds", "none"},
		guidance: "mesh: the gateway joins the mesh identity (Istio only). backend-tls: the gateway verifies the backends' certificates against a CA (BackendTLSPolicy). gateway-sds (Istio sidecar only): the gateway holds the mesh identity itself and opens mTLS to each backend pod, without a sidecar hop. none: trust the cluster network.",
		def: func(a map[string]string) string {
			if strings.HasPrefix(a["mesh"], "istio") {
				return "mesh"
			}
			return "none"
		}, ask: always},
	{flag: "observability", prompt: "Observability?", choices: []string{"separate", "tracing", "metrics", "both"},
		guidance: "separate: gateway and mesh monitored independently (nothing generated). tracing: shared distributed tracing (same collector, correlated traces). metrics: shared Prometheus metrics. both.",
		def:      func(map[string]string) string { return "separate" }, ask: always},
	{flag: "collector", prompt: "Tracing collector (<service>.<namespace>:<port>)?",
		guidance: "The in-cluster OpenTelemetry collector Service both layers send traces to.",
		def:      func(map[string]string) string { return "otel-collector.observability.svc.cluster.local:4317" },
		ask:      func(a map[string]string) bool { return a["observability"] == "tracing" || a["observability"] == "both" },
		check:    nonEmpty},
	{flag: "hostname", prompt: "First route: public hostname?", def: func(map[string]string) string { return "www.example.com" }, ask: always, check: nonEmpty, schema: "#Hostname"},
	{flag: "path-prefix", prompt: "First route: path prefix?", def: func(map[string]string) string { return "/" }, ask: always, check: nonEmpty, schema: "#Path"},
	{flag: "service", prompt: "First route: backend Service name?", def: func(map[string]string) string { return "httpbin" }, ask: always, check: nonEmpty, schema: "#Name"},
	{flag: "namespace", prompt: "First route: backend namespace?", def: func(a map[string]string) string { return a["service"] }, ask: always, check: nonEmpty, schema: "#Name"},
	{flag: "port", prompt: "First route: backend Service port?", def: func(map[string]string) string { return "8080" }, ask: always,
		check: func(s string) error {
			if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 65535 {
				return errors.New("a port is a number from 1 to 65535")
			}
			return nil
		}},
	{flag: "service-account", prompt: "First route: service account of the backend's pods?",
		guidance: "gateway-sds: the gateway accepts only the backend's mesh identity, which names its pods' service account.",
		def:      func(a map[string]string) string { return a["service"] },
		ask:      func(a map[string]string) bool { return a["mtls"] == "gateway-sds" },
		check:    nonEmpty, schema: "#DNSName"},
}

func nonEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("an answer is needed")
	}
	return nil
}

func newInitCmd(c *compiler.Compiler) *cobra.Command {
	var name, out string
	var fileFormat *choice
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a first intent by answering the intake questions",
		Long:  initHelp,
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				out = "intent." + fileFormat.value
			}
			if _, err := os.Stat(out); err == nil && !force {
				return fmt.Errorf("%s exists: remove it, choose another file with -o, or pass --force", out)
			}
			s, err := c.Schema()
			if err != nil {
				return err
			}
			if err := schemaCheck(s, "#Name", name); err != nil {
				return &usageError{fmt.Errorf("--name %q: %v", name, err)}
			}
			answers, err := interview(cmd, stdinOf(cmd), s)
			if err != nil {
				return err
			}
			return writeIntent(cmd, c, out, fileFormat.value, name, answers)
		},
	}
	for _, q := range questions {
		if q.choices != nil {
			cmd.Flags().String(q.flag, "", fmt.Sprintf("%s (%s)", strings.TrimSuffix(q.prompt, "?"), strings.Join(q.choices, ", ")))
			continue
		}
		cmd.Flags().String(q.flag, "", strings.TrimSuffix(q.prompt, "?"))
	}
	cmd.Flags().StringVar(&name, "name", "edge", "the intent's name (metadata.name), prefix of generated names")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (default intent.yaml, or intent.cue)")
	fileFormat = formatFlag(cmd, "the intent's format", "yaml", "cue")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

// stdinOf returns the command's input (a terminal when interactive).
func stdinOf(cmd *cobra.Command) io.Reader {
	return cmd.InOrStdin()
}

// interview collects the answers: flags first; then, on a terminal, a
// prompt for each question left, asked again until the answer is valid;
// from a pipe, one line per question left (an empty line or the end of
// the input takes the default), refused at the first invalid one. Every
// answer is checked when it is given, against the intent schema where it
// has a definition for it.
func interview(cmd *cobra.Command, in io.Reader, s *module.Schema) (map[string]string, error) {
	answers := map[string]string{}
	f, isFile := in.(*os.File)
	prompting := isFile && term.IsTerminal(int(f.Fd()))
	r := bufio.NewReader(in)
	w := cmd.ErrOrStderr()
	line := 0
	for _, q := range questions {
		if !q.ask(answers) {
			continue
		}
		if v, _ := cmd.Flags().GetString(q.flag); v != "" {
			if err := q.validate(v, s); err != nil {
				return nil, &usageError{fmt.Errorf("--%s %q: %v", q.flag, v, err)}
			}
			answers[q.flag] = v
			continue
		}
		if prompting {
			v, err := q.prompt1(r, w, answers, s)
			if err != nil {
				return nil, err
			}
			answers[q.flag] = v
			continue
		}
		v, err := r.ReadString('\n')
		if v == "" && err != nil {
			answers[q.flag] = q.def(answers) // input ended: the defaults
			continue
		}
		line++
		v = strings.TrimSpace(v)
		if v == "" {
			v = q.def(answers)
		} else if err := q.validate(v, s); err != nil {
			return nil, fmt.Errorf("init: line %d of the input answers %q with %q: %v", line, q.prompt, v, err)
		}
		answers[q.flag] = v
	}
	return answers, nil
}

func (q question) validate(v string, s *module.Schema) error {
	if q.check != nil {
		if err := q.check(v); err != nil {
			return err
		}
	}
	if q.schema != "" {
		return schemaCheck(s, q.schema, v)
	}
	if q.check != nil {
		return nil
	}
	for _, c := range q.choices {
		if v == c {
			return nil
		}
	}
	return fmt.Errorf("choose one of %s", strings.Join(q.choices, ", "))
}

// schemaCheck checks v against a definition of the intent schema and
// returns the schema's own message when it does not satisfy it.
func schemaCheck(s *module.Schema, def, v string) error {
	d := s.Definition(def)
	err := d.Unify(d.Context().Encode(v)).Validate(cue.Concrete(true))
	if err == nil {
		return nil
	}
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		return errors.New(fmt.Sprintf(format, args...))
	}
	return err
}

// prompt1 asks one question until the answer is valid.
func (q question) prompt1(r *bufio.Reader, w io.Writer, answers map[string]string, s *module.Schema) (string, error) {
	def := q.def(answers)
	if q.guidance != "" {
		fmt.Fprintf(w, "\n%s\n", q.guidance)
	}
	for {
		if q.choices != nil {
			fmt.Fprintf(w, "%s (%s) [%s]: ", q.prompt, strings.Join(q.choices, "/"), def)
		} else {
			fmt.Fprintf(w, "%s [%s]: ", q.prompt, def)
		}
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("init: no answer to %q (input ended)", q.prompt)
		}
		v := strings.TrimSpace(line)
		if v == "" {
			return def, nil
		}
		if err := q.validate(v, s); err != nil {
			fmt.Fprintf(w, "  %v\n", err)
			continue
		}
		return v, nil
	}
}

// obj is a JSON object that keeps its keys in order.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON encodes the object with its keys in order.
func (o obj) MarshalJSON() ([]byte, error) {
	parts := make([]string, 0, len(o))
	for _, e := range o {
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		k, _ := json.Marshal(e.k)
		parts = append(parts, string(k)+":"+string(v))
	}
	return []byte("{" + strings.Join(parts, ",") + "}"), nil
}

// intentOf turns the answers into an intent document, its fields in the
// order of the intent spec.
func intentOf(name string, a map[string]string) obj {
	mesh := obj{{"provider", "none"}}
	switch a["mesh"] {
	case "istio-ambient":
		mesh = obj{{"provider", "istio"}, {"mode", "ambient"}}
	case "istio-sidecar":
		mesh = obj{{"provider", "istio"}, {"mode", "sidecar"}}
	case "cilium":
		mesh = obj{{"provider", "cilium"}}
	}
	mesh = append(mesh, kv{"state", a["state"]})
	spec := obj{{"mesh", mesh}}
	spec = append(spec, kv{"mtls", obj{{"mode", a["mtls"]}}})
	port, _ := strconv.Atoi(a["port"])
	backend := obj{{"service", a["service"]}, {"namespace", a["namespace"]}, {"port", port}}
	if a["mtls"] == "gateway-sds" {
		backend = append(backend, kv{"serviceAccount", a["service-account"]})
	}
	spec = append(spec, kv{"routes", []any{obj{
		{"name", a["service"]},
		{"hostnames", []string{a["hostname"]}},
		{"match", obj{{"pathPrefix", a["path-prefix"]}}},
		{"backend", backend},
	}}})
	var obs obj
	if o := a["observability"]; o == "tracing" || o == "both" {
		obs = append(obs, kv{"tracing", obj{{"collector", a["collector"]}}})
	}
	if o := a["observability"]; o == "metrics" || o == "both" {
		obs = append(obs, kv{"metrics", obj{}})
	}
	if len(obs) > 0 {
		spec = append(spec, kv{"observability", obs})
	}
	return obj{{"apiVersion", "egmc.dev/v1alpha1"}, {"kind", "Intent"}, {"metadata", obj{{"name", name}}}, {"spec", spec}}
}

// writeIntent encodes the intent, checks that it builds, and writes it.
func writeIntent(cmd *cobra.Command, c *compiler.Compiler, out, fileFormat, name string, a map[string]string) error {
	doc, err := encodeIntent(intentOf(name, a), fileFormat)
	if err != nil {
		return err
	}
	res, err := c.CompileBytes(cmd.Context(), out, doc, compiler.Options{})
	if err != nil {
		return fmt.Errorf("the answers do not make an intent that builds:\n%w", err)
	}
	if dir := filepath.Dir(out); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(out, doc, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "\nwrote %s (profile %s, %d objects). Next: egmc build %s, egmc explain %s\n", out, res.Profile, len(res.Objects), out, out)
	return nil
}

// encodeIntent writes the intent as YAML or CUE.
func encodeIntent(doc obj, fileFormat string) ([]byte, error) {
	j, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	header := "Written by egmc init; see egmc schema for every field, egmc explain for who owns what."
	if fileFormat == "yaml" {
		return yamlenc.Append([]byte("# "+header+"\n"), j)
	}
	lit, ok := cuecontext.New().CompileBytes(j).Syntax().(*ast.StructLit)
	if !ok {
		return nil, errors.New("init: the intent is not a struct")
	}
	b, err := format.Node(&ast.File{Decls: lit.Elts})
	if err != nil {
		return nil, err
	}
	return append([]byte("// "+header+"\n\n"), b...), nil
}
