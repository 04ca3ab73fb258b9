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

// release is egmc's version when the build carries no module version (a
// build from a checkout, as pre-commit makes). Raise it with each release.
const release = "v0.1.0-dev"

// version is the module version egmc was built from, or release.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return release
}
