package compiler_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

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

// render is everything a compile gives, as one text: the stream, the
// output directory's files, the explanation and the warnings, or the
// error.
func render(t *testing.T, c *compiler.Compiler, name string, src []byte) string {
	t.Helper()
	res, err := c.CompileBytes(context.Background(), name, src, everything)
	if err != nil {
		return "error: " + err.Error()
	}
	var b bytes.Buffer
	b.WriteString(stream(t, c, name, src))
	files, err := res.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fmt.Fprintf(&b, "--- %s\n%s", f.Name, f.Data)
	}
	b.Write(res.Explain.Text())
	b.WriteString(res.Warnings.Error())
	return b.String()
}

// stream is what a build to stdout gives (no runbook, so the route
// generators leave out its notes, under keys of their own): the stream
// and the warnings, or the error.
func stream(t *testing.T, c *compiler.Compiler, name string, src []byte) string {
	t.Helper()
	res, err := c.CompileBytes(context.Background(), name, src, compiler.Options{})
	if err != nil {
		return "error: " + err.Error()
	}
	s, err := res.Stream()
	if err != nil {
		t.Fatal(err)
	}
	return string(s) + res.Warnings.Error()
}
