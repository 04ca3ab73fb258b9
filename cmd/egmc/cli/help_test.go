package cli

import (
	"io"
	"strings"
	"testing"
)

// TestHelpEndsWithExamples checks every command's help text.
func TestHelpEndsWithExamples(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	cmds := append(root.Commands(), root)
	for _, c := range cmds {
		if c.Name() == "help" {
			continue
		}
		i := strings.LastIndex(c.Long, "\nExamples:\n")
		if i < 0 {
			t.Errorf("%s: the help has no Examples section", c.CommandPath())
			continue
		}
		for _, line := range strings.Split(c.Long[i+len("\nExamples:\n"):], "\n") {
			if !strings.HasPrefix(line, "  egmc") && !strings.HasPrefix(line, "  source <(egmc") {
				t.Errorf("%s: the help does not end with examples: %q", c.CommandPath(), line)
			}
		}
	}
}
