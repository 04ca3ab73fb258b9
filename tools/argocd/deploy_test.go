package argocd

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/argoproj/argo-cd/v3/cmpserver/plugin"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
)

// deployDir is deploy/argocd of the egmc repository, from this package's
// directory (tools/argocd).
const deployDir = "../../deploy/argocd"

// decodeStrict decodes the YAML file name of deploy/argocd into v the way
// Argo CD and Kubernetes read it (YAML to JSON, then encoding/json), but
// fails on a field v does not have: Argo CD would silently ignore it.
func decodeStrict(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestPluginConfig checks plugin.yaml against Argo CD's PluginConfig: every
// field exists, Argo CD's own validation passes, discovery is a glob, and
// the parameters egmc reads are announced.
func TestPluginConfig(t *testing.T) {
	// What the CMP server does at start-up (unknown fields pass there).
	cfg, err := plugin.ReadPluginConfig(deployDir)
	if err != nil {
		t.Fatal(err)
	}
	var strict plugin.PluginConfig
	decodeStrict(t, "plugin.yaml", &strict)

	if cfg.APIVersion != "argoproj.io/v1alpha1" || cfg.Metadata.Name != "egmc" {
		t.Errorf("apiVersion %q, name %q: want argoproj.io/v1alpha1, egmc", cfg.APIVersion, cfg.Metadata.Name)
	}
	if cfg.Spec.Version != "" {
		t.Errorf("spec.version %q: Applications would have to name the plugin egmc-%s; update the README and the example Application", cfg.Spec.Version, cfg.Spec.Version)
	}
	if got := cfg.Spec.Generate.Command; !slices.Equal(got, []string{"egmc", "build"}) || len(cfg.Spec.Generate.Args) > 0 {
		t.Errorf("generate: %q %q, want the plain command [egmc build]", got, cfg.Spec.Generate.Args)
	}
	if cfg.Spec.Discover.Find.Glob == "" {
		t.Error("discover.find.glob is empty")
	}
	var names []string
	for _, p := range cfg.Spec.Parameters.Static {
		names = append(names, p.Name)
		if p.Title == "" || p.Tooltip == "" {
			t.Errorf("parameter %s: no title or tooltip", p.Name)
		}
	}
	if !slices.Equal(names, []string{"intent", "strict"}) {
		t.Errorf("static parameters %q, want [intent strict]", names)
	}
}

// TestPluginConfigMap checks that plugin-configmap.yaml carries plugin.yaml
// unchanged, and is the ConfigMap the sidecar patch mounts.
func TestPluginConfigMap(t *testing.T) {
	var cm corev1.ConfigMap
	decodeStrict(t, "plugin-configmap.yaml", &cm)
	want, err := os.ReadFile(filepath.Join(deployDir, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" || cm.Name != "argocd-egmc-plugin" {
		t.Errorf("kind %q name %q, want ConfigMap argocd-egmc-plugin", cm.Kind, cm.Name)
	}
	if got := cm.Data["plugin.yaml"]; got != string(want) {
		t.Errorf("plugin-configmap.yaml's plugin.yaml differs from plugin.yaml: copy it again, indented by four spaces:\n" +
			"  sed 's/^/    /; s/^ *$//' plugin.yaml  (after the header of plugin-configmap.yaml)")
	}
}

// TestRepoServerPatch checks the sidecar against what Argo CD requires of
// a plugin container (operator-manual/config-management-plugins.md).
func TestRepoServerPatch(t *testing.T) {
	var d appsv1.Deployment
	decodeStrict(t, "repo-server-patch.yaml", &d)
	if d.Kind != "Deployment" || d.Name != "argocd-repo-server" {
		t.Fatalf("kind %q name %q, want Deployment argocd-repo-server", d.Kind, d.Name)
	}
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want the egmc sidecar only", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Equal(c.Command, []string{"/var/run/argocd/argocd-cmp-server"}) {
		t.Errorf("command %q, want [/var/run/argocd/argocd-cmp-server]", c.Command)
	}
	if sc := c.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 999 {
		t.Error("the sidecar must run as user 999")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	// The repo server's own volumes the sidecar shares.
	for path, name := range map[string]string{
		"/var/run/argocd":                 "var-files",
		"/home/argocd/cmp-server/plugins": "plugins",
	} {
		if m, ok := mounts[path]; !ok || m.Name != name {
			t.Errorf("no mount of the repo server's volume %s at %s", name, path)
		}
	}
	cfg, ok := mounts["/home/argocd/cmp-server/config/plugin.yaml"]
	if !ok || cfg.SubPath != "plugin.yaml" {
		t.Error("plugin.yaml is not mounted by subPath at /home/argocd/cmp-server/config/plugin.yaml")
	} else if v := volumes[cfg.Name]; v.ConfigMap == nil || v.ConfigMap.Name != "argocd-egmc-plugin" {
		t.Errorf("volume %s is not the ConfigMap argocd-egmc-plugin", cfg.Name)
	}
	if m, ok := mounts["/tmp"]; !ok || volumes[m.Name].EmptyDir == nil || m.Name == "tmp" {
		t.Error("/tmp must be an emptyDir of the sidecar's own (not the repo server's tmp)")
	}
}

// TestExampleApplication checks the example Application: it names the
// plugin as Argo CD looks it up and sets only announced parameters.
func TestExampleApplication(t *testing.T) {
	var app v1alpha1.Application
	decodeStrict(t, "application.example.yaml", &app)
	cfg, err := plugin.ReadPluginConfig(deployDir)
	if err != nil {
		t.Fatal(err)
	}
	src := app.Spec.Source
	if src == nil || src.Plugin == nil {
		t.Fatal("the example Application has no spec.source.plugin")
	}
	// How the repo server finds the socket: <name>.sock, the name being
	// metadata.name, or metadata.name-spec.version.
	if want := strings.TrimSuffix(filepath.Base(cfg.Address()), ".sock"); src.Plugin.Name != want {
		t.Errorf("plugin name %q, want %q", src.Plugin.Name, want)
	}
	announced := map[string]bool{}
	for _, p := range cfg.Spec.Parameters.Static {
		announced[p.Name] = true
	}
	for _, p := range src.Plugin.Parameters {
		if !announced[p.Name] {
			t.Errorf("parameter %q is not announced by plugin.yaml", p.Name)
		}
	}
}

// TestImage checks what deploy/argocd/Dockerfile promises without a
// Docker daemon: its build step gives a static binary (the distroless
// static base has no C library) that runs there as the plugin runs it,
// and its final stage runs as Argo CD's user 999 with egmc at the path
// plugin.yaml's command finds.
func TestImage(t *testing.T) {
	egmc := buildEgmc(t, t.TempDir())
	f, err := elf.Open(egmc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the image's egmc is dynamically linked (program header %v): the static base image cannot run it", p.Type)
		}
	}
	cmd := exec.Command(egmc, "--version")
	cmd.Env = []string{} // the image sets nothing: no HOME, no PATH
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "egmc ") {
		t.Errorf("egmc --version with an empty environment: %v\n%s", err, out)
	}

	docker := readFile(t, filepath.Join(repoRoot, "deploy/argocd/Dockerfile"))
	final := strings.Split(docker[strings.LastIndex(docker, "\nFROM ")+1:], "\n")
	for _, want := range []string{
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"COPY --from=build /out/egmc /usr/local/bin/egmc", // on the PATH: plugin.yaml runs [egmc, build]
		"USER 999",
	} {
		if !slices.Contains(final, want) {
			t.Errorf("the Dockerfile's final stage lacks %q", want)
		}
	}
}
