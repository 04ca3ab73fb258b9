// Package diag holds egmc's diagnostics: the errors and warnings a user
// sees, each at a position in the user's own file, printed GNU-style as
// file:line:col: message.
package diag

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue/token"
)

// Severity of a diagnostic.
type Severity int

const (
	// Error makes the build fail.
	Error Severity = iota
	// Warning is printed but does not fail the build (unless strict).
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in an input file.
type Diagnostic struct {
	// Filename, Line and Column locate the problem (1-based; 0 when unknown).
	Filename string
	Line     int
	Column   int
	Severity Severity
	// Rule is the id of the ownership rule that found the problem, if any.
	Rule string
	// Message says what is wrong and how to fix it.
	Message string
}

// At returns a diagnostic at the given position.
func At(pos token.Position, sev Severity, msg string) Diagnostic {
	return Diagnostic{Filename: pos.Filename, Line: pos.Line, Column: pos.Column, Severity: sev, Message: msg}
}

// String formats the diagnostic as file:line:col: [warning: ][RULE: ]message,
// on one line: control characters of the file name and the message
// (which may hold text of the user's, such as a CUE error("...")) are
// escaped, so that no message can forge another line, move the cursor or
// reorder the text of a terminal.
func (d Diagnostic) String() string {
	var b strings.Builder
	switch {
	case d.Filename == "":
	case d.Line == 0:
		fmt.Fprintf(&b, "%s: ", Escape(d.Filename))
	default:
		fmt.Fprintf(&b, "%s:%d:%d: ", Escape(d.Filename), d.Line, d.Column)
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	if d.Rule != "" {
		b.WriteString(Escape(d.Rule) + ": ")
	}
	b.WriteString(Escape(d.Message))
	return b.String()
}

// Escape returns s with each control character (C0, DEL, C1), line or
// paragraph separator and bidirectional formatting character written as
// a Go escape (\n, \x1b, \u202e); s itself when it has none.
func Escape(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unsafeRune(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// unsafeRune tells whether r must not reach a terminal as it is.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// List is a list of diagnostics; as an error it holds at least one.
type List []Diagnostic

// Error joins the diagnostics, one per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, d := range l {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors tells whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders the diagnostics by file, line, column and message, and
// removes duplicates.
func (l List) Sort() List {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Message < b.Message
	})
	out := l[:0]
	for i, d := range l {
		if i > 0 && d == l[i-1] {
			continue
		}
		out = append(out, d)
	}
	return out
}

// Internal is an error in egmc itself (a profile that produced an invalid
// object, say): not the user's mistake.
type Internal struct {
	Err error
}

// Error says that the error is egmc's and asks for a report.
func (e *Internal) Error() string {
	return fmt.Sprintf("internal error (please report it at the egmc issue tracker): %v", e.Err)
}

// Unwrap returns the underlying error.
func (e *Internal) Unwrap() error { return e.Err }

// Internalf returns an internal error.
func Internalf(format string, args ...any) error {
	return &Internal{Err: fmt.Errorf(format, args...)}
}
