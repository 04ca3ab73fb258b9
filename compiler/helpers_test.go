package compiler_test

import (
	"context"

	"egmc.dev/egmc/compiler"
)

// testCompiler is the tests' one Compiler, as egmc has one per process.
var testCompiler = compiler.New()

// everything asks a compile for every output: the objects, the output
// directory's files and the explanation.
var everything = compiler.Options{Files: true, Explain: true}

// compileFile compiles an intent file for everything.
func compileFile(filename string) (*compiler.Result, error) {
	return testCompiler.CompileFile(context.Background(), filename, everything)
}

// compileBytes compiles an intent's source for everything.
func compileBytes(filename string, src []byte) (*compiler.Result, error) {
	return testCompiler.CompileBytes(context.Background(), filename, src, everything)
}
