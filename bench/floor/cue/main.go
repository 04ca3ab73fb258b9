//go:build ignore

// Command cue is the second floor of egmc's whole-process benchmarks: a Go
// program that links CUE, compiles one small template and evaluates it
// once per route, printing each route's object as JSON. With one route it
// is the least a CUE-based compiler of the minimal intent pays; with 1000,
// the least a route-by-route CUE evaluation pays, beside which egmc's own
// profiles are measured.
//
// Usage: cue ROUTES
//
// It is a //go:build ignore program, built by file name, so that go
// install ./... (what pre-commit's golang hooks run) leaves it out.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

const template = `
#Gen: {
	route: {name: string, host: string, service: string, namespace: string, port: int}
	out: {
		apiVersion: "gateway.networking.k8s.io/v1"
		kind:       "HTTPRoute"
		metadata: {name: route.name, namespace: route.namespace}
		spec: {
			hostnames: [route.host]
			rules: [{backendRefs: [{name: route.service, port: route.port}]}]
		}
	}
}
`

// route is one route's input.
type route struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	Service   string `json:"service"`
	Namespace string `json:"namespace"`
	Port      int    `json:"port"`
}

func main() {
	n, err := strconv.Atoi(os.Args[len(os.Args)-1])
	if err != nil || len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cue ROUTES")
		os.Exit(2)
	}
	ctx := cuecontext.New()
	gen := ctx.CompileString(template).LookupPath(cue.ParsePath("#Gen"))
	if err := gen.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for i := 0; i < n; i++ {
		r := route{Name: fmt.Sprintf("r%d", i), Host: fmt.Sprintf("h%d.example.com", i%50), Service: fmt.Sprintf("s%d", i), Namespace: fmt.Sprintf("ns%d", i%20), Port: 8080}
		j, err := gen.FillPath(cue.ParsePath("route"), r).LookupPath(cue.ParsePath("out")).MarshalJSON()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		w.Write(j)
		w.WriteString("\n")
	}
}
