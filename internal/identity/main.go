//go:build ignore

// Command identity compares, byte for byte, every output of the egmc built
// from the work tree with that of the egmc built at a git revision, on a
// corpus of intents: the examples, the benchmark intents and random
// intents of internal/intentgen (every profile and route feature, some
// refused). For each intent it compares the stream and its exit code and
// errors, the -o directory, explain (text and mermaid) and lint. A change
// that must not change the output (a restructuring, a speed-up) proves it
// with
//
//	make identity REF=<revision>
//
// which exits 1 and lists the differences when there is any. It is a
// //go:build ignore program, run by file name (go run
// ./internal/identity/main.go), so that go install ./... (what
// pre-commit's golang hooks run) installs egmc alone.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"egmc.dev/egmc/bench"
	"egmc.dev/egmc/internal/intentgen"
)

func main() {
	ref := flag.String("ref", "", "the git `revision` whose egmc the work tree's is compared with (required)")
	random := flag.Int("random", 400, "how many random intents to compare")
	flag.Parse()
	if *ref == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: identity -ref REVISION [-random N]")
		os.Exit(2)
	}
	if err := run(*ref, *random); err != nil {
		fmt.Fprintln(os.Stderr, "identity:", err)
		os.Exit(1)
	}
}

func run(ref string, random int) error {
	tmp, err := os.MkdirTemp("", "egmc-identity")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	before, after := filepath.Join(tmp, "egmc-"+ref), filepath.Join(tmp, "egmc-worktree")
	if err := buildAt(ref, filepath.Join(tmp, "src"), before); err != nil {
		return err
	}
	if out, err := exec.Command("go", "build", "-o", after, "./cmd/egmc").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	corpus, err := writeCorpus(filepath.Join(tmp, "corpus"), random)
	if err != nil {
		return err
	}
	diffs := compareAll(before, after, corpus, tmp)
	for _, d := range diffs {
		fmt.Println(d)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d difference(s) between %s and the work tree over %d intents", len(diffs), ref, len(corpus))
	}
	fmt.Printf("identical: %d intents, every output, %s and the work tree\n", len(corpus), ref)
	return nil
}

// buildAt builds egmc as it was at revision ref, from a detached work
// tree at dir.
func buildAt(ref, dir, out string) error {
	if b, err := exec.Command("git", "worktree", "add", "--detach", dir, ref).CombinedOutput(); err != nil {
		return fmt.Errorf("git worktree add %s: %v\n%s", ref, err, b)
	}
	defer exec.Command("git", "worktree", "remove", "--force", dir).Run()
	cmd := exec.Command("go", "build", "-o", out, "./cmd/egmc")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build at %s: %v\n%s", ref, err, b)
	}
	return nil
}

// writeCorpus writes the intents to dir and returns their paths, sorted.
func writeCorpus(dir string, random int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"bench-1.yaml":    bench.Intent(1),
		"bench-10.yaml":   bench.Intent(10),
		"bench-100.yaml":  bench.Intent(100),
		"bench-1000.yaml": bench.Intent(1000),
		"hosts-400.yaml":  bench.SharedHosts(1000),
		"minimal.cue":     []byte(bench.Minimal),
	}
	for i := range random {
		files[fmt.Sprintf("rand-%03d.yaml", i)] = intentgen.Random(uint64(i), 1+i%25)
	}
	examples, err := filepath.Glob("examples/*/intent.*")
	if err != nil {
		return nil, err
	}
	for _, e := range examples {
		b, err := os.ReadFile(e)
		if err != nil {
			return nil, err
		}
		files["ex-"+filepath.Base(filepath.Dir(e))+filepath.Ext(e)] = b
	}
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths, nil
}

// compareAll compares the two binaries on every intent, on one worker per
// CPU, and returns the differences in corpus order.
func compareAll(before, after string, corpus []string, tmp string) []string {
	diffs := make([][]string, len(corpus))
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				diffs[i] = compare(before, after, corpus[i], filepath.Join(tmp, "out", fmt.Sprint(i)))
			}
		})
	}
	for i := range corpus {
		work <- i
	}
	close(work)
	wg.Wait()
	return slices.Concat(diffs...)
}

// large intents are compared on their stream only: the other outputs
// take minutes there and are covered by the smaller intents.
func large(intent string) bool {
	base := filepath.Base(intent)
	return base == "bench-1000.yaml" || base == "hosts-400.yaml"
}

// compare runs every command on one intent with both binaries.
func compare(before, after, intent, dir string) []string {
	cmds := [][]string{{"build", intent}}
	if !large(intent) {
		cmds = append(cmds,
			[]string{"build", intent, "-o", "DIR"},
			[]string{"explain", intent},
			[]string{"explain", "--format", "mermaid", intent},
			[]string{"lint", intent})
	}
	var diffs []string
	for _, args := range cmds {
		a := capture(before, args, filepath.Join(dir, "before"))
		b := capture(after, args, filepath.Join(dir, "after"))
		if a != b {
			diffs = append(diffs, fmt.Sprintf("egmc %s:\n%s", strings.Join(args, " "), firstDifference(a, b)))
		}
	}
	return diffs
}

// capture runs one command and returns everything it printed and wrote:
// stdout, stderr (with the output directory's name replaced), the exit
// code, and the files of the output directory.
func capture(bin string, args []string, dir string) string {
	os.RemoveAll(dir)
	args = slices.Clone(args)
	for i, a := range args {
		if a == "DIR" {
			args[i] = dir
		}
	}
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout.String(), strings.ReplaceAll(stderr.String(), dir, "DIR"))
	// every file of the output directory, subdirectories (helm/) too
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		if err != nil {
			data = []byte(err.Error())
		}
		fmt.Fprintf(&b, "--- file %s\n%s", filepath.ToSlash(rel), data)
		return nil
	})
	return b.String()
}

// firstDifference shows the first line where two captures differ.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("  line %d\n  - %s\n  + %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("  one ends at line %d, the other at %d", len(al), len(bl))
}
