package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler"
)

const buildHelp = `Build compiles an intent into Kubernetes manifests.

Without -o, egmc prints one YAML stream on stdout: one object per document,
in apply order (the phases namespaces, mesh, gateway, routes, policies,
egress; inside a phase by kind, then group|kind|namespace|name). Every
object carries the label app.kubernetes.io/managed-by: egmc and its phase's
wave as the annotation argocd.argoproj.io/sync-wave. The same intent always
gives the same bytes.

With -o DIR, egmc writes one file per phase (00-namespaces.yaml, ...), the
Helm values files in DIR/helm/ (envoy-gateway-values.yaml,
istiod-values.yaml, ...) and RUNBOOK.md: install order, restarts,
verification commands and the known limitations of this setup, run from
DIR. DIR itself holds only Kubernetes objects and RUNBOOK.md, so
"kubectl apply -f DIR/" applies the objects alone. egmc touches only its own files: each is
written in full before any replaces the old one (each replacement atomic,
keeping the old file's mode), so a failed or interrupted build leaves DIR
as it was; phase and values files an earlier build wrote and this one does
not are removed; every other file stays. DIR may be "." or a symbolic link
to a directory.

INTENT may be a directory holding one intent.cue or intent.yaml (the default
is the current directory): that is how the Argo CD config management plugin
runs egmc (deploy/argocd). Under Argo CD, the Application's parameters
intent and strict (or ARGOCD_ENV_EGMC_INTENT and ARGOCD_ENV_EGMC_STRICT)
set the intent file and --strict.

On a mistake in the intent, egmc prints every error as file:line:col:
message, prints nothing on stdout, and exits 1. Findings of the ownership
rules carry their id (egmc rules EGMC006 explains one); warnings go to
stderr and do not fail the build, unless --strict.

--check PATH compares the output with rendered manifests committed at PATH
instead of printing it (egmc diff INTENT PATH); it writes nothing, so it
does not go with -o.

INTENT - reads the intent from standard input, named "stdin" in messages
(--stdin-filename NAME names it, and its extension gives the format;
YAML otherwise).

Examples:
  egmc build examples/teg-istio-sidecar-httpbin/intent.yaml
  egmc build examples/istio-egress/
  egmc build intent.cue | kubectl apply --server-side --field-manager egmc-shop -f -
  egmc build intent.cue -o rendered/
  egmc build - < intent.yaml`

func newBuildCmd(c *compiler.Compiler) *cobra.Command {
	var (
		outDir    string
		strict    bool
		check     string
		stdinFile string
	)
	cmd := &cobra.Command{
		Use:   "build [INTENT|DIR|-]",
		Short: "Compile an intent into manifests, Helm values and a runbook",
		Long:  buildHelp,
		Args:  maxArgs(1, "one intent file or directory, or - for standard input"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir != "" && check != "" {
				return &usageError{fmt.Errorf("--check compares with rendered output and writes nothing: drop -o, or --check")}
			}
			argo, err := argoCDParams(getenv)
			if err != nil {
				return err
			}
			path := "."
			if argo.intent != "" {
				path = argo.intent
			}
			if len(args) == 1 {
				path = args[0]
			}
			strictFrom := "--strict"
			if argo.strict != nil && !cmd.Flags().Changed("strict") {
				strict, strictFrom = *argo.strict, argo.strictFrom
			}
			var inside func(string) error
			if argo.active {
				// the file itself, once found: a directory inside the
				// application may hold an intent.yaml that links out.
				inside = func(file string) error { return insideDir(".", file) }
			}
			in, err := loadIntent(cmd, path, stdinFile, inside)
			if err != nil {
				return err
			}
			res, err := c.Compile(cmd.Context(), in, compiler.Options{Files: outDir != "" || check != ""})
			if err != nil {
				return err
			}
			if len(res.Warnings) > 0 {
				printError(cmd.ErrOrStderr(), res.Warnings)
				if strict {
					return fmt.Errorf("%d warning(s) fail the build with %s", len(res.Warnings), strictFrom)
				}
			}
			if check != "" {
				return checkRendered(cmd.OutOrStdout(), res, check)
			}
			if outDir != "" {
				if err := res.WriteDir(outDir); err != nil {
					return fmt.Errorf("writing %s: %w", outDir, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "egmc: wrote %d objects, %d values files and RUNBOOK.md to %s\n", len(res.Objects), len(res.Values), outDir)
				return nil
			}
			stream, err := res.Stream()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(stream)
			return err
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "treat rule warnings as errors")
	cmd.Flags().StringVar(&check, "check", "", "compare the output with the rendered manifests at `PATH` (a file or -o directory) and exit 1 on a difference, like egmc diff")
	addStdinFlag(cmd, &stdinFile)
	maxRoutesFlag(cmd, c)
	cmd.Flags().StringVarP(&outDir, "output", "o", "", "write the output `DIR` (phase files, Helm values, RUNBOOK.md) instead of printing the stream")
	return cmd
}
