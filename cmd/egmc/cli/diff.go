package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	"sigs.k8s.io/yaml"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/layout"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/order"
)

const diffHelp = `Diff compares what an intent compiles to with rendered manifests committed
in git (the rendered-manifests pattern): PATH is a YAML stream (from
egmc build > FILE) or an output directory (from egmc build -o DIR).

Objects are matched by group, kind, namespace and name and compared as
data: diff prints a unified diff of each object's YAML (keys sorted, so
that formatting alone is no difference) that a build would add, remove or
change, headed --- a/<kind>/<namespace>/<name> and +++ b/..., as kubectl
diff does; a is the rendered output, b what egmc builds now. For a
directory it also compares the Helm values files and RUNBOOK.md, and shows
as removed the values files an earlier build wrote that a build now would
delete. Colour only on a terminal (and never with NO_COLOR). Diff exits 1
when there is any difference, 0 otherwise: a CI check that the committed
output is current.
egmc build --check PATH is the same check.

Examples:
  egmc diff intent.yaml rendered/
  egmc diff intent.cue manifests.yaml
  egmc build intent.cue --check rendered/
  egmc diff --stdin-filename intent.cue - rendered/ < intent.cue`

func newDiffCmd(c *compiler.Compiler) *cobra.Command {
	var stdinFile string
	cmd := &cobra.Command{
		Use:   "diff INTENT|DIR|- PATH",
		Short: "Compare an intent's output with rendered manifests",
		Long:  diffHelp,
		Args:  exactArgs(2, "an intent and a rendered file or directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := loadIntent(cmd, args[0], stdinFile, nil)
			if err != nil {
				return err
			}
			res, err := c.Compile(cmd.Context(), in, compiler.Options{Files: true})
			if err != nil {
				return err
			}
			return checkRendered(cmd.OutOrStdout(), res, args[1])
		},
	}
	addStdinFlag(cmd, &stdinFile)
	maxRoutesFlag(cmd, c)
	return cmd
}

// checkRendered compares a result with rendered output at path and
// prints the differences; it fails (silently: the report is printed) when
// there is any.
func checkRendered(w io.Writer, res *compiler.Result, path string) error {
	report, err := compare(res, path)
	if err != nil {
		return err
	}
	if len(report) == 0 {
		return nil
	}
	colour := isTerminal(w) && os.Getenv("NO_COLOR") == ""
	for _, r := range report {
		if colour {
			r = colourDiff(r)
		}
		fmt.Fprint(w, r)
	}
	fmt.Fprintf(w, "%d difference(s) between the intent's output and %s: run egmc build -o (or > FILE) to update it\n", len(report), path)
	return errSilent
}

// compare returns one report line (or block) per difference.
func compare(res *compiler.Result, path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, unwrapPathError(err))
	}
	want, err := res.Stream()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		got, err := readOutput(path)
		if err != nil {
			return nil, err
		}
		return compareObjects(want, got, path)
	}
	return compareDir(res, want, path)
}

// maxOutput is the most diff reads of an output: a stream file, or the
// phase files of a directory together. egmc's largest intent (5000
// routes) writes about 9 MiB.
const maxOutput = 64 << 20

// readOutput reads an output file diff compares with: a regular file of
// at most maxOutput bytes.
func readOutput(path string) ([]byte, error) {
	b, err := load.ReadLimited(path, maxOutput)
	switch {
	case errors.Is(err, load.ErrTooLarge):
		return nil, fmt.Errorf("%s is larger than %d MiB, more than egmc writes for any intent: is it egmc's output?", path, maxOutput>>20)
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, unwrapPathError(err))
	}
	return b, nil
}

// compareDir compares the objects of the phase files, the values files
// and RUNBOOK.md of an output directory (package layout), and shows the
// files a build would remove as removed.
func compareDir(res *compiler.Result, want []byte, dir string) ([]string, error) {
	phases, err := layout.PhaseFiles(dir)
	if err != nil {
		return nil, err
	}
	var got bytes.Buffer
	for _, p := range phases {
		b, err := readOutput(p)
		if err != nil {
			return nil, err
		}
		if got.Len()+len(b) > maxOutput {
			return nil, fmt.Errorf("%s: the phase files are larger than %d MiB together, more than egmc writes for any intent: is it an egmc output directory?", dir, maxOutput>>20)
		}
		got.WriteString("---\n")
		got.Write(b)
	}
	report, err := compareObjects(want, got.Bytes(), dir)
	if err != nil {
		return nil, err
	}
	files, err := res.Files()
	if err != nil {
		return nil, err
	}
	writing := map[string]bool{}
	for _, f := range files {
		writing[f.Name] = true
		if layout.IsPhaseFile(f.Name) {
			continue
		}
		report = append(report, compareFile(dir, f.Name, f.Data)...)
	}
	present, err := layout.Files(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range present {
		if writing[name] || layout.IsPhaseFile(name) {
			continue
		}
		got, err := load.ReadLimited(filepath.Join(dir, filepath.FromSlash(name)), maxOutput)
		if err == nil && layout.WrittenByEgmc(name, got) {
			report = append(report, unified(name, string(got), ""))
		}
	}
	return report, nil
}

// compareFile compares a values file (as data) or RUNBOOK.md (as text)
// with what a build writes.
func compareFile(dir, name string, want []byte) []string {
	got, err := load.ReadLimited(filepath.Join(dir, filepath.FromSlash(name)), maxOutput)
	if err != nil {
		got = nil // missing: the whole file is new
	}
	g, w := canonical(name, got), canonical(name, want)
	if err == nil && g == w {
		return nil
	}
	return []string{unified(name, g, w)}
}

// canonical is a file's text as diff compares it: YAML re-encoded with
// sorted keys (so that formatting is no difference), other text as it is.
func canonical(name string, b []byte) string {
	if strings.HasSuffix(name, ".yaml") && len(b) > 0 {
		var v any
		if yaml.Unmarshal(b, &v) == nil {
			if out, err := yaml.Marshal(v); err == nil {
				return string(out)
			}
		}
	}
	return string(b)
}

// unified is the unified diff of one object or file, from got (the
// rendered output, a/) to want (what egmc builds, b/); "" on either side
// is a file or object that is not there (/dev/null).
func unified(label, got, want string) string {
	from, to := "a/"+label, "b/"+label
	if got == "" {
		from = "/dev/null"
	}
	if want == "" {
		to = "/dev/null"
	}
	return udiff.Unified(from, to, got, want)
}

// compareObjects matches the objects of two streams by identity and
// returns the unified diff of each that differs.
func compareObjects(want, got []byte, where string) ([]string, error) {
	w, err := objectsByID(want)
	if err != nil {
		return nil, fmt.Errorf("egmc's own output: %w", err)
	}
	g, err := objectsByID(got)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ids := map[string]bool{}
	for id := range w {
		ids[id] = true
	}
	for id := range g {
		ids[id] = true
	}
	var report []string
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		wo, go_ := w[id], g[id]
		label := wo.label
		if label == "" {
			label = go_.label
		}
		if wo.yaml != go_.yaml {
			report = append(report, unified(label, go_.yaml, wo.yaml))
		}
	}
	return report, nil
}

// renderedObject is one object of a stream: its path label and its YAML,
// keys sorted.
type renderedObject struct {
	label string
	yaml  string
}

// objectsByID decodes a YAML stream into its objects, keyed by identity
// (order.Object.ID: group|kind|namespace|name, as egmc orders them).
func objectsByID(stream []byte) (map[string]renderedObject, error) {
	out := map[string]renderedObject{}
	for i, doc := range bytes.Split(stream, []byte("\n---")) {
		doc = bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---"))
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		if obj == nil {
			continue
		}
		j, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		o, err := order.FromJSON(order.Phase{}, j)
		if err != nil {
			return nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		label := o.Kind + "/" + o.Name
		if o.Namespace != "" {
			label = o.Kind + "/" + o.Namespace + "/" + o.Name
		}
		out[o.ID()] = renderedObject{label: label, yaml: string(y)}
	}
	return out, nil
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colourDiff colours a unified diff's lines: removed red, added green,
// hunk headers cyan.
func colourDiff(d string) string {
	lines := strings.SplitAfter(d, "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
			lines[i] = "\x1b[1m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		case strings.HasPrefix(l, "@@"):
			lines[i] = "\x1b[36m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		case strings.HasPrefix(l, "-"):
			lines[i] = "\x1b[31m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		case strings.HasPrefix(l, "+"):
			lines[i] = "\x1b[32m" + strings.TrimSuffix(l, "\n") + "\x1b[0m\n"
		}
	}
	return strings.Join(lines, "")
}
