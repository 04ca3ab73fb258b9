// Command empty is the first floor of egmc's whole-process benchmarks: a
// Go program that starts and exits.
package main

func main() {}
