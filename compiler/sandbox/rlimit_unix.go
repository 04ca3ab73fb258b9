//go:build unix

package sandbox

import "syscall"

// limitData caps the child's data segment (private writable mappings,
// where Go's heap lives) at n bytes, so that an allocation far past the
// memory limit between two of watchMemory's samples fails at once (the
// Go runtime then dies with "out of memory"). Address space (RLIMIT_AS)
// cannot be used: Go reserves more than a GiB of it at start.
func limitData(n uint64) error {
	return syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: n, Max: n})
}
