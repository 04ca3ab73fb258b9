// Package load is the first stage of the compiler: it reads an intent file
// (CUE or YAML) and parses it into CUE syntax that keeps the positions of
// the user's file, refusing input that is not a hermetic intent (too large,
// not UTF-8, empty, more than one YAML document, imports beyond the CUE
// standard library, file embedding).
package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/yaml"
	goccyyaml "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"

	"egmc.dev/egmc/compiler/diag"
)

// MaxSize is the largest intent egmc reads (4 MiB, about 20000 routes).
const MaxSize = 4 << 20

// Format of an intent file.
type Format string

const (
	// CUE is an intent written in CUE.
	CUE Format = "cue"
	// YAML is an intent written in YAML.
	YAML Format = "yaml"
)

// Intent is a parsed intent file.
type Intent struct {
	// Filename as given by the user; positions refer to it.
	Filename string
	Format   Format
	// File is the intent as CUE syntax, with the user's positions.
	File *ast.File
	// Source is the file's text.
	Source []byte
}

// ReadFile reads and parses the intent at filename.
func ReadFile(filename string) (*Intent, error) {
	format, err := FormatOf(filename)
	if err != nil {
		return nil, err
	}
	src, err := readLimited(filename)
	if err != nil {
		return nil, err
	}
	return Parse(filename, format, src)
}

// ParseBytes parses src, the contents of filename, in the format its
// extension gives.
func ParseBytes(filename string, src []byte) (*Intent, error) {
	format, err := FormatOf(filename)
	if err != nil {
		return nil, err
	}
	return Parse(filename, format, src)
}

// FormatOf tells the format of a file from its extension.
func FormatOf(filename string) (Format, error) {
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".cue":
		return CUE, nil
	case ".yaml", ".yml":
		return YAML, nil
	}
	return "", diag.List{{Filename: filename, Message: "unknown intent format: name the file *.cue, *.yaml or *.yml"}}
}

func readLimited(filename string) ([]byte, error) {
	src, err := ReadLimited(filename, MaxSize)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, diag.List{{Filename: filename, Message: fmt.Sprintf("the intent is larger than %d MiB: split it into several intents", MaxSize>>20)}}
	case err != nil:
		return nil, diag.List{{Filename: filename, Message: fmt.Sprintf("cannot read the intent: %v", unwrapPath(err))}}
	}
	return src, nil
}

// ErrTooLarge is ReadLimited's error for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is ReadLimited's error for a path that is not a regular
// file (a FIFO, a device, a socket), which could block or never end.
var ErrNotRegular = errors.New("not a regular file: egmc reads only regular files")

// ReadLimited reads a regular file of at most limit bytes. It refuses a
// FIFO or device before opening it (opening a FIFO blocks until a writer
// comes) and a file whose size is over the limit before reading it, and
// stops reading one that grows past the limit.
func ReadLimited(filename string, limit int64) ([]byte, error) {
	fi, err := os.Stat(filename)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: filename, Err: ErrNotRegular}
	}
	if fi.Size() > limit {
		return nil, &os.PathError{Op: "read", Path: filename, Err: ErrTooLarge}
	}
	f, err := os.Open(filename)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: filename, Err: ErrNotRegular}
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, &os.PathError{Op: "read", Path: filename, Err: ErrTooLarge}
	}
	return buf.Bytes(), nil
}

// Parse parses src, the contents of filename, as an intent of the given
// format.
func Parse(filename string, format Format, src []byte) (*Intent, error) {
	if err := checkText(filename, src); err != nil {
		return nil, err
	}
	var (
		f   *ast.File
		err error
	)
	switch format {
	case CUE:
		f, err = parseCUE(filename, src)
	case YAML:
		f, err = parseYAML(filename, src)
	default:
		return nil, fmt.Errorf("load: unknown format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return &Intent{Filename: filename, Format: format, File: f, Source: src}, nil
}

// checkText refuses empty, oversized and non-UTF-8 input.
func checkText(filename string, src []byte) error {
	if len(src) > MaxSize {
		return diag.List{{Filename: filename, Message: fmt.Sprintf("the intent is larger than %d MiB: split it into several intents", MaxSize>>20)}}
	}
	if len(bytes.TrimSpace(src)) == 0 {
		return diag.List{{Filename: filename, Line: 1, Column: 1, Message: "the intent is empty: start from `egmc init` or an example in examples/"}}
	}
	if i := invalidUTF8(src); i >= 0 {
		line, col := lineCol(src, i)
		return diag.List{{Filename: filename, Line: line, Column: col, Message: "the intent is not valid UTF-8: save it as UTF-8 text"}}
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		line, col := lineCol(src, i)
		return diag.List{{Filename: filename, Line: line, Column: col, Message: "the intent holds a NUL byte: it is not a text file"}}
	}
	return checkLineBreaks(filename, src)
}

// checkLineBreaks refuses line breaks other than LF and CR LF.
func checkLineBreaks(filename string, src []byte) error {
	if i, what := oddLineBreak(src); i >= 0 {
		line, col := lineCol(src, i)
		return diag.List{{Filename: filename, Line: line, Column: col, Message: fmt.Sprintf("the file holds %s: end lines with LF (or CR LF), and write the character as an escape inside a double-quoted string if a value needs it", what)}}
	}
	return nil
}

// ExtractYAML parses a YAML file of any content (manifests as well as an
// intent) as CUE's YAML decoder does, after refusing the line breaks
// that mislead or crash it, and with a panic of the decoder returned as
// a syntax error.
func ExtractYAML(filename string, src []byte) (*ast.File, error) {
	if err := checkLineBreaks(filename, src); err != nil {
		return nil, err
	}
	f, err := extractYAML(filename, src)
	if err != nil {
		return nil, yamlSyntax(filename, src, err)
	}
	return f, nil
}

// oddLineBreak returns the offset of the first line break other than LF
// and CR LF, and its name, or -1. The YAML decoder takes a lone CR, NEL,
// LS or PS for a line break where CUE and egmc's positions do not (a
// file of such lines crashes the decoder: cuelang.org/go v0.17.1,
// yamlOffset), and CUE takes a lone CR for a space: positions would
// point at the wrong line either way.
func oddLineBreak(src []byte) (int, string) {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == '\r' && (i+1 == len(src) || src[i+1] != '\n'):
			return i, "a carriage return (CR) without a line feed"
		case r == '\u0085':
			return i, "a next-line character (U+0085)"
		case r == '\u2028':
			return i, "a line separator (U+2028)"
		case r == '\u2029':
			return i, "a paragraph separator (U+2029)"
		}
		i += size
	}
	return -1, ""
}

func parseCUE(filename string, src []byte) (*ast.File, error) {
	f, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return nil, fromSyntax(filename, err)
	}
	if err := checkHermetic(f); err != nil {
		return nil, err
	}
	return f, nil
}

func parseYAML(filename string, src []byte) (*ast.File, error) {
	f, err := extractYAML(filename, src)
	if err != nil {
		return nil, yamlSyntax(filename, src, err)
	}
	if len(f.Decls) == 1 {
		if e, ok := f.Decls[0].(*ast.EmbedDecl); ok {
			line := 1
			if _, isList := e.Expr.(*ast.ListLit); isList {
				if i := secondDocument(src); i >= 0 {
					line, _ = lineCol(src, i)
					return nil, diag.List{{Filename: filename, Line: line, Column: 1, Message: "the file holds several YAML documents: write one intent per file"}}
				}
			}
			return nil, diag.List{{Filename: filename, Line: line, Column: 1, Message: "the intent must be a YAML mapping with apiVersion, kind, metadata and spec"}}
		}
	}
	if err := checkUniqueKeys(f); err != nil {
		return nil, err
	}
	return f, nil
}

// checkUniqueKeys refuses a YAML mapping that has a key twice. YAML
// forbids it, but CUE's decoder turns each key into a field, and two
// fields of one name unify: the two values would be merged silently.
func checkUniqueKeys(f *ast.File) error {
	var l diag.List
	check := func(decls []ast.Decl) {
		first := map[string]token.Pos{}
		for _, d := range decls {
			field, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, _, err := ast.LabelName(field.Label)
			if err != nil {
				continue
			}
			if at, seen := first[name]; seen {
				l = append(l, diag.At(field.Label.Pos().Position(), diag.Error,
					fmt.Sprintf("duplicate key %q: it is already set on line %d; a YAML mapping holds each key once: merge the two", name, at.Line())))
				continue
			}
			first[name] = field.Label.Pos()
		}
	}
	check(f.Decls)
	ast.Walk(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.StructLit); ok {
			check(s.Elts)
		}
		return true
	}, nil)
	if len(l) > 0 {
		return l.Sort()
	}
	return nil
}

// extractYAML is yaml.Extract, with a panic of the decoder turned into a
// syntax error: one bad file must not take down a lint of many.
func extractYAML(filename string, src []byte) (*ast.File, error) {
	return noPanic(filename, func() (*ast.File, error) { return yaml.Extract(filename, src) })
}

// noPanic calls decode and turns a panic into a syntax error of filename.
func noPanic(filename string, decode func() (*ast.File, error)) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, diag.List{{Filename: filename, Line: 1, Column: 1, Message: fmt.Sprintf("syntax error: the YAML decoder failed on this file (%v): please report it to egmc with the file", r)}}
		}
	}()
	return decode()
}

// checkHermetic refuses imports outside the CUE standard library and file
// embedding: an intent must build the same everywhere.
func checkHermetic(f *ast.File) error {
	var l diag.List
	for spec := range f.ImportSpecs() {
		path := strings.Trim(spec.Path.Value, `"`)
		first, _, _ := strings.Cut(path, "/")
		if strings.Contains(first, ".") || strings.Contains(path, ":") {
			l = append(l, diag.At(spec.Pos().Position(), diag.Error,
				fmt.Sprintf("import %q is not allowed: intents are hermetic and may import only the CUE standard library", path)))
		}
	}
	for _, a := range f.Decls {
		if attr, ok := a.(*ast.Attribute); ok && strings.HasPrefix(attr.Text, "@extern") {
			l = append(l, diag.At(attr.Pos().Position(), diag.Error, "file embedding (@extern) is not allowed: intents are hermetic"))
		}
	}
	ast.Walk(f, func(n ast.Node) bool {
		if attr, ok := n.(*ast.Attribute); ok && strings.HasPrefix(attr.Text, "@embed") {
			l = append(l, diag.At(attr.Pos().Position(), diag.Error, "file embedding (@embed) is not allowed: intents are hermetic"))
		}
		return true
	}, nil)
	if len(l) > 0 {
		return l
	}
	return nil
}

// fromSyntax turns a parse error into diagnostics. CUE's parser gives
// positions; the YAML decoder only "file:line: message", so the column
// is 1 there.
func fromSyntax(filename string, err error) error {
	var l diag.List
	for _, e := range cueerrors.Errors(err) {
		pos := e.Position().Position()
		msg := e.Error()
		if strings.TrimSpace(msg) == "" || strings.HasSuffix(msg, ": ") {
			msg = err.Error()
		}
		if m := yamlError.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[2])
			pos.Filename, pos.Line, pos.Column, msg = filename, line, 1, m[3]
		}
		if pos.Filename == "" {
			pos.Filename, pos.Line, pos.Column = filename, 1, 1
		}
		l = append(l, diag.At(pos, diag.Error, "syntax error: "+strings.TrimPrefix(msg, filename+": ")))
	}
	if len(l) == 0 {
		l = append(l, diag.Diagnostic{Filename: filename, Line: 1, Column: 1, Message: "syntax error: " + err.Error()})
	}
	return l.Sort()
}

// yamlSyntax turns a YAML decoding error into diagnostics. CUE's decoder
// gives only a line, and for an unclosed bracket or quote the line (off by
// one) where the collection started, not the problem: the file is parsed
// again with goccy/go-yaml, whose syntax errors carry the line and column
// of the problem, and its position and message are used when it refuses
// the file too.
func yamlSyntax(filename string, src []byte, err error) error {
	d := fromSyntax(filename, err)
	var l diag.List
	if !errors.As(d, &l) || len(l) != 1 || !yamlError.MatchString(err.Error()) {
		return d
	}
	if line, col, msg, ok := goccySyntaxError(src); ok {
		l[0].Line, l[0].Column, l[0].Message = line, col, "syntax error: "+msg
	}
	return l
}

// goccySyntaxError parses src with goccy/go-yaml and returns the position
// and message of its syntax error, if it has one.
func goccySyntaxError(src []byte) (line, col int, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := goccyparser.ParseBytes(src, 0)
	var se *goccyyaml.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false
	}
	return se.Token.Position.Line, max(se.Token.Position.Column, 1), se.Message, true
}

// yamlError matches the YAML decoder's "file:line: message".
var yamlError = regexp.MustCompile(`^(.*?):(\d+): (.*)$`)

// secondDocument returns the offset of the "---" that starts a second
// YAML document, or -1.
func secondDocument(src []byte) int {
	seen := 0
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		line := bytes.TrimRight(src[off:off+end], " \t\r")
		if bytes.Equal(line, []byte("---")) || bytes.HasPrefix(line, []byte("--- ")) {
			seen++
			if seen == 2 || (seen == 1 && len(bytes.TrimSpace(src[:off])) > 0) {
				return off
			}
		}
		off += end + 1
	}
	return -1
}

func invalidUTF8(src []byte) int {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

func lineCol(src []byte, offset int) (line, col int) {
	before := src[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
