package cli

import (
	"os"
	"runtime/debug"
)

// gcPercent is egmc's default GOGC. Evaluating a route allocates about
// 3 MiB of short-lived CUE graph, so with the runtime's default of 100 the
// collector runs every few routes: at 400 a 1000-route build takes about a
// fifth less wall time, and lint of 200 intents a sixth less
// (docs/performance.md).
const gcPercent = 400

// memoryLimit is egmc's default soft memory limit (GOMEMLIMIT). The live
// heap of a route-by-route build stays small until its end (about 30 MiB
// for 1000 routes, 220 MiB for 5000), so GOGC=400 alone would let the
// heap grow to five times that between collections: 330 MiB for 1000
// routes, 950 MiB for 5000. The limit makes the collector run before
// that: 1000 routes peak at about 220 MiB for the same time; 5000 routes
// at about 460 MiB, for more collector time.
const memoryLimit = 256 << 20

// tuneGC sets gcPercent unless the user set GOGC, and memoryLimit unless
// the user set GOMEMLIMIT: each setting of the user's rules as the Go
// runtime documents, and the other keeps egmc's default (a sidecar with
// less memory sets GOMEMLIMIT below its limit and keeps GOGC=400).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
