package sim

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/mesh"
	istiolog "istio.io/istio/pkg/log"
	"istio.io/istio/pkg/test"
)

// failer is the test.Failer the fake istiod is built with outside of
// `go test`: it records failures, and Fatal ends the calling goroutine the
// way testing.T does (runFailer runs the work on its own goroutine).
type failer struct {
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

var _ test.Failer = (*failer)(nil)

// Fail records a failure.
func (f *failer) Fail() { f.record("failed") }

// FailNow records a failure and ends the goroutine.
func (f *failer) FailNow() { f.Fatal("failed") }

// Fatal records a failure and ends the goroutine.
func (f *failer) Fatal(args ...any) {
	f.record(fmt.Sprint(args...))
	runtime.Goexit()
}

// Fatalf records a failure and ends the goroutine.
func (f *failer) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// Log discards a log line.
func (f *failer) Log(...any) {}

// Logf discards a log line.
func (f *failer) Logf(string, ...any) {}

// TempDir creates a directory removed at cleanup.
func (f *failer) TempDir() string {
	dir, err := os.MkdirTemp("", "egmc-istio-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// Helper does nothing.
func (f *failer) Helper() {}

// Cleanup registers fn to run when the work is done, last first.
func (f *failer) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// Skip is a failure here: nothing may be skipped.
func (f *failer) Skip(args ...any) { f.Fatal(append([]any{"skipped: "}, args...)...) }

// record keeps a failure message.
func (f *failer) record(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, msg)
}

// err returns the failures as one error, or nil.
func (f *failer) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(f.errs, "; "))
}

// runFailer runs work on its own goroutine with a fresh failer, then runs
// the cleanups it registered (which stop the fake istiod). A panic in
// Istio's code is returned as an error.
func runFailer(work func(t *failer)) error {
	f := &failer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				f.record(fmt.Sprintf("panic: %v", r))
			}
		}()
		work(f)
	}()
	<-done
	f.mu.Lock()
	cleanups := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	return f.err()
}

var silenceOnce sync.Once

// silenceIstioLogs turns off every Istio log scope and klog, so that the
// simulator's stdout and stderr stay clean.
func silenceIstioLogs() {
	silenceOnce.Do(func() {
		for _, s := range istiolog.Scopes() {
			s.SetOutputLevel(istiolog.NoneLevel)
			s.SetStackTraceLevel(istiolog.NoneLevel)
			s.SetLogCallers(false)
		}
		klog.SetLogger(logr.Discard())
	})
}

// parseMeshConfig applies the meshConfig YAML over Istio's defaults.
func parseMeshConfig(y []byte) (*meshconfig.MeshConfig, error) {
	if len(strings.TrimSpace(string(y))) == 0 {
		return mesh.DefaultMeshConfig(), nil
	}
	mc, err := mesh.ApplyMeshConfigDefaults(string(y))
	if err != nil {
		return nil, fmt.Errorf("istio: mesh config: %w", err)
	}
	return mc, nil
}

// withAmbientFeatures runs fn with istiod's ambient feature flags set as
// PILOT_ENABLE_AMBIENT=true sets them (or left off), restoring them after.
func withAmbientFeatures(on bool, fn func() error) error {
	saved := [...]bool{features.EnableAmbient, features.EnableAmbientWaypoints}
	defer func() {
		features.EnableAmbient, features.EnableAmbientWaypoints = saved[0], saved[1]
	}()
	features.EnableAmbient, features.EnableAmbientWaypoints = on, on
	return fn()
}

// build runs the fake istiod and keeps what Carry needs.
func (m *Istio) build() error {
	c := m.cluster
	mc, err := parseMeshConfig(c.meshConfig)
	if err != nil {
		return err
	}
	cfg, err := c.configYAML()
	if err != nil {
		return err
	}
	ambient := c.anyAmbient()
	kube, err := c.kubeYAML(ambient)
	if err != nil {
		return err
	}
	err = withAmbientFeatures(ambient, func() error {
		return runFailer(func(t *failer) {
			s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
				ConfigString:           cfg,
				KubernetesObjectString: kube,
				MeshConfig:             mc,
			})
			m.capture(s, mc)
		})
	})
	if err != nil {
		return fmt.Errorf("istio: fake istiod: %w", err)
	}
	return nil
}

// capture computes, on the running fake istiod, the sidecars' listeners,
// routes, clusters and endpoints and the ambient index's view.
func (m *Istio) capture(s *xds.FakeDiscoveryServer, mc *meshconfig.MeshConfig) {
	c := m.cluster
	if c.gateway.Sidecar {
		m.gateway = newSidecarSim(s, c.gateway, mc)
	}
	for _, svc := range c.services {
		if svc.Pod != nil && svc.Pod.Sidecar {
			m.inbound[svc.Pod.key()] = newSidecarSim(s, svc.Pod, mc)
		}
	}
	if s.AmbientIndex != nil {
		m.ambient = newAmbientView(s, c, mc)
	}
}
