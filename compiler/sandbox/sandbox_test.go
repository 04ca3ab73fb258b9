package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"egmc.dev/egmc/compiler/diag"
)

const intent = `apiVersion: "egmc.dev/v1alpha1"
kind:       "Intent"
metadata: name: "shop"
spec: {
	mesh: provider: "none"
	routes: [{name: "a", hostnames: ["a.example.com"], backend: {service: "a", namespace: "a", port: 80}}]
}
`

// small limits keep the test short; the hostile intents need minutes
// and gigabytes without them.
var small = Limits{Time: 2 * time.Second, Memory: 128 << 20}

// doubling is an intent whose string doubles n times.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString(intent + "_s0: \"xx\"\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "_s%d: \"\\(_s%d)\\(_s%d)\"\n", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "metadata: annotations: x: _s%d\n", n)
	return b.String()
}

// disjunctions is an intent of n chained disjunctions.
func disjunctions(n int) string {
	var b strings.Builder
	b.WriteString(intent + "_d0: 1 | 2\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "_d%d: (_d%d | _d%d) & (1|2)\n", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "_x: _d%d + 0\n", n)
	return b.String()
}

func TestUnboundedEvaluationIsRefused(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"list.Range":            {"import \"list\"\n_n: len([for i in list.Range(0, 100000000, 1) {i}])\n" + intent, "went past egmc's bounds (2s, 128 MiB)"},
		"doubled strings":       {doubling(40), "went past egmc's bounds (2s, 128 MiB)"},
		"nested comprehensions": {"import \"list\"\n_n: len([for i in list.Range(0,5000,1) for j in list.Range(0,5000,1) {i*j}])\n" + intent, "went past egmc's bounds (2s, 128 MiB)"},
		"chained disjunctions":  {disjunctions(30), "went past egmc's bounds (2s, 128 MiB)"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Check(context.Background(), "i.cue", []byte(c.src), small)
			var l diag.List
			if !errors.As(err, &l) || len(l) != 1 || l[0].Line != 1 || l[0].Filename != "i.cue" {
				t.Fatalf("got %v, want one diagnostic at i.cue:1:1", err)
			}
			if !matchesAny(l[0].Message, c.want) {
				t.Errorf("got %q, want one of %q", l[0].Message, c.want)
			}
		})
	}
}

func matchesAny(msg, alternatives string) bool {
	for _, a := range strings.Split(alternatives, "|") {
		if strings.Contains(msg, a) {
			return true
		}
	}
	return false
}

// TestBoundedEvaluationPasses: a valid intent, one that computes a little,
// and one with mistakes (egmc reports those itself) all finish.
func TestBoundedEvaluationPasses(t *testing.T) {
	for name, src := range map[string]string{
		"valid":    intent,
		"computes": "import \"list\"\n_n: len([for i in list.Range(0, 1000, 1) {i}])\n" + doubling(10),
		"mistakes": intent + "spec: routes: [{port: \"x\"}]\nbad: {\n",
		"empty":    "",
	} {
		if err := Check(context.Background(), "i.cue", []byte(src), Default); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCancelled: a done context stops the child and is the error.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Check(ctx, "i.cue", []byte(intent), Default); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// BenchmarkCheck is what a CUE intent pays for the sandbox: starting a
// child and evaluating the intent there.
func BenchmarkCheck(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := Check(context.Background(), "i.cue", []byte(intent), Default); err != nil {
			b.Fatal(err)
		}
	}
}
