package cli

import (
	"os"
	"runtime/debug"
)

// gcPercent is egmc's default GOGC. CUE evaluation allocates a large
// graph of small objects that stays live until the output is written, so
// with the runtime's default of 100 the collector marks that graph again
// at every doubling of the heap: a third of the CPU time of a large
// build, and more of `egmc lint`'s. At 400 a 1000-route build takes about
// a tenth less wall time and lint of 200 intents about a third less, for
// a higher peak memory (docs/performance.md).
const gcPercent = 400

// tuneGC sets gcPercent, unless the user set GOGC or GOMEMLIMIT, which
// then rule as the Go runtime documents.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
}
