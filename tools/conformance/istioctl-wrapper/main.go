// Command istioctl builds the upstream istioctl from a pinned istio.io/istio
// commit. It exists only because `go install istio.io/istio/istioctl/cmd/istioctl@...`
// cannot resolve the pseudo-versions that istio's go.mod requires through the
// module proxy; the replace directives in go.mod pin released versions instead.
// The body mirrors istio.io/istio/istioctl/cmd/istioctl/main.go.
package main

import (
	"fmt"
	"os"

	// import all known client auth plugins
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"istio.io/istio/istioctl/cmd"
	"istio.io/istio/pkg/log"
)

func main() {
	if err := cmd.ConfigAndEnvProcessing(); err != nil {
		fmt.Fprintf(os.Stderr, "Could not initialize: %v\n", err)
		os.Exit(cmd.GetExitCode(err))
	}

	rootCmd := cmd.GetRootCmd(os.Args[1:])

	log.EnableKlogWithCobra()

	if err := rootCmd.Execute(); err != nil {
		os.Exit(cmd.GetExitCode(err))
	}
}
