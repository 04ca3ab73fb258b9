// Command simulate tells where requests go through an egmc stream, hop by
// hop, with the real upstream code: Envoy Gateway's translator (egctl) for
// the gateway and Istio's own simulation for the mesh (package sim).
//
// Usage:
//
//	simulate [flags] STREAM REQUEST...
//
// STREAM is a stream.yaml or a directory holding one (an `egmc build -o`
// directory or a golden directory; its helm/istiod-values.yaml gives the mesh
// config). Each REQUEST is "METHOD URL". For each request simulate prints
// one JSON object per line:
//
//	{"request": "...", "backend": "<service>.<namespace>:<port>", "path": "...", "error": "...", "hops": [...]}
//
// backend is empty when the request is not delivered, and error says why.
// Exit status: 0 when it could simulate (whatever became of the requests),
// 1 when the stream could not be simulated, 2 on usage errors.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"egmc.dev/egmc/tools/conformance"
	"egmc.dev/egmc/tools/conformance/sim"
)

const usage = `usage: simulate [flags] STREAM REQUEST...

Simulates each REQUEST ("METHOD URL") through the gateway and mesh of
STREAM (a stream.yaml, or a directory holding stream.yaml and optionally
helm/istiod-values.yaml) and prints one JSON object per request.

Flags:
`

const examples = `
Examples:
  simulate golden/teg-istio-sidecar-httpbin 'GET http://www.example.com/httpbin/get'
  simulate --cluster services.yaml rendered/ 'GET https://api.example.com/v1/items' 'POST https://api.example.com/v1/items'
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command, returning its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cluster := fs.String("cluster", "", "YAML `file` of objects the cluster already holds (the backends' Services, with selectors and target ports)")
	controllerNS := fs.String("controller-namespace", "", "Envoy Gateway's controller `namespace`, where the proxies run (default: inferred, else "+sim.DefaultControllerNamespace+")")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	reqs := make([]sim.Request, 0, fs.NArg()-1)
	for _, a := range fs.Args()[1:] {
		r, err := sim.ParseRequest(a)
		if err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return 2
		}
		reqs = append(reqs, r)
	}
	results, err := simulate(fs.Arg(0), *cluster, *controllerNS, reqs)
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return 1
		}
	}
	return 0
}

// simulate loads the stream and runs every request through it.
func simulate(streamPath, clusterFile, controllerNS string, reqs []sim.Request) ([]sim.Result, error) {
	s, err := loadStream(streamPath)
	if err != nil {
		return nil, err
	}
	opts := sim.Options{ControllerNamespace: controllerNS}
	if clusterFile != "" {
		if opts.Cluster, err = conformance.ReadStreamFile(clusterFile); err != nil {
			return nil, err
		}
	}
	egctl, err := conformance.LocateEgctl()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	simulator, err := sim.New(ctx, egctl, s, opts)
	if err != nil {
		return nil, err
	}
	out := make([]sim.Result, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, simulator.Simulate(r))
	}
	return out, nil
}

// loadStream reads a stream file, or a directory with stream.yaml and
// its mesh config.
func loadStream(path string) (conformance.Stream, error) {
	info, err := os.Stat(path)
	if err != nil {
		return conformance.Stream{}, err
	}
	if info.IsDir() {
		return conformance.LoadExample(path)
	}
	objs, err := conformance.ReadStreamFile(path)
	return conformance.Stream{Name: filepath.Base(path), Objects: objs}, err
}
