package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"egmc.dev/egmc/tools/conformance/sim"
)

// TestUsage checks the exit status 2 and the usage text for bad command
// lines.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"../../../../golden/teg-istio-sidecar-httpbin"},
		{"../../../../golden/teg-istio-sidecar-httpbin", "GET www.example.com/"},
		{"--no-such-flag", "x", "GET http://x/"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
		if stdout.Len() > 0 {
			t.Errorf("run(%q) printed on stdout: %s", args, stdout.String())
		}
		if stderr.Len() == 0 {
			t.Errorf("run(%q) said nothing on stderr", args)
		}
	}
}

// TestRun simulates two requests through a golden stream: one JSON object
// per line, in order, exit status 0 even for the request not delivered.
func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"../../../../golden/teg-istio-sidecar-httpbin",
		"GET http://www.example.com/httpbin/get", "GET http://www.example.com/nowhere"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), stdout.String())
	}
	var first, second sim.Result
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first.Backend != "httpbin.default:8000" || first.Path != "/get" || len(first.Hops) != 3 {
		t.Errorf("first request: %+v", first)
	}
	if second.Backend != "" || !strings.Contains(second.Error, "404") {
		t.Errorf("second request: %+v", second)
	}
}

// TestStreamError checks exit status 1 when the stream cannot be read.
func TestStreamError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"no/such/dir", "GET http://www.example.com/"}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1 (stderr %q)", code, stderr.String())
	}
}
