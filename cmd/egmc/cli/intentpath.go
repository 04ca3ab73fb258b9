package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"egmc.dev/egmc/compiler/diag"
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
