// Command egmc is the Envoy Gateway mesh compiler: it compiles an intent
// into ordered Kubernetes manifests, Helm values and a runbook.
package main

import (
	"os"

	"egmc.dev/egmc/cmd/egmc/cli"
)

func main() {
	os.Exit(cli.Main())
}
