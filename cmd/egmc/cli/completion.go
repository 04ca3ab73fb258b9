package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

const completionHelp = `Completion prints a shell completion script for egmc: commands, flags,
flag values (formats, the init answers) and intent files (*.cue, *.yaml).

Load it in the current shell, or install it once:

Examples:
  source <(egmc completion bash)
  egmc completion bash > /etc/bash_completion.d/egmc
  egmc completion zsh > "${fpath[1]}/_egmc"
  egmc completion fish > ~/.config/fish/completions/egmc.fish`

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print a shell completion script",
		Long:      completionHelp,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs(1, "a shell: bash, zsh, fish or powershell"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return &usageError{fmt.Errorf("unknown shell %q: use bash, zsh, fish or powershell", args[0])}
		},
	}
}

// completeIntentFiles completes intent files and directories.
func completeIntentFiles(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"cue", "yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeWords completes a flag's fixed values.
func completeWords(words ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return words, cobra.ShellCompDirectiveNoFileComp
	}
}

// addCompletions registers the completions of every command.
func addCompletions(root *cobra.Command) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "build", "diff", "explain", "lint":
			c.ValidArgsFunction = completeIntentFiles
		}
	}
	init := findCommand(root, "init")
	for _, q := range questions {
		if q.choices != nil {
			_ = init.RegisterFlagCompletionFunc(q.flag, completeWords(q.choices...))
		}
	}
}

func findCommand(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}
