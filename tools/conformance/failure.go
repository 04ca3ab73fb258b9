package conformance

import "fmt"

// Failure is one reason a tool does not accept a stream.
type Failure struct {
	// Tool is the check that failed: "egctl", "istioctl" or "harness" (a
	// check the harness makes itself where egctl cannot, see egctl.go).
	Tool string
	// Object names the object concerned ("stream" when the tool rejected
	// the whole input).
	Object string
	// Condition names what is wrong: a status condition with its status
	// and reason, an analyzer code, "missing" or "exit status".
	Condition string
	// Message is the tool's own message, verbatim.
	Message string
}

// String formats the failure on one line.
func (f Failure) String() string {
	return fmt.Sprintf("[%s] %s: %s: %s", f.Tool, f.Object, f.Condition, f.Message)
}
