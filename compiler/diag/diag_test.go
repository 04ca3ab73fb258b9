package diag

import "testing"

// TestStringIsOneSafeLine: text of the user's in a message or file name
// (a CUE error("...")) cannot forge a second diagnostic, drive the
// terminal or reorder the line.
func TestStringIsOneSafeLine(t *testing.T) {
	d := Diagnostic{Filename: "i\x1b.cue", Line: 6, Column: 18, Message: "x\nintent.cue:1:1: all good\x1b[2J\r\u202eevil\u2028\x7f\u0085 ünïcode"}
	want := `i\x1b.cue:6:18: x\nintent.cue:1:1: all good\x1b[2J\r\u202eevil\u2028\x7f\u0085 ünïcode`
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := Escape("plain: text, ünïcode"); got != "plain: text, ünïcode" {
		t.Errorf("escaped plain text: %s", got)
	}
}
