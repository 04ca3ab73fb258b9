// Package yamlenc converts JSON documents to block-style YAML.
//
// egmc renders every Kubernetes object to compact JSON (via CUE's
// cue.Value.MarshalJSON) and then has to print the whole set as a YAML
// stream. The library encoders are a poor fit for that last step:
// sigs.k8s.io/yaml.JSONToYAML and go.yaml.in/yaml decode into generic maps,
// which loses the field order CUE produced (apiVersion, kind, metadata,
// spec, ...) because map keys come out sorted, and they allocate a tree of
// interface values per object, which makes them one to two orders of
// magnitude slower than necessary. This package is a small streaming
// converter instead: it walks the JSON bytes once, validates them, and
// appends YAML to a caller-owned buffer without building any intermediate
// representation. Key order is exactly the order in the input and the
// output is fully determined by the input bytes.
//
// The output uses the layout kubectl and sigs.k8s.io/yaml produce:
// two-space indentation for nested mappings, block sequences written at the
// same indentation as the key that owns them, mapping items starting on the
// "- " line, nested sequences as "- - item", and "{}" / "[]" for empty
// containers. Numbers, true, false and null are copied verbatim. Keys
// longer than the 1024 characters YAML allows for implicit keys are
// written as explicit "? key" entries.
//
// Strings, keys included, are written plain only when they read back as the
// same string under both YAML 1.2 (go.yaml.in/yaml/v3) and YAML 1.1
// (go.yaml.in/yaml/v2, which sigs.k8s.io/yaml, older kubectl and helm use)
// resolution rules. The rules err on the side of quoting: a plain string
// starts with a letter, a non-ASCII printable character or one of
// / ( ) $ ^ _ \ ; and is not a bool, null or special float word in any
// case (yes, on, y, null, nan, ...); it contains only printable characters,
// no tab, no ": " or " #", and does not end in ':' or ' '. A string that
// starts with a digit is plain only if it consists of ASCII letters and
// digits and contains a letter that no number syntax uses, as in 100m or
// 128Mi. Everything else is double-quoted with JSON-compatible escapes
// (\", \\, \n, \t, \uXXXX), escaping control characters and the
// non-printable characters of the Basic Multilingual Plane. Strings are
// never folded or wrapped. Like encoding/json, the converter reads invalid
// UTF-8 and unpaired surrogate escapes as U+FFFD.
//
// The library encoders remain the oracle: the tests and the fuzz target
// check that sigs.k8s.io/yaml, go.yaml.in/yaml/v2 and go.yaml.in/yaml/v3
// all decode the output back to the input value.
//
// Known limitations, neither of which occurs in Kubernetes objects: numbers
// outside the float64 range (such as 1e400) are copied verbatim and the Go
// YAML decoders read them back as strings; duplicate object keys are copied
// as they are, although YAML requires unique keys (yaml.v3 rejects them when
// decoding into a map, yaml.v2 and encoding/json keep the last).
package yamlenc

import "fmt"

const (
	// maxDepth is the deepest nesting of arrays and objects accepted. It
	// matches encoding/json, so both accept exactly the same documents, and
	// it bounds the recursion of the encoder.
	maxDepth = 10000

	// maxImplicitKeyLen is the longest encoded key written as an implicit
	// "key: value" entry. YAML parsers require the ':' of an implicit key
	// to be within 1024 characters of the key's start; longer keys are
	// written as explicit "? key" entries. Byte length bounds the character
	// count from above, so this is conservative.
	maxImplicitKeyLen = 1000
)

// Append appends the YAML encoding of the single JSON value in src to dst
// and returns the extended buffer. Object keys keep their order.
//
// A top-level object or array is written as a block mapping or sequence
// without a leading "---"; any other value is written on its own line. The
// output always ends with exactly one newline.
//
// Append accepts exactly the inputs encoding/json.Valid accepts. It returns
// an error, and dst unchanged, when src is not valid JSON; it never panics.
func Append(dst, src []byte) ([]byte, error) {
	e := encoder{src: src, dst: dst}
	if err := e.document(); err != nil {
		return dst, err
	}
	return e.dst, nil
}

// syntaxError describes invalid JSON input.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("yamlenc: invalid JSON at offset %d: %s", e.offset, e.msg)
}

// encoder holds the state of one Append call.
type encoder struct {
	src   []byte // JSON input
	pos   int    // read offset into src
	dst   []byte // YAML output
	depth int    // current nesting of arrays and objects
}

func (e *encoder) errorf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), offset: e.pos}
}

// unexpected reports the byte at the read offset, or the end of the input.
func (e *encoder) unexpected(context string) error {
	if e.pos >= len(e.src) {
		return e.errorf("unexpected end of JSON input")
	}
	return e.errorf("invalid character %q %s", e.src[e.pos], context)
}

// document converts the whole input: one value surrounded by optional
// whitespace.
func (e *encoder) document() error {
	e.skipSpace()
	if err := e.item(0); err != nil {
		return err
	}
	e.skipSpace()
	if e.pos < len(e.src) {
		return e.unexpected("after top-level value")
	}
	return nil
}

// skipSpace advances past JSON insignificant whitespace.
func (e *encoder) skipSpace() {
	for e.pos < len(e.src) {
		switch e.src[e.pos] {
		case ' ', '\t', '\n', '\r':
			e.pos++
		default:
			return
		}
	}
}

// open consumes the '[' or '{' at the read offset and reports whether the
// container is empty, in which case its closing byte is consumed too.
func (e *encoder) open(closing byte) (empty bool, err error) {
	e.depth++
	if e.depth > maxDepth {
		return false, e.errorf("exceeded max depth of %d", maxDepth)
	}
	e.pos++
	e.skipSpace()
	if e.pos < len(e.src) && e.src[e.pos] == closing {
		e.pos++
		e.depth--
		return true, nil
	}
	return false, nil
}

// next consumes the separator after a container element. It reports true
// after a ',' and false after the closing byte.
func (e *encoder) next(closing byte) (more bool, err error) {
	e.skipSpace()
	if e.pos < len(e.src) {
		switch e.src[e.pos] {
		case ',':
			e.pos++
			return true, nil
		case closing:
			e.pos++
			e.depth--
			return false, nil
		}
	}
	return false, e.unexpected(fmt.Sprintf("after element, expecting ',' or '%c'", closing))
}

// item writes the value at the read offset where the cursor already sits
// at column indent: at the start of the document or just after "- ". A
// non-empty mapping or sequence starts on the current line and continues
// at indent.
func (e *encoder) item(indent int) error {
	if e.pos >= len(e.src) {
		return e.unexpected("looking for beginning of value")
	}
	switch e.src[e.pos] {
	case '{':
		empty, err := e.open('}')
		if err != nil {
			return err
		}
		if empty {
			e.dst = append(e.dst, "{}\n"...)
			return nil
		}
		return e.mapping(indent, true)
	case '[':
		empty, err := e.open(']')
		if err != nil {
			return err
		}
		if empty {
			e.dst = append(e.dst, "[]\n"...)
			return nil
		}
		return e.sequence(indent, true)
	}
	if err := e.scalar(); err != nil {
		return err
	}
	e.dst = append(e.dst, '\n')
	return nil
}

// value writes the value of a mapping entry whose key (and ':') was just
// written at column indent.
func (e *encoder) value(indent int) error {
	e.skipSpace()
	if e.pos >= len(e.src) {
		return e.unexpected("looking for beginning of value")
	}
	switch e.src[e.pos] {
	case '{':
		empty, err := e.open('}')
		if err != nil {
			return err
		}
		if empty {
			e.dst = append(e.dst, " {}\n"...)
			return nil
		}
		e.dst = append(e.dst, '\n')
		return e.mapping(indent+2, false)
	case '[':
		empty, err := e.open(']')
		if err != nil {
			return err
		}
		if empty {
			e.dst = append(e.dst, " []\n"...)
			return nil
		}
		e.dst = append(e.dst, '\n')
		return e.sequence(indent, false)
	}
	e.dst = append(e.dst, ' ')
	if err := e.scalar(); err != nil {
		return err
	}
	e.dst = append(e.dst, '\n')
	return nil
}

// mapping writes the entries of a non-empty object whose '{' was consumed
// as a block mapping at column indent. With inline set, the first key
// continues the current line.
func (e *encoder) mapping(indent int, inline bool) error {
	for first := true; ; first = false {
		if !first || !inline {
			e.dst = appendIndent(e.dst, indent)
		}
		if err := e.key(indent); err != nil {
			return err
		}
		if err := e.value(indent); err != nil {
			return err
		}
		more, err := e.next('}')
		if !more {
			return err
		}
	}
}

// sequence writes the elements of a non-empty array whose '[' was consumed
// as a block sequence with its dashes at column indent. With inline set,
// the first dash continues the current line.
func (e *encoder) sequence(indent int, inline bool) error {
	for first := true; ; first = false {
		if !first || !inline {
			e.dst = appendIndent(e.dst, indent)
		}
		e.dst = append(e.dst, "- "...)
		e.skipSpace()
		if err := e.item(indent + 2); err != nil {
			return err
		}
		more, err := e.next(']')
		if !more {
			return err
		}
	}
}

// key writes an object key and its ':' and consumes the key and the ':'
// from the input. Keys too long for an implicit key are written as an
// explicit "? key" entry whose ':' is on the next line at column indent.
func (e *encoder) key(indent int) error {
	e.skipSpace()
	if e.pos >= len(e.src) || e.src[e.pos] != '"' {
		return e.unexpected("looking for beginning of object key string")
	}
	start := len(e.dst)
	if err := e.str(); err != nil {
		return err
	}
	if len(e.dst)-start > maxImplicitKeyLen {
		e.explicitKey(start, indent)
	}
	e.dst = append(e.dst, ':')
	e.skipSpace()
	if e.pos >= len(e.src) || e.src[e.pos] != ':' {
		return e.unexpected("after object key")
	}
	e.pos++
	return nil
}

// explicitKey turns the key written at dst[start:] into "? key\n" followed
// by the indentation of the ':' line.
func (e *encoder) explicitKey(start, indent int) {
	n := len(e.dst) - start
	e.dst = append(e.dst, "? "...)
	copy(e.dst[start+2:], e.dst[start:start+n])
	e.dst[start], e.dst[start+1] = '?', ' '
	e.dst = append(e.dst, '\n')
	e.dst = appendIndent(e.dst, indent)
}

const spaces = "                                                                "

// appendIndent appends n spaces.
func appendIndent(dst []byte, n int) []byte {
	for n > len(spaces) {
		dst = append(dst, spaces...)
		n -= len(spaces)
	}
	return append(dst, spaces[:n]...)
}
