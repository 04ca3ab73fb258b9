package cli

import (
	"testing"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler"
)

// TestMaxRoutesKeepsPreRunE checks that --max-routes reads
// $EGMC_MAX_ROUTES and then runs the PreRunE the command already had, and
// that a bad value stops the command before it.
func TestMaxRoutesKeepsPreRunE(t *testing.T) {
	env := map[string]string{}
	defer func(old func(string) string) { getenv = old }(getenv)
	getenv = func(k string) string { return env[k] }

	ran := false
	cmd := &cobra.Command{Use: "x", PreRunE: func(*cobra.Command, []string) error { ran = true; return nil }, RunE: func(*cobra.Command, []string) error { return nil }}
	maxRoutesFlag(cmd, compiler.New())

	env[maxRoutesEnv] = "42"
	if err := cmd.PreRunE(cmd, nil); err != nil || !ran {
		t.Fatalf("PreRunE: %v, the command's own ran: %v", err, ran)
	}
	if got := cmd.Flags().Lookup("max-routes").Value.String(); got != "42" {
		t.Errorf("--max-routes is %s after $%s=42", got, maxRoutesEnv)
	}

	ran = false
	env[maxRoutesEnv] = "0"
	err := cmd.PreRunE(cmd, nil)
	if _, usage := err.(*usageError); !usage || ran {
		t.Errorf("$%s=0: error %v (want a usage error), the command's own PreRunE ran: %v", maxRoutesEnv, err, ran)
	}
}
