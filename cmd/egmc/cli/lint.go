package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/lint"
	"egmc.dev/egmc/compiler/load"
)

const lintHelp = `Lint checks files without printing manifests.

Intents (*.cue, or YAML of kind Intent) are compiled: schema errors and
the findings of the ownership rules are reported. (Lint does not re-check
egmc's own output against the CRD schemas; egmc build does.) Other YAML files are read
as your own Kubernetes manifests (Services, Deployments, Namespaces,
policies...) and checked against the manifest rules: http2 app ports in a
sidecar namespace, a namespace enrolled in both sidecar and ambient mode,
Service ports without a protocol hint, and more (egmc rules). Manifests are
checked together, with the namespaces the linted intents generate; when a
call holds only manifests (a pre-commit hook passes the changed files),
--context names intents to read for those namespaces without reporting on
them.

The intents of one call are read as one cluster: a cluster-scoped object
two of them generate differently (a Namespace enrolled in sidecar mode by
one and ambient mode by the other, a GatewayClass with another spec) is
an error at the later intent.

A FILE of - is standard input, named "stdin" in messages (or
--stdin-filename's NAME, whose extension gives the format; YAML
otherwise).

Every finding is printed as file:line:col: message (--format json prints
a JSON array for tools). Files are checked in parallel. Lint exits 1 when
any file has an error, 0 otherwise; warnings fail only with --strict.

Examples:
  egmc lint intent.yaml
  egmc lint --format json intent.yaml | jq '.[] | select(.severity == "error")' 
  egmc lint intent.yaml k8s/*.yaml
  egmc lint --context intent.yaml k8s/service.yaml
  egmc lint --strict $(git ls-files '*intent*.yaml')
  egmc lint --stdin-filename shop-intent.yaml - < shop-intent.yaml`

func newLintCmd(c *compiler.Compiler) *cobra.Command {
	var (
		strict    bool
		format    *choice
		context   []string
		stdinFile string
	)
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check intents and manifests against the schema and the rules",
		Long:  lintHelp,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("lint needs at least one file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, read := readInputs(cmd, args, stdinFile)
			ctx, ctxRead := readInputs(cmd, context, stdinFile)
			for i := range ctx {
				ctx[i].Context = true
			}
			inputs = append(inputs, ctx...)
			read = append(read, ctxRead...)
			res, err := lint.Run(cmd.Context(), c, inputs)
			if err != nil {
				return err
			}
			all := append(read, res.Diagnostics...).Sort()
			if format.value == "json" {
				if err := writeJSON(cmd.OutOrStdout(), all); err != nil {
					return err
				}
			} else {
				printError(cmd.OutOrStdout(), all)
			}
			if all.HasErrors() || (strict && len(all) > 0) {
				return errSilent
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "treat rule warnings as errors")
	format = formatFlag(cmd, "output format: text (file:line:col: message) or json", "text", "json")
	cmd.Flags().StringSliceVar(&context, "context", nil, "intent `FILE`s read for context only (the namespaces they enrol), e.g. when a hook passes only the changed manifests")
	addStdinFlag(cmd, &stdinFile)
	maxRoutesFlag(cmd, c)
	return cmd
}

// readInputs reads the files, "-" standard input (once); those that
// cannot be read become diagnostics.
func readInputs(cmd *cobra.Command, paths []string, stdinFile string) ([]lint.Input, diag.List) {
	var inputs []lint.Input
	var errs diag.List
	for _, p := range paths {
		if p == "-" {
			in, err := stdinInput(cmd, stdinFile)
			if err != nil {
				errs = append(errs, asDiagnostics(err)...)
				continue
			}
			inputs = append(inputs, in)
			continue
		}
		b, err := load.ReadLimited(p, load.MaxSize)
		if errors.Is(err, load.ErrTooLarge) {
			errs = append(errs, diag.Diagnostic{Filename: p, Message: fmt.Sprintf("the file is larger than %d MiB, the most egmc lint reads: split it", load.MaxSize>>20)})
			continue
		}
		if err != nil {
			errs = append(errs, diag.Diagnostic{Filename: p, Message: fmt.Sprintf("cannot read: %v", unwrapPathError(err))})
			continue
		}
		inputs = append(inputs, lint.Input{Name: p, Data: b})
	}
	return inputs, errs
}

// stdinInput reads standard input as a lint input, YAML unless
// --stdin-filename gives another extension.
func stdinInput(cmd *cobra.Command, stdinFile string) (lint.Input, error) {
	name, src, err := readStdin(cmd, stdinFile)
	if err != nil {
		return lint.Input{}, err
	}
	in := lint.Input{Name: name, Data: src}
	if _, ferr := load.FormatOf(name); ferr != nil {
		in.Format = load.YAML
	}
	return in, nil
}

// asDiagnostics turns an error into diagnostics.
func asDiagnostics(err error) diag.List {
	var l diag.List
	if errors.As(err, &l) {
		return l
	}
	return diag.List{{Message: err.Error()}}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// jsonFinding is one finding in lint's JSON output.
type jsonFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Rule     string `json:"rule,omitempty"`
	Message  string `json:"message"`
}

// writeJSON prints the findings as a JSON array.
func writeJSON(w io.Writer, l diag.List) error {
	out := make([]jsonFinding, 0, len(l))
	for _, d := range l {
		out = append(out, jsonFinding{d.Filename, d.Line, d.Column, d.Severity.String(), d.Rule, d.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
