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

// maxRoutesFlag adds --max-routes to a command that compiles intents.
func maxRoutesFlag(cmd *cobra.Command, c *compiler.Compiler) {
	cmd.Flags().Var(&maxRoutes{value: unify.DefaultMaxRoutes, c: c}, "max-routes",
		fmt.Sprintf("compile intents of up to N routes (at most %d; each route costs about 5 ms and the time and memory grow with N: the limit is yours, not the intent author's)", unify.CeilingRoutes))
}
