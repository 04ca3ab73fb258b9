// Command argocd-cmp-server is the real Argo CD config management plugin
// (CMP) server of the pinned Argo CD release (github.com/argoproj/argo-cd/v3
// in ../../go.mod), built from Argo CD's own command package.
//
// Argo CD ships it inside its image as one multi-call binary that picks the
// command by argv[0]; here it is a plain binary, so the plugin test can run
// it on this machine. Build it with ../../build-cmp-server.sh, which caches it
// outside the work tree.
package main

import (
	"os"

	"k8s.io/klog/v2"

	"github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	// As Argo CD's cmd/main.go: klog logs through the configured logger.
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	command := commands.NewCommand()
	// As Argo CD's cmd/main.go does for the CMP server: cobra prints neither
	// the usage nor the error, main prints the error once.
	command.SilenceErrors = true
	command.SilenceUsage = true
	if err := command.Execute(); err != nil {
		os.Stderr.WriteString("argocd-cmp-server: " + err.Error() + "\n")
		os.Exit(1)
	}
}
