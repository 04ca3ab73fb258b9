package emit

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue"
)

// Runbook is the profile's runbook data (profiles/common #Runbook).
type Runbook struct {
	Title    string    `json:"title"`
	Intro    []string  `json:"intro"`
	Sections []Section `json:"sections"`
}

// Section is one numbered section of the runbook.
type Section struct {
	Title string `json:"title"`
	Intro string `json:"intro"`
	Steps []Step `json:"steps"`
}

// Step is one step: text, then the shell commands that do it.
type Step struct {
	Text     string   `json:"text"`
	Commands []string `json:"commands"`
}

// DecodeRunbook reads the runbook of a profile's output.
func DecodeRunbook(v cue.Value) (*Runbook, error) {
	var r Runbook
	if err := v.Decode(&r); err != nil {
		return nil, fmt.Errorf("reading the runbook: %w", err)
	}
	return &r, nil
}

// Markdown renders the runbook as RUNBOOK.md: blocks (headings,
// paragraphs, lists, numbered steps with their commands) separated by one
// blank line.
func (r *Runbook) Markdown() []byte {
	blocks := []string{"# " + r.Title}
	blocks = append(blocks, r.Intro...)
	for i, s := range r.Sections {
		blocks = append(blocks, fmt.Sprintf("## %d. %s", i+1, s.Title))
		if s.Intro != "" {
			blocks = append(blocks, s.Intro)
		}
		blocks = append(blocks, stepBlocks(s.Steps)...)
	}
	return []byte(strings.Join(blocks, "\n\n") + "\n")
}

// stepBlocks renders steps with commands as numbered steps, each with a
// shell block, and consecutive steps without commands (notes) as one
// bullet list.
func stepBlocks(steps []Step) []string {
	var blocks, notes []string
	n := 0
	flush := func() {
		if len(notes) > 0 {
			blocks = append(blocks, strings.Join(notes, "\n"))
			notes = nil
		}
	}
	for _, st := range steps {
		if len(st.Commands) == 0 {
			notes = append(notes, "- "+st.Text)
			continue
		}
		flush()
		n++
		var b strings.Builder
		fmt.Fprintf(&b, "%d. %s\n\n   ```sh\n", n, st.Text)
		for _, c := range st.Commands {
			fmt.Fprintf(&b, "   %s\n", c)
		}
		b.WriteString("   ```")
		blocks = append(blocks, b.String())
	}
	flush()
	return blocks
}
