package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler"
	"egmc.dev/egmc/compiler/unify"
)

// maxRoutes is the value of --max-routes: set, it is checked at once (a
// value out of range is a usage error, exit 2) and given to the Compiler.
type maxRoutes struct {
	value int
	c     *compiler.Compiler
}

func (m *maxRoutes) String() string { return strconv.Itoa(m.value) }

// Type names the flag's values in the help.
func (m *maxRoutes) Type() string { return "N" }

// Set accepts a number of routes from 1 to unify.CeilingRoutes.
func (m *maxRoutes) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > unify.CeilingRoutes {
		return fmt.Errorf("use a number of routes from 1 to %d", unify.CeilingRoutes)
	}
	m.value = n
	m.c.SetMaxRoutes(n)
	return nil
}

// maxRoutesEnv names the environment variable that sets the default of
// --max-routes: for a runner that cannot pass flags, such as the Argo CD
// plugin sidecar, whose container environment is the operator's (an
// Application's own variables reach the plugin only as ARGOCD_ENV_*).
const maxRoutesEnv = "EGMC_MAX_ROUTES"

// maxRoutesFlag adds --max-routes to a command that compiles intents,
// defaulting to $EGMC_MAX_ROUTES; a bad value there is a usage error of
// the command. It reads the variable in the command's PreRunE, before a
// PreRunE the command already has.
func maxRoutesFlag(cmd *cobra.Command, c *compiler.Compiler) {
	m := &maxRoutes{value: unify.DefaultMaxRoutes, c: c}
	cmd.Flags().Var(m, "max-routes",
		fmt.Sprintf("compile intents of up to N routes (at most %d; each route costs about 5 ms and the time and memory grow with N: the limit is yours, not the intent author's; default $%s, else %d)", unify.CeilingRoutes, maxRoutesEnv, unify.DefaultMaxRoutes))
	cmd.Flags().Lookup("max-routes").DefValue = strconv.Itoa(unify.DefaultMaxRoutes)
	next := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if v := getenv(maxRoutesEnv); v != "" && !cmd.Flags().Changed("max-routes") {
			if err := m.Set(v); err != nil {
				return &usageError{fmt.Errorf("$%s=%q: %v", maxRoutesEnv, v, err)}
			}
		}
		if next != nil {
			return next(cmd, args)
		}
		return nil
	}
}
