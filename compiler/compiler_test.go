package compiler_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"egmc.dev/egmc/golden"
)

func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../examples/*/intent.*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return files
}

// TestPhaseFilesMatchStream checks that the output directory's phase
// files, in phase order, hold exactly the stream's objects, each file
// starting a document: read one after another (cat), they are the stream.
func TestPhaseFilesMatchStream(t *testing.T) {
	for _, f := range exampleFiles(t) {
		res, err := compileFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		stream, err := res.Stream()
		if err != nil {
			t.Fatal(err)
		}
		files, err := res.Files()
		if err != nil {
			t.Fatal(err)
		}
		var phases [][]byte
		for _, p := range res.Phases {
			for _, file := range files {
				if file.Name == p.File {
					if !bytes.HasPrefix(file.Data, []byte("---\n")) {
						t.Errorf("%s: %s does not start with ---", f, file.Name)
					}
					phases = append(phases, file.Data)
				}
			}
		}
		if got := bytes.TrimPrefix(bytes.Join(phases, nil), []byte("---\n")); !bytes.Equal(got, stream) {
			t.Errorf("%s: the phase files differ from the stream", f)
		}
	}
}

// TestEveryObjectIsLabelledAndWaved checks the output contract: one
// object per document, never a List, each labelled as egmc's and carrying
// its phase's sync wave; and the secure defaults: no route admission from
// all namespaces, no Secret material (the only Secrets egmc writes are SDS
// references of mtls mode gateway-sds, see sdsReference).
func TestEveryObjectIsLabelledAndWaved(t *testing.T) {
	for _, f := range exampleFiles(t) {
		res, err := compileFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		stream, _ := res.Stream()
		docs, err := golden.Documents(stream)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(docs) != len(res.Objects) {
			t.Fatalf("%s: %d documents for %d objects", f, len(docs), len(res.Objects))
		}
		for i, d := range docs {
			obj := d.(map[string]any)
			o := res.Objects[i]
			if obj["kind"] == "List" || (obj["kind"] == "Secret" && !sdsReference(obj)) {
				t.Errorf("%s: emits a %v", f, obj["kind"])
			}
			md := obj["metadata"].(map[string]any)
			labels, _ := md["labels"].(map[string]any)
			annotations, _ := md["annotations"].(map[string]any)
			if labels["app.kubernetes.io/managed-by"] != "egmc" {
				t.Errorf("%s: %s lacks the managed-by label", f, o)
			}
			if want := strconv.Itoa(o.Phase.Wave); annotations["argocd.argoproj.io/sync-wave"] != want {
				t.Errorf("%s: %s has sync wave %v, want %s", f, o, annotations["argocd.argoproj.io/sync-wave"], want)
			}
		}
		if bytes.Contains(stream, []byte("from: All")) {
			t.Errorf("%s: a listener admits routes from all namespaces", f)
		}
	}
}

// TestDeterministic compiles each example twice and expects the same bytes.
func TestDeterministic(t *testing.T) {
	for _, f := range exampleFiles(t) {
		a, err := compileFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := compileFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sa, _ := a.Stream()
		sb, _ := b.Stream()
		if !bytes.Equal(sa, sb) || !bytes.Equal(a.Runbook.Markdown(), b.Runbook.Markdown()) {
			t.Errorf("%s: two builds differ", f)
		}
	}
}

// sdsReference tells whether obj is a Secret of type
// gateway.envoyproxy.io/sds that holds only a unix socket URL and an SDS
// resource name: where an agent serves a certificate, not the certificate.
func sdsReference(obj map[string]any) bool {
	data, _ := obj["data"].(map[string]any)
	if obj["type"] != "gateway.envoyproxy.io/sds" || len(data) != 2 || obj["stringData"] != nil {
		return false
	}
	url, _ := base64.StdEncoding.DecodeString(fmt.Sprint(data["url"]))
	name, _ := base64.StdEncoding.DecodeString(fmt.Sprint(data["secretName"]))
	return strings.HasPrefix(string(url), "unix:///") && (string(name) == "default" || string(name) == "ROOTCA")
}
