package yamlenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppend checks that Append accepts exactly the documents
// encoding/json accepts, never panics, leaves dst alone on error, and
// produces YAML that decodes back to the input under YAML 1.1 and 1.2.
func FuzzAppend(f *testing.F) {
	for _, tt := range appendTests {
		f.Add([]byte(tt.in))
	}
	for _, tt := range scalarTests {
		in, _ := json.Marshal(map[string]string{tt.in: tt.in})
		f.Add(in)
	}
	for _, in := range invalidTests {
		f.Add([]byte(in))
	}
	for _, in := range trickyDocuments()[:300] {
		f.Add(in)
	}
	objs, _ := benchmarkInput()
	f.Add(objs[0])
	f.Fuzz(func(t *testing.T, in []byte) {
		prefix := []byte("prefix\n")
		out, err := Append(prefix[:len(prefix):len(prefix)], in)
		if !json.Valid(in) {
			if err == nil {
				t.Fatalf("Append accepted invalid JSON %q:\n%s", in, out)
			}
			if !bytes.Equal(out, prefix) {
				t.Fatalf("Append(%q) returned %q on error, want the unchanged dst", in, out)
			}
			return
		}
		if err != nil {
			t.Fatalf("Append rejected valid JSON %q: %v", in, err)
		}
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("Append(%q) lost the dst prefix: %q", in, out)
		}
		if err := checkRoundTrip(in, out[len(prefix):]); err != nil {
			t.Fatalf("input %q:\n%v", in, err)
		}
	})
}
