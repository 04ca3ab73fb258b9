package compiler_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"egmc.dev/egmc/internal/intentgen"
)

// TestDeterministicAcrossProcsAndDirectories builds every example with
// one and with several CPUs, and from another working directory, and
// expects the same bytes each time (stream, values, runbook, explain).
func TestDeterministicAcrossProcsAndDirectories(t *testing.T) {
	files := exampleFiles(t)
	build := func(f string) []byte {
		res, err := compileFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var b bytes.Buffer
		s, _ := res.Stream()
		b.Write(s)
		for _, v := range res.Values {
			b.Write(v.YAML)
		}
		b.Write(res.Runbook.Markdown())
		b.Write(res.Explain.Text())
		return b.Bytes()
	}
	want := map[string][]byte{}
	for _, f := range files {
		want[f] = build(f)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, f := range files {
		if !bytes.Equal(build(f), want[f]) {
			t.Errorf("%s: GOMAXPROCS=1 changes the output", f)
		}
	}
	runtime.GOMAXPROCS(8)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !bytes.Equal(build(filepath.Join(wd, f)), want[f]) {
			t.Errorf("%s: another working directory changes the output", f)
		}
	}
}

// TestDeterministicProcesses runs the egmc binary twice per example with
// different GOMAXPROCS (each process also seeds map iteration anew), and
// compares the bytes.
func TestDeterministicProcesses(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "egmc")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/egmc").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, f := range exampleFiles(t)[:4] {
		var outs [][]byte
		for _, env := range [][]string{{"GOMAXPROCS=1"}, {"GOMAXPROCS=2"}} {
			cmd := exec.Command(bin, "build", f)
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			outs = append(outs, out)
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: two processes print different bytes", f)
		}
	}
}

// TestRandomIntentsAnyWorkerCount compiles generated intents large enough
// for several route workers (internal/intentgen, every profile and route
// feature) with one CPU and with two, and expects the same bytes, or the
// same error, each time: the map and reduce steps must not depend on
// which worker evaluates what.
func TestRandomIntentsAnyWorkerCount(t *testing.T) {
	build := func(src []byte) string { return render(t, testCompiler, "intent.yaml", src) }
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	var built int
	for seed := uint64(1000); seed < 1024; seed++ {
		src := intentgen.Random(seed, 48)
		runtime.GOMAXPROCS(2)
		two := build(src)
		runtime.GOMAXPROCS(1)
		one := build(src)
		if one != two {
			t.Errorf("seed %d: one CPU and two CPUs differ:\n%s", seed, diffLines(one, two))
		}
		if !strings.HasPrefix(two, "error: ") {
			built++
		}
	}
	t.Logf("%d of 24 generated intents built", built)
	if built < 4 {
		t.Errorf("only %d of 24 generated intents built: the generator no longer covers the route workers", built)
	}
}

// diffLines returns the first differing line of a and b.
func diffLines(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(la), len(lb))
}
