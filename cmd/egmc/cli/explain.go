package cli

import (
	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler"
)

const explainHelp = `Explain says who owns what for an intent, and how a request travels.

The ownership matrix lists each concern (TLS termination, JWT
authentication, rate limiting, the hop from the gateway to the backends,
service authorization, routing into the mesh, retries, timeouts, circuit
breaking, ...), its owner, the generated objects that implement it and the
rules involved (egmc rules ID). The traffic path goes from the client
through the load balancer, the EG proxy and the mesh's proxies to the
backends, marking where mTLS starts and ends.

--format mermaid prints the path as a Mermaid flowchart and --format dot
as a Graphviz graph, for READMEs and reviews.

Examples:
  egmc explain intent.yaml
  egmc explain intent.cue --format mermaid
  egmc explain intent.cue --format dot | dot -Tsvg > path.svg
  egmc explain apps/shop/
  egmc explain - < intent.yaml`

func newExplainCmd(c *compiler.Compiler) *cobra.Command {
	var stdinFile string
	var format *choice
	cmd := &cobra.Command{
		Use:   "explain [INTENT|DIR|-]",
		Short: "Show who owns each concern and the traffic path",
		Long:  explainHelp,
		Args:  maxArgs(1, "one intent file or directory, or - for standard input"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			in, err := loadIntent(cmd, path, stdinFile, nil)
			if err != nil {
				return err
			}
			res, err := c.Compile(cmd.Context(), in, compiler.Options{Explain: true})
			if err != nil {
				return err
			}
			if len(res.Warnings) > 0 {
				printError(cmd.ErrOrStderr(), res.Warnings)
			}
			out := map[string]func() []byte{"text": res.Explain.Text, "mermaid": res.Explain.Mermaid, "dot": res.Explain.Dot}[format.value]()
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	format = formatFlag(cmd, "output format", "text", "mermaid", "dot")
	addStdinFlag(cmd, &stdinFile)
	maxRoutesFlag(cmd, c)
	return cmd
}
