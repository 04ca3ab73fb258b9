//go:build ignore

// Command empty is the first floor of egmc's whole-process benchmarks: a
// Go program that starts and exits.
//
// It is a //go:build ignore program, built by file name, so that go
// install ./... (what pre-commit's golang hooks run) leaves it out.
package main

func main() {}
