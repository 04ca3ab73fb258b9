package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler/diag"
	"egmc.dev/egmc/compiler/load"
)

// intentNames are the file names egmc looks for in a directory.
var intentNames = []string{"intent.cue", "intent.yaml", "intent.yml"}

// resolveIntent turns a file or directory argument into an intent file:
// a directory must hold exactly one of intent.cue, intent.yaml and
// intent.yml.
func resolveIntent(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return path, nil // a file, or a missing path: reading it says why
	}
	var found []string
	for _, n := range intentNames {
		p := filepath.Join(path, n)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", diag.List{{Filename: path, Message: fmt.Sprintf("no intent in this directory: add %s, or name the intent file", strings.Join(intentNames, ", "))}}
	case 1:
		return found[0], nil
	}
	return "", diag.List{{Filename: path, Message: fmt.Sprintf("the directory holds several intents (%s): keep one, or name the file", strings.Join(found, ", "))}}
}

// stdinName names standard input in messages, unless --stdin-filename
// gives a name (whose extension gives the format).
const stdinName = "stdin"

// loadIntent reads the intent a command argument names: "-" is standard
// input (named stdinFile, whose extension gives the format: YAML when it
// has none), a directory its one intent file, anything else a file.
// check, when not nil, vets the file before it is read.
func loadIntent(cmd *cobra.Command, arg, stdinFile string, check func(file string) error) (*load.Intent, error) {
	if arg != "-" {
		file, err := resolveIntent(arg)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(file); err != nil {
				return nil, err
			}
		}
		return load.ReadFile(file)
	}
	name, src, err := readStdin(cmd, stdinFile)
	if err != nil {
		return nil, err
	}
	format := load.YAML
	if stdinFile != "" {
		if format, err = load.FormatOf(stdinFile); err != nil {
			return nil, err
		}
	}
	return load.Parse(name, format, src)
}

// readStdin reads at most load.MaxSize bytes of standard input, and the
// name messages give it.
func readStdin(cmd *cobra.Command, stdinFile string) (string, []byte, error) {
	name := stdinName
	if stdinFile != "" {
		name = stdinFile
	}
	src, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), load.MaxSize+1))
	if err != nil {
		return "", nil, diag.List{{Filename: name, Message: fmt.Sprintf("cannot read standard input: %v", err)}}
	}
	if len(src) > load.MaxSize {
		return "", nil, diag.List{{Filename: name, Message: fmt.Sprintf("the input is larger than %d MiB: split it", load.MaxSize>>20)}}
	}
	return name, src, nil
}

// addStdinFlag adds --stdin-filename to a command that reads "-".
func addStdinFlag(cmd *cobra.Command, into *string) {
	cmd.Flags().StringVar(into, "stdin-filename", "", "the `NAME` standard input (-) goes by in messages; its extension gives the format (default: stdin, YAML)")
}
