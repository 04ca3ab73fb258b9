package golden_test

import "egmc.dev/egmc/compiler"

// testCompiler is the tests' one Compiler, as egmc has one per process.
var testCompiler = compiler.New()

// everything asks a compile for every output: the objects, the output
// directory's files and the explanation.
var everything = compiler.Options{Files: true, Explain: true}
