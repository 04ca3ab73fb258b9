// Package cli is the egmc command line as a library: Main runs it with the
// process's arguments, Run with any, so that tests drive the real commands
// in-process. One file per command, each with a help text that ends in
// examples.
package cli

import (
	"context"
	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/cache"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/emit"
)

// Exit codes.
const (
	exitOK     = 0
	exitError  = 1   // the input is wrong, or the build failed
	exitUsage  = 2   // the command line is wrong
	exitSignal = 130 // interrupted; any output directory is as it was
)

const rootHelp = `egmc compiles a short intent into the manifests, Helm values and runbook
that put Envoy Gateway in front of a service mesh (Istio sidecar or ambient,
Cilium) or no mesh at all.

The intent (CUE or YAML) answers which mesh, its state, the gateway's role,
mTLS and observability, and lists the routes. egmc checks it against the
embedded schema and ownership rules, refuses what cannot work, and prints
one ordered, deterministic YAML stream.

Examples:
  egmc build intent.cue                 print the manifests
  egmc build intent.yaml -o rendered/   write manifests, Helm values, RUNBOOK.md
  egmc version                          print egmc's version and pinned upstreams`

// Main runs egmc with the process's arguments and returns the exit code.
// An interrupt (SIGINT, SIGTERM) stops it with exitSignal after removing
// any half-written output directory.
func Main() int {
	tuneGC()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		emit.Abort()
		fmt.Fprintf(os.Stderr, "egmc: interrupted (%v)\n", s)
		os.Exit(exitSignal)
	}()
	return Run(os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs egmc with args, writing to stdout and stderr, and returns the
// exit code. Errors are printed once, here.
func Run(args []string, stdout, stderr io.Writer) int {
	return RunIO(args, os.Stdin, stdout, stderr)
}

// RunIO is Run with its own standard input (egmc init prompts on it when
// it is a terminal).
func RunIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(context.Background())
	if err == nil {
		return exitOK
	}
	if err == errNoCommand {
		return exitUsage
	}
	var usage *usageError
	if errors.As(err, &usage) || isCobraUsage(cmd, err) {
		fmt.Fprintf(stderr, "egmc: %s\nRun '%s --help' for usage.\n", escapeLines(err.Error()), cmd.CommandPath())
		return exitUsage
	}
	if err != errSilent {
		printError(stderr, err)
	}
	return exitError
}

// errNoCommand is egmc run without a command: the help is printed.
var errNoCommand = errors.New("no command")

// errSilent fails a command whose findings are already printed.
var errSilent = errors.New("findings reported")

// newRoot builds a fresh command tree.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "egmc",
		Short:         "Envoy Gateway mesh compiler",
		Long:          rootHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(),
		// egmc alone names no command: the help, on stderr, and exit 2.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			if err := cmd.Help(); err != nil {
				return err
			}
			return errNoCommand
		},
	}
	root.SetVersionTemplate("egmc {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	// one Compiler for the process: the schema and profiles compile once.
	// The cache ($EGMC_CACHE, EGMC_CACHE=off) only saves time: when it
	// cannot be opened, egmc compiles without it.
	cch, _ := cache.Default()
	c := compiler.New(compiler.WithCache(cch))
	root.AddCommand(newBuildCmd(c), newCompletionCmd(), newDiffCmd(c), newExplainCmd(c), newInitCmd(c), newLintCmd(c), newRulesCmd(c), newSchemaCmd(c), newVersionCmd())
	addCompletions(root)
	return root
}

// printError prints an error once: diagnostics one per line, anything
// else prefixed with egmc.
func printError(w io.Writer, err error) {
	var l diag.List
	if errors.As(err, &l) {
		for _, d := range l {
			fmt.Fprintln(w, d.String())
		}
		return
	}
	fmt.Fprintf(w, "egmc: %s\n", escapeLines(err.Error()))
}

// escapeLines escapes the control characters of each line of a message
// that is not a diagnostic (an internal error may span lines).
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = diag.Escape(l)
	}
	return strings.Join(lines, "\n")
}

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// isCobraUsage recognises cobra's own argument and command errors.
func isCobraUsage(cmd *cobra.Command, err error) bool {
	if cmd == nil {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if len(msg) >= len(p) && (msg[:len(p)] == p) {
			return true
		}
	}
	return false
}

// exactArgs is cobra.ExactArgs with a usage error that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("%s needs %s, got %d argument(s)", cmd.Name(), what, len(args))}
		}
		return nil
	}
}

// maxArgs is cobra.MaximumNArgs with a usage error that names what is
// expected.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return &usageError{fmt.Errorf("%s takes at most %s, got %d arguments", cmd.Name(), what, len(args))}
		}
		return nil
	}
}
