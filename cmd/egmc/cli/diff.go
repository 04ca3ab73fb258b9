package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/load"
)

const diffHelp = `Diff compares what an intent compiles to with rendered manifests committed
in git (the rendered-manifests pattern): PATH is a YAML stream (from
egmc build > FILE) or an output directory (from egmc build -o DIR).

Objects are matched by group, kind, namespace and name, and compared as
data: diff prints each object that would be added (+), removed (-) or
changed (~, with the fields that differ). For a directory it also compares
the Helm values files and RUNBOOK.md. Diff exits 1 when there is any
difference, 0 otherwise: a CI check that the committed output is current.
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
			in, err := loadIntent(cmd, args[0], stdinFile)
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
	for _, r := range report {
		fmt.Fprintln(w, r)
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

// phaseFile matches the phase files of an output directory.
var phaseFile = regexp.MustCompile(`^[0-9]{2}-[a-z]+\.yaml$`)

// compareDir compares the objects of the phase files, the values files
// and RUNBOOK.md of an output directory.
func compareDir(res *compiler.Result, want []byte, dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var got bytes.Buffer
	for _, e := range entries {
		if phaseFile.MatchString(e.Name()) {
			b, err := readOutput(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			if got.Len()+len(b) > maxOutput {
				return nil, fmt.Errorf("%s: the phase files are larger than %d MiB together, more than egmc writes for any intent: is it an egmc output directory?", dir, maxOutput>>20)
			}
			got.WriteString("---\n")
			got.Write(b)
		}
	}
	report, err := compareObjects(want, got.Bytes(), dir)
	if err != nil {
		return nil, err
	}
	files, err := res.Files()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if phaseFile.MatchString(f.Name) {
			continue
		}
		report = append(report, compareFile(filepath.Join(dir, f.Name), f.Data)...)
	}
	return report, nil
}

// compareFile compares a values file (as data) or RUNBOOK.md (as text).
func compareFile(path string, want []byte) []string {
	got, err := load.ReadLimited(path, maxOutput)
	if err != nil {
		return []string{fmt.Sprintf("+ %s (missing)", filepath.Base(path))}
	}
	if strings.HasSuffix(path, ".yaml") {
		var w, g any
		if yaml.Unmarshal(want, &w) == nil && yaml.Unmarshal(got, &g) == nil {
			if d := cmp.Diff(g, w); d != "" {
				return []string{fmt.Sprintf("~ %s:\n%s", filepath.Base(path), indent(d))}
			}
			return nil
		}
	}
	if !bytes.Equal(got, want) {
		return []string{fmt.Sprintf("~ %s:\n%s", filepath.Base(path), indent(cmp.Diff(strings.Split(string(got), "\n"), strings.Split(string(want), "\n"))))}
	}
	return nil
}

// compareObjects matches the objects of two streams by identity.
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
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	var report []string
	for _, id := range sorted {
		wo, inW := w[id]
		gobj, inG := g[id]
		switch {
		case !inG:
			report = append(report, "+ "+id+" (new)")
		case !inW:
			report = append(report, "- "+id+" (no longer generated)")
		default:
			if d := cmp.Diff(gobj, wo); d != "" {
				report = append(report, fmt.Sprintf("~ %s:\n%s", id, indent(d)))
			}
		}
	}
	return report, nil
}

// objectsByID decodes a YAML stream into objects keyed "Kind
// namespace/name (group)".
func objectsByID(stream []byte) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
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
		out[objectID(obj)] = obj
	}
	return out, nil
}

func objectID(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name := fmt.Sprint(md["name"])
	if ns, ok := md["namespace"].(string); ok && ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%v %s (%v)", obj["kind"], name, obj["apiVersion"])
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}
