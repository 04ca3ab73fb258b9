package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// choice is a flag value that must be one of a fixed list: set, it is
// checked at once (a wrong value is a usage error, exit 2); its choices
// are the flag's shell completions and are listed in its help.
type choice struct {
	value   string
	choices []string
}

func (c *choice) String() string { return c.value }

// Type names the flag's values in the help: its choices.
func (c *choice) Type() string { return strings.Join(c.choices, "|") }

// Set accepts one of the choices.
func (c *choice) Set(v string) error {
	for _, x := range c.choices {
		if v == x {
			c.value = v
			return nil
		}
	}
	return fmt.Errorf("use %s", orList(c.choices))
}

// orList writes choices as "a, b or c".
func orList(choices []string) string {
	if len(choices) < 2 {
		return strings.Join(choices, "")
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
}

// formatFlag adds --format to cmd: one of choices, the first the default,
// completed by the shell; it returns the value to read.
func formatFlag(cmd *cobra.Command, usage string, choices ...string) *choice {
	c := &choice{value: choices[0], choices: choices}
	cmd.Flags().Var(c, "format", usage)
	_ = cmd.RegisterFlagCompletionFunc("format", completeWords(choices...))
	return c
}
