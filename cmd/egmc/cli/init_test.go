//go:build linux

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"egmc.dev/egmc/compiler"
)

// openPTY opens a pseudo-terminal pair: what is written to the master
// is read from the slave, which is a terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close(); master.Close() })
	return master, slave
}

// TestInitPrompts answers the interview on a terminal: defaults (empty
// lines), a wrong answer that is asked again, and typed answers.
func TestInitPrompts(t *testing.T) {
	master, slave := openPTY(t)
	out := filepath.Join(t.TempDir(), "intent.yaml")
	answers := []string{
		"istio-sidecar", // mesh
		"",              // state: default installed
		"mtls-please",   // mtls: wrong, asked again
		"mesh",          // mtls
		"both",          // observability
		"",              // collector: default
		"shop.example.com",
		"/api",
		"api",
		"", // namespace: default = service
		"9090",
	}
	go func() {
		for _, a := range answers {
			time.Sleep(20 * time.Millisecond)
			fmt.Fprintf(master, "%s\n", a)
		}
	}()
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() { done <- RunIO([]string{"init", "-o", out, "--name", "shop"}, slave, &stdout, &stderr) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("init did not finish; it printed:\n%s", stderr.String())
	}
	prompts := stderr.String()
	for _, want := range []string{
		"Which service mesh? (istio-ambient/istio-sidecar/cilium/none) [istio-ambient]: ",
		"Istio ambient is recommended",
		"  choose one of mesh, backend-tls, gateway-sds, none",
		"Tracing collector (<service>.<namespace>:<port>)? [otel-collector.observability.svc.cluster.local:4317]: ",
		"First route: backend namespace? [api]: ",
		"wrote " + out,
	} {
		if !strings.Contains(prompts, want) {
			t.Errorf("the interview lacks %q:\n%s", want, prompts)
		}
	}
	if strings.Contains(prompts, "Gateway role?") {
		t.Error("the role is asked, though ingress is the only role egmc builds")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mode: sidecar", "hostnames:\n    - shop.example.com", "pathPrefix: /api", "namespace: api", "port: 9090", "collector: otel-collector.observability.svc.cluster.local:4317", "metrics: {}"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the intent lacks %q:\n%s", want, b)
		}
	}
	if _, err := compiler.New().CompileFile(context.Background(), out, compiler.Options{}); err != nil {
		t.Errorf("the written intent does not build: %v", err)
	}
}
