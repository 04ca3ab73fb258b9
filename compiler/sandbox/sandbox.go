// Package sandbox bounds the evaluation of the CUE an intent's author
// wrote. A CUE intent may compute (comprehensions, interpolation, the
// standard library), and CUE's evaluation cannot be interrupted: one
// list.Range of ten million, or a string doubled forty times, runs for
// minutes and takes gigabytes. So before egmc evaluates a CUE intent in
// its own process, Check evaluates it in a child process (egmc's own
// executable, started again in child mode) that is killed past a time
// limit and exits past a memory limit. An intent that finishes there
// finishes the same way in egmc: the evaluation is deterministic.
//
// The child mode is entered from this package's init, when the
// environment says so (as reexec helpers do), so it works for egmc and
// for any test binary that links the compiler alike.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/metrics"
	"strconv"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/load"
	"egmc.dev/egmc/compiler/module"
)

// Limits bound one evaluation.
type Limits struct {
	// Time is the most wall time the child may take.
	Time time.Duration
	// Memory is the most heap the child may hold.
	Memory uint64
}

// Default: the user's own CUE of the largest intent egmc compiles (5000
// routes from a comprehension) evaluates in well under a second and 100
// MiB.
var Default = Limits{Time: 5 * time.Second, Memory: 512 << 20}

// Environment of the child: childEnv marks child mode, and carries the
// file name and the memory limit.
const (
	childEnv  = "EGMC_SANDBOX_CHILD"
	nameEnv   = "EGMC_SANDBOX_NAME"
	memoryEnv = "EGMC_SANDBOX_MEMORY"
)

// dataHeadroom is what the child's data segment may hold beyond the heap
// limit: the runtime's own structures, and the last allocation before
// watchMemory sees the heap pass its limit.
const dataHeadroom = 256 << 20

// Exit codes of the child.
const (
	exitDone   = 0
	exitMemory = 3
	exitFault  = 4
)

func init() {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
}

// Check evaluates the CUE intent src, named filename, in a child process
// within lim. It returns nil when the evaluation finishes (whether or not
// the intent is valid: egmc then says why it is not), a diag.List at the
// file when it does not, and ctx's error when ctx is done.
func Check(ctx context.Context, filename string, src []byte, lim Limits) error {
	exe, err := os.Executable()
	if err != nil {
		return diag.Internalf("starting the CUE sandbox: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Time)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"=1", nameEnv+"="+filename, memoryEnv+"="+strconv.FormatUint(lim.Memory, 10), "GOMAXPROCS=1")
	cmd.Stdin = bytes.NewReader(src)
	var stderr capped
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() == context.DeadlineExceeded:
		return refused(filename, lim)
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &exit) && (exit.ExitCode() == exitMemory || outOfMemory(stderr.Bytes())):
		return refused(filename, lim)
	}
	return diag.Internalf("the CUE sandbox failed: %v: %s", err, firstLine(stderr.Bytes()))
}

// outOfMemory tells whether the child's runtime died for want of memory:
// an allocation past the data limit between two samples of watchMemory
// (the Go runtime's "out of memory" or "cannot allocate memory", or the
// race detector's "failed to allocate ... (errno: 12)", ENOMEM).
func outOfMemory(stderr []byte) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "(errno: 12)"} {
		if bytes.Contains(stderr, []byte(s)) {
			return true
		}
	}
	return false
}

// firstLine is the first line of the child's error output.
func firstLine(b []byte) []byte {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	return line
}

// capped keeps the first 64 KiB written to it: enough for the start of a
// crash, never the memory of an endless one.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := 64<<10 - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// refused is the diagnostic of an evaluation out of bounds. It names both
// limits: which one an evaluation meets first depends on the machine's
// speed, and the message must not.
func refused(filename string, lim Limits) error {
	msg := fmt.Sprintf("evaluating the intent's CUE went past egmc's bounds (%s, %d MiB): an intent may compute its routes, but not without bound (a huge list.Range, strings doubled again and again, nested comprehensions, chained disjunctions): simplify it", lim.Time, lim.Memory>>20)
	return diag.List{{Filename: filename, Line: 1, Column: 1, Message: msg}}
}

// child is the child process: it evaluates the intent on its standard
// input as egmc would, and exits past the memory limit.
func child() int {
	limit, err := strconv.ParseUint(os.Getenv(memoryEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: bad memory limit:", err)
		return exitFault
	}
	if err := limitData(limit + dataHeadroom); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: limiting memory:", err)
		return exitFault
	}
	go watchMemory(limit)
	src, err := io.ReadAll(io.LimitReader(os.Stdin, load.MaxSize+1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: reading the intent:", err)
		return exitFault
	}
	evaluate(os.Getenv(nameEnv), src)
	return exitDone
}

// evaluate does what egmc does with the user's CUE before the schema's
// checks: build it, validate it, encode it, and, when it is not concrete,
// resolve it against #Intent. Errors are egmc's to report, not the
// child's.
func evaluate(filename string, src []byte) {
	in, err := load.Parse(filename, load.CUE, src)
	if err != nil {
		return
	}
	user := cuecontext.New().BuildFile(in.File)
	if user.Err() != nil || user.Validate() != nil {
		return
	}
	if _, err := user.MarshalJSON(); err == nil {
		return
	}
	s, err := module.NewEmbedded().Schema()
	if err != nil {
		return
	}
	_ = s.Intent().Unify(user).Validate(cue.Concrete(true))
}

// watchMemory exits the child when its heap passes limit bytes.
func watchMemory(limit uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for range time.Tick(5 * time.Millisecond) {
		metrics.Read(sample)
		if sample[0].Value.Uint64() > limit {
			os.Exit(exitMemory)
		}
	}
}
