package compiler_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"egmc.dev/egmc/compiler"
)

// TestRunbookShellLinesQuoteTheUsersValues: a path may hold $ ( ) ; & '
// and the other characters Gateway API allows. The runbook's curl
// checks, run by a real shell with curl stubbed, pass each path to curl
// as one literal argument: nothing the user wrote is run.
func TestRunbookShellLinesQuoteTheUsersValues(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no POSIX shell to run the runbook's lines: %v", err)
	}
	paths := []string{"/$(touch$IFS'pwned')", "/;touch$IFS'pwned2';", "/it's", "/a&b=c", "/*", "/~user", "/ok/path"}
	src := "apiVersion: egmc.dev/v1alpha1\nkind: Intent\nmetadata: {name: shop}\nspec:\n  mesh: {provider: none}\n  routes:\n"
	for i, p := range paths {
		src += "  - {name: r" + string(rune('a'+i)) + ", hostnames: [r" + string(rune('a'+i)) + ".example.com], match: {path: " + yamlQuote(p) + "}, backend: {service: a, namespace: a, port: 80}}\n"
	}
	res, err := compiler.New().CompileBytes(context.Background(), "intent.yaml", []byte(src), compiler.Options{Files: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	var lines []string
	for _, s := range res.Runbook.Sections {
		for _, st := range s.Steps {
			for _, c := range st.Commands {
				if strings.HasPrefix(c, "curl ") {
					lines = append(lines, c)
				}
			}
		}
	}
	if len(lines) != len(paths) {
		t.Fatalf("%d curl lines, want %d: %q", len(lines), len(paths), lines)
	}
	dir := t.TempDir()
	for i, line := range lines {
		// the stub prints its last argument, the URL.
		script := `curl() { for a; do last=$a; done; printf '%s' "$last"; }; GATEWAY_HOST=gw; ` + line
		cmd := exec.Command(sh, "-c", script)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := "http://r" + string(rune('a'+i)) + ".example.com:80" + paths[i]
		if string(out) != want {
			t.Errorf("%s\n  passes %q to curl, want %q", line, out, want)
		}
	}
	if out, _ := exec.Command("ls", "-A", dir).Output(); len(out) > 0 {
		t.Errorf("running the runbook's lines created %s", out)
	}
}

// yamlQuote writes s as a YAML single-quoted scalar.
func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
