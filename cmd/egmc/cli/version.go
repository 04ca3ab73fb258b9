package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler/validate"
)

const versionHelp = `Version prints egmc's version and the upstream releases whose schemas
egmc validates its output against (and whose tools check it in CI).

Examples:
  egmc version`

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print egmc's version",
		Long:  versionHelp,
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "egmc %s\n", version())
			for _, p := range validate.Pins() {
				fmt.Fprintf(w, "%-14s %s (%s)\n", p.Name, p.Version, p.Module)
			}
			return nil
		},
	}
}

// version is the module version egmc was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
