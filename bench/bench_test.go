package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"egmc.dev/egmc/compiler/unify"
)

// The binaries under test, built once: egmc, and the floors it is
// measured against (./floor).
var egmc, floorEmpty, floorCUE string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "egmc-bench")
	if err != nil {
		panic(err)
	}
	// the floors are //go:build ignore programs, built by file name, so
	// that go install ./... (pre-commit's) leaves them out.
	for _, b := range []struct {
		path      *string
		name, src string
	}{{&egmc, "egmc", "../cmd/egmc"}, {&floorEmpty, "empty", "./floor/empty/main.go"}, {&floorCUE, "cue", "./floor/cue/main.go"}} {
		*b.path = filepath.Join(dir, b.name)
		if out, err := exec.Command("go", "build", "-o", *b.path, b.src).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.src, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes egmc and returns its stdout and peak resident memory.
func run(b *testing.B, args ...string) ([]byte, int64) {
	return runBinary(b, egmc, args...)
}

// runBinary executes a binary and returns its stdout and peak resident
// memory.
//
// Go starts a child with vfork (CLONE_VM), and Linux keeps the
// high-water mark of the memory it leaves at exec: the rusage of a child
// of this test process never reports less than the test process's own
// resident size (about 60 MiB). GNU time, when the machine has it, forks
// the child from its own small process, so its figure is the child's.
func runBinary(b *testing.B, bin string, args ...string) ([]byte, int64) {
	var peakFile string
	cmd := exec.Command(bin, args...)
	if timeCmd != "" {
		peakFile = filepath.Join(b.TempDir(), "peak")
		cmd = exec.Command(timeCmd, append([]string{"-f", "%M", "-o", peakFile, bin}, args...)...)
	}
	cmd.Env = append(os.Environ(), "EGMC_CACHE="+cacheDir)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
	}
	if peakFile == "" {
		return out.Bytes(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	}
	data, err := os.ReadFile(peakFile)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		b.Fatalf("GNU time's peak memory %q: %v", data, err)
	}
	return out.Bytes(), kib * 1024
}

// cacheDir is the EGMC_CACHE of the runs: off, so that every run is
// cold, but for the warm benchmarks.
var cacheDir = "off"

// timeCmd is GNU time, when the machine has it (Debian package time).
var timeCmd = func() string {
	if exec.Command("/usr/bin/time", "-f", "%M", "true").Run() != nil {
		return ""
	}
	return "/usr/bin/time"
}()

// processBench runs egmc once per iteration and reports the peak memory.
func processBench(b *testing.B, args ...string) []byte {
	return binaryBench(b, egmc, args...)
}

// binaryBench runs a binary once per iteration and reports the peak
// memory.
func binaryBench(b *testing.B, bin string, args ...string) []byte {
	var out []byte
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, rss := runBinary(b, bin, args...)
		out = o
		if rss > peak {
			peak = rss
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(0, "ns/op") // reported again below as ms
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	return out
}

func writeTemp(b *testing.B, name string, data []byte) string {
	p := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// buildArgs are the arguments of egmc build for an intent of n routes:
// past unify.DefaultMaxRoutes, with --max-routes, as a user with a larger
// fleet runs it.
func buildArgs(n int, file string) []string {
	if n > unify.DefaultMaxRoutes {
		return []string{"build", "--max-routes", strconv.Itoa(n), file}
	}
	return []string{"build", file}
}

// BenchmarkBuild is whole-process egmc build by number of routes.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			processBench(b, buildArgs(n, writeTemp(b, "intent.yaml", Intent(n)))...)
		})
	}
}

// BenchmarkBuildSharedHosts is whole-process egmc build of intents whose
// routes share 400 hostnames, 4 per route: the cost should grow linearly
// with routes x hostnames.
func BenchmarkBuildSharedHosts(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			processBench(b, buildArgs(n, writeTemp(b, "intent.yaml", SharedHosts(n)))...)
		})
	}
}

// BenchmarkFloor is what egmc's whole-process times are measured
// against: a Go program that does nothing, and one that links CUE and
// evaluates a trivial template once (the floor of the minimal intent) or
// once per route (the floor of a route-by-route CUE compiler).
func BenchmarkFloor(b *testing.B) {
	b.Run("empty", func(b *testing.B) { binaryBench(b, floorEmpty) })
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("cue/routes=%d", n), func(b *testing.B) { binaryBench(b, floorCUE, fmt.Sprint(n)) })
	}
}

// BenchmarkBuildWarm is whole-process egmc build of the 1000-route intent
// with a warm cache: unchanged (every route and hostname in the cache),
// and with one route changed (each run gives route r7 a path prefix no
// run had before, so that it evaluates r7 and its hostname again and
// reads the rest). Re-emit is the yardstick (BenchmarkReemit).
func BenchmarkBuildWarm(b *testing.B) {
	cacheDir = filepath.Join(b.TempDir(), "cache")
	defer func() { cacheDir = "off" }()
	intent := writeTemp(b, "intent.yaml", Intent(1000))
	run(b, "build", intent)
	b.Run("unchanged", func(b *testing.B) { processBench(b, "build", intent) })
	b.Run("one-changed", func(b *testing.B) {
		var peak int64
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			prefix := fmt.Sprintf("pathPrefix: /q7-%d-%d/", b.N, i)
			p := writeTemp(b, "changed.yaml", bytes.Replace(Intent(1000), []byte("pathPrefix: /p7/"), []byte(prefix), 1))
			start := time.Now()
			_, rss := run(b, "build", p)
			elapsed += time.Since(start)
			peak = max(peak, rss)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms/op")
	})
}

// BenchmarkMinimal is whole-process egmc build of the spec's minimal intent.
func BenchmarkMinimal(b *testing.B) {
	processBench(b, "build", writeTemp(b, "intent.cue", []byte(Minimal)))
}

// BenchmarkSideBySide alternates, in each iteration, a whole-process
// build of the 1000-route intent and the re-emit of its output, and
// reports both times and their ratio (the target is a ratio of at most 1).
// Alternating keeps the two under the same machine conditions.
func BenchmarkSideBySide(b *testing.B) {
	intent := writeTemp(b, "intent.yaml", Intent(1000))
	out, _ := run(b, "build", intent)
	docs := bytes.Split(out, []byte("\n---\n"))
	var build, reemit time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		run(b, "build", intent)
		build += time.Since(start)
		start = time.Now()
		reemitDocs(b, docs)
		reemit += time.Since(start)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(build.Milliseconds())/float64(b.N), "build-ms/op")
	b.ReportMetric(float64(reemit.Milliseconds())/float64(b.N), "reemit-ms/op")
	b.ReportMetric(float64(build)/float64(reemit), "build/reemit")
}

// reemitDocs decodes and re-encodes each YAML document with
// sigs.k8s.io/yaml.
func reemitDocs(b *testing.B, docs [][]byte) []byte {
	var buf bytes.Buffer
	for _, d := range docs {
		var v any
		if err := yaml.Unmarshal(d, &v); err != nil {
			b.Fatal(err)
		}
		y, err := yaml.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(y)
		buf.WriteString("---\n")
	}
	return buf.Bytes()
}

// BenchmarkReemit decodes and re-encodes egmc's own output for the
// 1000-route intent with sigs.k8s.io/yaml, document by document: the
// cost egmc is measured against.
func BenchmarkReemit(b *testing.B) {
	out, _ := run(b, "build", writeTemp(b, "intent.yaml", Intent(1000)))
	docs := bytes.Split(out, []byte("\n---\n"))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		reemitDocs(b, docs)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
}

// BenchmarkLint200 is one egmc lint call over 200 intents, with no cache
// and with a warm one.
func BenchmarkLint200(b *testing.B) {
	args := lintArgs(b)
	b.Run("cold", func(b *testing.B) { processBench(b, args...) })
	// warm: the cache holds every route, as on a pre-commit run that
	// follows another.
	cacheDir = filepath.Join(b.TempDir(), "cache")
	defer func() { cacheDir = "off" }()
	run(b, args...)
	b.Run("warm", func(b *testing.B) { processBench(b, args...) })
}

// lintArgs writes 200 intents of 1 to 5 routes and returns the egmc lint
// command line for them.
func lintArgs(b *testing.B) []string {
	dir := b.TempDir()
	args := []string{"lint"}
	for i := 0; i < 200; i++ {
		p := filepath.Join(dir, fmt.Sprintf("intent-%03d.yaml", i))
		if err := os.WriteFile(p, Intent(1+i%5), 0o644); err != nil {
			b.Fatal(err)
		}
		args = append(args, p)
	}
	return args
}
