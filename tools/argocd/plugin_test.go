package argocd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/gitops-engine/pkg/utils/kube"
	"github.com/golang/protobuf/ptypes/empty"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	log "github.com/sirupsen/logrus"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/argoproj/argo-cd/v3/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
	"github.com/argoproj/argo-cd/v3/util/cmp"
)

// repoRoot is the egmc repository, from this package's directory.
const repoRoot = "../.."

// callTimeout bounds one request to the CMP server. Argo CD's repo server
// gives a plugin 60 s by default (controller.repo.server.timeout.seconds).
const callTimeout = 60 * time.Second

// TestPlugin runs the real argocd-cmp-server with deploy/argocd/plugin.yaml
// and egmc on its PATH, and asks it what argocd-repo-server asks a plugin:
// does it handle this directory (MatchRepository), and its manifests
// (GenerateManifest), with the Application's environment and parameters.
func TestPlugin(t *testing.T) {
	bin := t.TempDir()
	egmc := buildEgmc(t, bin)
	srv := startCMPServer(t, cmpServerBinary(t), bin)

	// A Git checkout as the repo server has it: one directory per
	// Application. The repo server sends the whole checkout and the app's
	// path in it.
	repo := t.TempDir()
	examples := exampleDirs(t)
	for _, ex := range examples {
		copyDir(t, filepath.Join(repoRoot, "examples", ex), filepath.Join(repo, "examples", ex))
	}
	good := "examples/plain-envoy-gateway"
	writeFile(t, repo, "plain/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
	writeFile(t, repo, "plain/README.md", "Plain manifests: no intent here.\n")
	copyDir(t, filepath.Join(repo, good), filepath.Join(repo, "nested/shop"))
	copyDir(t, filepath.Join(repo, good), filepath.Join(repo, "yml"))
	if err := os.Rename(filepath.Join(repo, "yml/intent.yaml"), filepath.Join(repo, "yml/intent.yml")); err != nil {
		t.Fatal(err)
	}
	// Two intents: egmc needs the intent parameter to choose.
	copyDir(t, filepath.Join(repo, good), filepath.Join(repo, "two"))
	copyFile(t, filepath.Join(repo, "examples/istio-ambient-shared-observability/intent.cue"), filepath.Join(repo, "two/intent.cue"))
	// A mistake at a known position: provider "none" misspelt.
	badIntent := strings.Replace(readFile(t, filepath.Join(repo, good, "intent.yaml")), "provider: none", "provider: nnoe", 1)
	writeFile(t, repo, "bad/intent.yaml", badIntent)
	badLine, badCol := position(t, badIntent, "nnoe")

	t.Run("CheckPluginConfiguration", func(t *testing.T) {
		resp, err := srv.client.CheckPluginConfiguration(callCtx(t), &empty.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		if !resp.IsDiscoveryConfigured || resp.ProvideGitCreds {
			t.Errorf("got %+v, want discovery and no Git credentials", resp)
		}
	})

	t.Run("Discovery", func(t *testing.T) {
		for _, tc := range []struct {
			app  string
			want bool
		}{
			{good, true},
			{"examples/istio-ambient-shared-observability", true}, // intent.cue
			{"yml", true},
			{"two", true},
			{"nested/shop", true},
			{"plain", false},
			{"nested", false}, // the intent is one level down: another app's
			{".", false},      // the repository root
		} {
			app, want := tc.app, tc.want
			supported, enabled, err := srv.match(t, repo, app, appEnv(app, nil))
			if err != nil {
				t.Errorf("%s: MatchRepository: %v", app, err)
				continue
			}
			if supported != want || !enabled {
				t.Errorf("%s: supported %v (want %v), discovery enabled %v", app, supported, want, enabled)
			}
		}
	})

	// Argo CD's own plugin lookup (util/app/discovery), used by the repo
	// server for every manifest generation, over the same socket.
	t.Run("RepoServerLookup", func(t *testing.T) {
		t.Setenv("ARGOCD_PLUGINSOCKFILEPATH", srv.sockDir)
		// The lookup logs why a plugin does not match: into the test log.
		var logs bytes.Buffer
		log.SetOutput(&logs)
		t.Cleanup(func() {
			log.SetOutput(os.Stderr)
			if t.Failed() {
				t.Logf("util/app/discovery log:\n%s", logs.Bytes())
			}
		})
		for _, tc := range []struct{ app, plugin, err string }{
			{app: good, plugin: "egmc"},
			{app: good, plugin: ""}, // discovery, plugin: {} in the Application
			{app: "plain", plugin: "egmc", err: `could not find cmp-server plugin with name "egmc" supporting the given repository`},
			{app: "plain", plugin: "", err: "could not find plugin supporting the given repository"},
			{app: good, plugin: "egmc-v1", err: `could not find cmp-server plugin with name "egmc-v1"`},
		} {
			appPath := filepath.Join(repo, tc.app)
			conn, _, err := discovery.DetectConfigManagementPlugin(callCtx(t), appPath, repo, tc.plugin, appEnv(tc.app, nil), nil)
			if conn != nil {
				conn.Close()
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("%s, plugin %q: %v", tc.app, tc.plugin, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("%s, plugin %q: error %v, want %q", tc.app, tc.plugin, err, tc.err)
			}
		}
	})

	t.Run("Parameters", func(t *testing.T) {
		stream, err := srv.client.GetParametersAnnouncement(callCtx(t), grpc_retry.Disable())
		if err != nil {
			t.Fatal(err)
		}
		if err := cmp.SendRepoStream(stream.Context(), filepath.Join(repo, good), repo, stream, appEnv(good, nil), nil); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range resp.ParameterAnnouncements {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != "intent,strict" {
			t.Errorf("announced %q, want intent and strict", names)
		}
	})

	// Every example compiles through the plugin to exactly what egmc build
	// prints, object by object, and never to a List.
	t.Run("Examples", func(t *testing.T) {
		for _, ex := range examples {
			t.Run(ex, func(t *testing.T) {
				app := "examples/" + ex
				got, err := srv.generate(t, repo, app, appEnv(app, nil))
				if err != nil {
					t.Fatalf("GenerateManifest: %v", err)
				}
				want := egmcBuild(t, egmc, filepath.Join(repo, app))
				sameObjects(t, got, want)
			})
		}
	})

	t.Run("IntentYml", func(t *testing.T) {
		got, err := srv.generate(t, repo, "yml", appEnv("yml", nil))
		if err != nil {
			t.Fatal(err)
		}
		sameObjects(t, got, egmcBuild(t, egmc, filepath.Join(repo, good)))
	})

	t.Run("BadIntent", func(t *testing.T) {
		got, err := srv.generate(t, repo, "bad", appEnv("bad", nil))
		if err == nil {
			t.Fatalf("no error; %d objects", len(got))
		}
		msg := status.Convert(err).Message()
		want := fmt.Sprintf("intent.yaml:%d:%d: spec.mesh.provider: ", badLine, badCol)
		if !strings.Contains(msg, want) {
			t.Errorf("error %q\ndoes not carry egmc's %q", msg, want)
		}
		// Exactly egmc's own stderr, as the UI shows it.
		stderr := egmcFail(t, egmc, filepath.Join(repo, "bad"), nil)
		if !strings.HasSuffix(msg, strings.TrimSpace(stderr)) {
			t.Errorf("error %q\ndoes not end with egmc's stderr %q", msg, stderr)
		}
		t.Logf("the repo server gets: %v", err)
	})

	warns := "examples/istio-sidecar-grpc-listeners"
	t.Run("StrictParameter", func(t *testing.T) {
		strict := &v1alpha1.ApplicationSourcePlugin{Name: "egmc", Parameters: v1alpha1.ApplicationSourcePluginParameters{stringParam("strict", "true")}}
		_, err := srv.generate(t, repo, warns, appEnv(warns, strict))
		if err == nil || !strings.Contains(err.Error(), "EGMC020") {
			t.Fatalf("strict: error %v, want the rule warning EGMC020", err)
		}
		t.Logf("Argo CD shows: %s", status.Convert(err).Message())

		notStrict := &v1alpha1.ApplicationSourcePlugin{Name: "egmc", Parameters: v1alpha1.ApplicationSourcePluginParameters{stringParam("strict", "false")}}
		for _, plugin := range []*v1alpha1.ApplicationSourcePlugin{nil, notStrict} {
			got, err := srv.generate(t, repo, warns, appEnv(warns, plugin))
			if err != nil {
				t.Fatalf("plugin %+v: %v", plugin, err)
			}
			sameObjects(t, got, egmcBuild(t, egmc, filepath.Join(repo, warns)))
		}
	})

	t.Run("StrictEnv", func(t *testing.T) {
		plugin := &v1alpha1.ApplicationSourcePlugin{Env: v1alpha1.Env{{Name: "EGMC_STRICT", Value: "true"}}}
		_, err := srv.generate(t, repo, warns, appEnv(warns, plugin))
		if err == nil || !strings.Contains(err.Error(), "EGMC020") {
			t.Fatalf("EGMC_STRICT=true: error %v, want the rule warning EGMC020", err)
		}
	})

	t.Run("IntentParameter", func(t *testing.T) {
		_, err := srv.generate(t, repo, "two", appEnv("two", nil))
		if err == nil || !strings.Contains(err.Error(), "several intents") {
			t.Fatalf("two intents, no parameter: error %v, want several intents", err)
		}
		for file, want := range map[string]string{
			"intent.yaml": good,
			"intent.cue":  "examples/istio-ambient-shared-observability",
		} {
			plugin := &v1alpha1.ApplicationSourcePlugin{Name: "egmc", Parameters: v1alpha1.ApplicationSourcePluginParameters{stringParam("intent", file)}}
			got, err := srv.generate(t, repo, "two", appEnv("two", plugin))
			if err != nil {
				t.Fatalf("intent %s: %v", file, err)
			}
			sameObjects(t, got, egmcBuild(t, egmc, filepath.Join(repo, want)))
		}
		// Whoever edits the Application sets the parameter: it must not
		// make the plugin read files outside the source directory.
		for _, file := range []string{"/etc/hostname", "../plain/intent.yaml"} {
			plugin := &v1alpha1.ApplicationSourcePlugin{Name: "egmc", Parameters: v1alpha1.ApplicationSourcePluginParameters{stringParam("intent", file)}}
			_, err := srv.generate(t, repo, "two", appEnv("two", plugin))
			if err == nil || !strings.Contains(err.Error(), "must be a path inside the application's source directory") {
				t.Errorf("intent %s: error %v, want refused", file, err)
			}
		}
	})

	t.Run("NoIntent", func(t *testing.T) {
		// Argo CD does not send an unmatched directory to the plugin; if
		// one is (the Application names the plugin and discovery is
		// bypassed), egmc fails rather than printing nothing.
		_, err := srv.generate(t, repo, "plain", appEnv("plain", nil))
		if err == nil || !strings.Contains(err.Error(), "no intent in this directory") {
			t.Fatalf("error %v, want no intent", err)
		}
	})
}

// cmpServer is a running argocd-cmp-server and a gRPC client of it.
type cmpServer struct {
	sockDir string
	client  apiclient.ConfigManagementPluginServiceClient
}

// match asks the server whether it handles the directory app of repo, as
// util/app/discovery does.
func (s *cmpServer) match(t *testing.T, repo, app string, env []string) (supported, enabled bool, err error) {
	stream, err := s.client.MatchRepository(callCtx(t), grpc_retry.Disable())
	if err != nil {
		return false, false, err
	}
	if err := cmp.SendRepoStream(stream.Context(), filepath.Join(repo, app), repo, stream, env, nil); err != nil {
		return false, false, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return false, false, err
	}
	return resp.GetIsSupported(), resp.GetIsDiscoveryEnabled(), nil
}

// generate asks the server for the manifests of the directory app of repo
// and splits them into objects, as the repo server's
// runConfigManagementPluginSidecars and generateManifestsCMP do.
func (s *cmpServer) generate(t *testing.T, repo, app string, env []string) ([]*unstructured.Unstructured, error) {
	stream, err := s.client.GenerateManifest(callCtx(t), grpc_retry.Disable())
	if err != nil {
		return nil, err
	}
	if err := cmp.SendRepoStream(stream.Context(), filepath.Join(repo, app), repo, stream, env, nil); err != nil {
		return nil, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, m := range resp.Manifests {
		split, err := kube.SplitYAML([]byte(m))
		if err != nil {
			t.Fatalf("the repo server would refuse the plugin's output: %v", err)
		}
		objs = append(objs, split...)
	}
	return objs, nil
}

// appEnv is the environment argocd-repo-server sends with a request for
// the Application of source path app (reposerver/repository newEnv and
// getPluginEnvs): the build environment, then the plugin's env entries as
// ARGOCD_ENV_*, then its parameters as ARGOCD_APP_PARAMETERS and PARAM_*.
func appEnv(app string, plugin *v1alpha1.ApplicationSourcePlugin) []string {
	const revision = "0123456789abcdef0123456789abcdef01234567"
	env := v1alpha1.Env{
		{Name: "ARGOCD_APP_NAME", Value: "egmc-" + strings.ReplaceAll(filepath.Base(app), ".", "root")},
		{Name: "ARGOCD_APP_NAMESPACE", Value: "argocd"},
		{Name: "ARGOCD_APP_PROJECT_NAME", Value: "default"},
		{Name: "ARGOCD_APP_REVISION", Value: revision},
		{Name: "ARGOCD_APP_REVISION_SHORT", Value: revision[:7]},
		{Name: "ARGOCD_APP_REVISION_SHORT_8", Value: revision[:8]},
		{Name: "ARGOCD_APP_SOURCE_REPO_URL", Value: "https://git.example.com/platform/gateways.git"},
		{Name: "ARGOCD_APP_SOURCE_PATH", Value: app},
		{Name: "ARGOCD_APP_SOURCE_TARGET_REVISION", Value: "main"},
	}
	vars := append(env.Environ(), "KUBE_VERSION=1.34.0", "KUBE_API_VERSIONS=v1,apps/v1,gateway.networking.k8s.io/v1")
	if plugin != nil {
		for _, e := range plugin.Env {
			vars = append(vars, fmt.Sprintf("ARGOCD_ENV_%s=%s", e.Name, env.Envsubst(e.Value)))
		}
		params, err := plugin.Parameters.Environ()
		if err != nil {
			panic(err) // string parameters always marshal
		}
		vars = append(vars, params...)
	}
	return vars
}

// stringParam is an Application's string plugin parameter.
func stringParam(name, value string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, String_: &value}
}

// sameObjects fails unless got (through the plugin) holds the objects of
// want (egmc build directly), in the same order, and no List.
func sameObjects(t *testing.T, got, want []*unstructured.Unstructured) {
	t.Helper()
	if len(got) == 0 {
		t.Fatal("the plugin returned no object")
	}
	for _, o := range got {
		if strings.HasSuffix(o.GetKind(), "List") {
			t.Errorf("the plugin returned a %s", o.GetKind())
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d objects through the plugin, %d from egmc build", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if id(g) != id(w) {
			t.Errorf("object %d: %s through the plugin, %s from egmc build", i, id(g), id(w))
		} else if !reflect.DeepEqual(g.Object, w.Object) {
			t.Errorf("object %d (%s) differs from egmc build's", i, id(g))
		}
	}
}

// id names an object: kind namespace/name.
func id(o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// egmcBuild runs egmc build in dir, outside Argo CD, and splits its stream.
func egmcBuild(t *testing.T, egmc, dir string) []*unstructured.Unstructured {
	t.Helper()
	cmd := exec.Command(egmc, "build")
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("egmc build in %s: %v\n%s", dir, err, stderr.Bytes())
	}
	objs, err := kube.SplitYAML(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// egmcFail runs egmc build in dir with the extra environment env, checks
// that it fails with nothing on stdout, and returns its stderr.
func egmcFail(t *testing.T, egmc, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command(egmc, "build")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("egmc build in %s succeeded", dir)
	}
	if stdout.Len() > 0 {
		t.Errorf("egmc build failed in %s but printed %d bytes on stdout", dir, stdout.Len())
	}
	return stderr.String()
}

// buildEgmc builds egmc from this repository into dir.
func buildEgmc(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "egmc")
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	env, args := imageBuild(t)
	args = append(args, "-o", out, "./cmd/egmc")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), root, err, b)
	}
	return out
}

// imageBuild returns the environment and the go build flags of the
// plugin image's build step (deploy/argocd/Dockerfile's
// `RUN [VAR=value ...] go build [flags] -o /out/egmc ./cmd/egmc`), so
// that the plugin tests run the binary the image holds. No Docker daemon
// is needed; TestImage checks the rest of the image's promises.
func imageBuild(t *testing.T) (env, flags []string) {
	t.Helper()
	for _, line := range strings.Split(readFile(t, filepath.Join(repoRoot, "deploy/argocd/Dockerfile")), "\n") {
		words := strings.Fields(line)
		if len(words) == 0 || words[0] != "RUN" || !slices.Contains(words, "build") {
			continue
		}
		words = words[1:]
		for len(words) > 0 && strings.Contains(words[0], "=") {
			env, words = append(env, words[0]), words[1:]
		}
		i := slices.Index(words, "-o")
		if len(words) < 2 || words[0] != "go" || words[1] != "build" || i < 0 || !slices.Equal(words[i:], []string{"-o", "/out/egmc", "./cmd/egmc"}) {
			t.Fatalf("the Dockerfile's build step is not `go build [flags] -o /out/egmc ./cmd/egmc`: %s", line)
		}
		return env, words[1:i]
	}
	t.Fatal("deploy/argocd/Dockerfile has no go build step")
	return nil, nil
}

// cmpServerBinary returns the argocd-cmp-server of the pinned Argo CD,
// built (once per machine, about three minutes cold) and cached outside the
// work tree by build-cmp-server.sh. $ARGOCD_CMP_SERVER names another.
func cmpServerBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("ARGOCD_CMP_SERVER"); bin != "" {
		return bin
	}
	cmd := exec.Command("bash", "build-cmp-server.sh")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building argocd-cmp-server (tools/argocd/build-cmp-server.sh): %v\n%s", err, stderr.Bytes())
	}
	t.Logf("%s", bytes.TrimSpace(stderr.Bytes()))
	return strings.TrimSpace(string(out))
}

// startCMPServer starts the CMP server bin with deploy/argocd/plugin.yaml
// and pathDir first on its PATH, and connects to it. The server is killed
// when the test ends.
func startCMPServer(t *testing.T, bin, pathDir string) *cmpServer {
	t.Helper()
	configDir := t.TempDir()
	copyFile(t, filepath.Join(deployDir, "plugin.yaml"), filepath.Join(configDir, "plugin.yaml"))
	// A unix socket path has at most 107 bytes: t.TempDir's are too long.
	sockDir := shortTempDir(t, "cmp")
	workDir := shortTempDir(t, "cmpw")
	logFile, err := os.Create(filepath.Join(t.TempDir(), "cmp-server.log"))
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "--config-dir-path", configDir, "--logformat", "text", "--loglevel", "info")
	cmd.Env = append(cleanEnv(),
		"PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ARGOCD_PLUGINSOCKFILEPATH="+sockDir,
		"ARGOCD_CMP_WORKDIR="+workDir,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// The server does not stop on SIGTERM while it serves: kill it.
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("argocd-cmp-server log:\n%s", b)
		}
	})

	// plugin.yaml has no spec.version: the socket is <name>.sock.
	sock := filepath.Join(sockDir, "egmc.sock")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("argocd-cmp-server exited: %v\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("argocd-cmp-server: no socket %s after 30s", sock)
		}
	}

	conn, client, err := apiclient.NewConfigManagementPluginClientSet(sock).NewConfigManagementPluginClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &cmpServer{sockDir: sockDir, client: client}
}

// cleanEnv is this process's environment without Argo CD's variables and
// plugin parameters, which must come from the request only.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARGOCD_") && !strings.HasPrefix(kv, "PARAM_") {
			env = append(env, kv)
		}
	}
	return env
}

// callCtx is a context for one request, bounded like the repo server's.
func callCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return c
}

// shortTempDir makes a directory under /tmp, removed when the test ends.
func shortTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// exampleDirs lists the examples of the repository.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no examples")
	}
	return dirs
}

// position is the 1-based line and column of the first needle in text.
func position(t *testing.T, text, needle string) (line, col int) {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 {
		t.Fatalf("%q not found", needle)
	}
	line = strings.Count(text[:i], "\n") + 1
	col = i - strings.LastIndex(text[:i], "\n")
	return line, col
}

// copyDir copies the regular files of src (not recursively) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
	}
}

// copyFile copies src to dst, making dst's directory.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes text to dir/name, making its directory.
func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile reads a file.
func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
