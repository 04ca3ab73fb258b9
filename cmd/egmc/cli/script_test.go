package cli_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"egmc.dev/egmc/cmd/egmc/cli"
	"egmc.dev/egmc/golden"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"egmc": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the CLI scripts in testdata/script: each is a txtar
// archive of files and commands run against the real egmc binary
// (in-process), checking stdout, stderr, files and exit status. Run with
// -update or EGMC_UPDATE=1 to rewrite their expected output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       golden.Update(),
	})
}

// TestRulesDoc checks that docs/rules.md is the catalogue as
// `egmc rules --format markdown` prints it (EGMC_UPDATE=1 rewrites it).
func TestRulesDoc(t *testing.T) {
	var out, errs bytes.Buffer
	if code := cli.Run([]string{"rules", "--format", "markdown"}, &out, &errs); code != 0 {
		t.Fatalf("egmc rules: exit %d: %s", code, errs.String())
	}
	golden.Check(t, "../../../docs/rules.md", out.Bytes())
}
