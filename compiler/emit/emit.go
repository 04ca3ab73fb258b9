// Package emit is the last stage of the compiler: it prints the ordered
// objects as one YAML stream, or writes an output directory (one file per
// phase, the Helm values files and RUNBOOK.md) atomically.
package emit

import (
	"bytes"
	"fmt"
	"io"

	"cuelang.org/go/cue"

	"egmc.dev/egmc/compiler/order"
	"egmc.dev/egmc/internal/yamlenc"
)

// Stream writes the objects as a YAML stream: one object per document,
// separated by "---", in the given order.
func Stream(w io.Writer, objs []*order.Object) error {
	b, err := AppendStream(nil, objs)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendStream appends the YAML stream of the objects to dst.
func AppendStream(dst []byte, objs []*order.Object) ([]byte, error) {
	for i, o := range objs {
		if i > 0 {
			dst = append(dst, "---\n"...)
		}
		var err error
		if dst, err = yamlenc.Append(dst, o.JSON); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", o, err)
		}
	}
	return dst, nil
}

// AppendYAML appends the YAML encoding of a concrete CUE value to dst,
// keeping the field order of the CUE source.
func AppendYAML(dst []byte, v cue.Value) ([]byte, error) {
	j, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return yamlenc.Append(dst, j)
}

// YAML returns the YAML encoding of a concrete CUE value.
func YAML(v cue.Value) ([]byte, error) {
	return AppendYAML(nil, v)
}

// Concat joins YAML documents into one stream.
func Concat(docs ...[]byte) []byte {
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(d)
	}
	return b.Bytes()
}
