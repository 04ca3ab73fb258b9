//go:build !unix

package sandbox

// limitData does nothing where there are no resource limits: the child's
// memory is then bounded by watchMemory alone.
func limitData(uint64) error { return nil }
