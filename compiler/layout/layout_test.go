package layout

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name          string
		phase, values bool
	}{
		{"00-namespaces.yaml", true, false},
		{"05-egress.yaml", true, false},
		{"helm/istiod-values.yaml", false, true},
		{"helm/istio-egressgateway-values.yaml", false, true},
		{"istiod-values.yaml", false, false},
		{"helm/00-namespaces.yaml", false, false},
		{"helm/../istiod-values.yaml", false, false},
		{"RUNBOOK.md", false, false},
		{"0-x.yaml", false, false},
	} {
		if got := IsPhaseFile(tc.name); got != tc.phase {
			t.Errorf("IsPhaseFile(%q) = %v", tc.name, got)
		}
		if got := IsValuesFile(tc.name); got != tc.values {
			t.Errorf("IsValuesFile(%q) = %v", tc.name, got)
		}
		if got := CheckName(tc.name) == nil; got != (tc.phase || tc.values || tc.name == Runbook) {
			t.Errorf("CheckName(%q) accepts: %v", tc.name, got)
		}
	}
}

func TestWrittenByEgmc(t *testing.T) {
	header := []byte(ValuesHeader("istiod (istio/istiod)") + "pilot: {}\n")
	for _, tc := range []struct {
		name string
		head []byte
		want bool
	}{
		{"01-mesh.yaml", nil, true},
		{"helm/istiod-values.yaml", header, true},
		{"istiod-values.yaml", header, true}, // the layout before v0.3
		{"helm/istiod-values.yaml", []byte("# mine\n"), false},
		{"helm/notes.yaml", header, false},
		{"RUNBOOK.md", header, false},
		{"notes.txt", header, false},
	} {
		if got := WrittenByEgmc(tc.name, tc.head); got != tc.want {
			t.Errorf("WrittenByEgmc(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"RUNBOOK.md", "02-gateway.yaml", "00-namespaces.yaml", "README.md", "my-values.yaml", "helm/istiod-values.yaml", "helm/notes.txt", ".hidden-values.yaml"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"00-namespaces.yaml", "02-gateway.yaml", "RUNBOOK.md", "helm/istiod-values.yaml", "my-values.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %v, want %v", got, want)
	}
	phases, err := PhaseFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 2 || filepath.Base(phases[0]) != "00-namespaces.yaml" {
		t.Errorf("PhaseFiles = %v", phases)
	}
}
