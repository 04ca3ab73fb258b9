package emit

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"cuelang.org/go/cue"
)

// Explain is the profile's explanation of an intent (profiles/common
// #ExplainOut): who owns each concern, and the path of a request.
type Explain struct {
	Name     string    `json:"-"`
	Profile  string    `json:"profile"`
	Concerns []Concern `json:"concerns"`
	Path     []Hop     `json:"path"`
}

// Concern is one row of the ownership matrix.
type Concern struct {
	Concern string   `json:"concern"`
	Owner   string   `json:"owner"`
	Objects []string `json:"objects"`
	Rules   []string `json:"rules"`
	Note    string   `json:"note"`
}

// Hop is one step of the traffic path.
type Hop struct {
	Name   string `json:"name"`
	Detail string `json:"detail"`
	// MTLS is "starts", "ends", "inside" or empty.
	MTLS string `json:"mtls"`
}

// DecodeExplain reads the explanation of a profile's output.
func DecodeExplain(v cue.Value) (*Explain, error) {
	var e Explain
	if err := v.Decode(&e); err != nil {
		return nil, fmt.Errorf("reading the explanation: %w", err)
	}
	return &e, nil
}

// maxObjects is how many objects a matrix cell names before it counts
// the rest.
const maxObjects = 4

// Text renders the ownership matrix and the traffic path for a terminal.
func (e *Explain) Text() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Intent %s, profile %s\n\nOwnership\n\n", e.Name, e.Profile)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONCERN\tOWNER\tIMPLEMENTED BY\tRULES")
	for _, c := range e.Concerns {
		objs := objectList(c.Objects)
		if c.Note != "" {
			objs = append(objs, "("+c.Note+")")
		}
		if len(objs) == 0 {
			objs = []string{"-"}
		}
		for i, o := range objs {
			if i == 0 {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Concern, c.Owner, o, strings.Join(c.Rules, " "))
				continue
			}
			fmt.Fprintf(tw, "  \t\t%s\t\n", o)
		}
	}
	tw.Flush()
	b.WriteString("\nTraffic path\n\n")
	for i, h := range e.Path {
		arrow := "  "
		if i > 0 {
			arrow = "  -> "
		}
		fmt.Fprintf(&b, "%s%s: %s%s\n", arrow, h.Name, h.Detail, mtlsNote(h.MTLS))
	}
	return []byte(b.String())
}

func objectList(objs []string) []string {
	if len(objs) <= maxObjects {
		return objs
	}
	out := append([]string{}, objs[:maxObjects-1]...)
	return append(out, fmt.Sprintf("... and %d more", len(objs)-maxObjects+1))
}

func mtlsNote(m string) string {
	switch m {
	case "starts":
		return "  [mTLS starts]"
	case "ends":
		return "  [mTLS ends]"
	case "inside":
		return "  [inside mTLS]"
	}
	return ""
}

// Mermaid renders the traffic path as a Mermaid flowchart; the hops
// between the start and the end of mTLS are linked with "mTLS" edges.
func (e *Explain) Mermaid() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "flowchart LR\n")
	for i, h := range e.Path {
		fmt.Fprintf(&b, "  h%d[%q]\n", i, h.Name)
	}
	for i := 1; i < len(e.Path); i++ {
		if inMTLS(e.Path, i) {
			fmt.Fprintf(&b, "  h%d ==>|mTLS| h%d\n", i-1, i)
			continue
		}
		fmt.Fprintf(&b, "  h%d --> h%d\n", i-1, i)
	}
	return []byte(b.String())
}

// Dot renders the traffic path as a Graphviz digraph.
func (e *Explain) Dot() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=LR;\n  node [shape=box];\n", "egmc "+e.Name)
	for i, h := range e.Path {
		fmt.Fprintf(&b, "  h%d [label=%q, tooltip=%q];\n", i, h.Name, h.Detail)
	}
	for i := 1; i < len(e.Path); i++ {
		if inMTLS(e.Path, i) {
			fmt.Fprintf(&b, "  h%d -> h%d [label=\"mTLS\", style=bold];\n", i-1, i)
			continue
		}
		fmt.Fprintf(&b, "  h%d -> h%d;\n", i-1, i)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// inMTLS tells whether the edge into hop i is carried by mTLS: mTLS has
// started at or before hop i-1 and not ended before hop i.
func inMTLS(path []Hop, i int) bool {
	on := false
	for j := 0; j < i; j++ {
		switch path[j].MTLS {
		case "starts", "inside":
			on = true
		case "ends":
			on = false
		}
	}
	return on
}
