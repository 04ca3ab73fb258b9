// Package schema holds the CUE definition of the egmc intent: what is valid.
//
// The CUE files in this directory are the single source of truth for the
// intent format of spec/intent.md: the closed #Intent definition, every
// default, and the cross-field checks (#Check) that a single field cannot
// express. They are embedded into the binary and compiled once per process
// by the compiler's module package.
package schema

import "embed"

// FS holds the schema's CUE files (package schema).
//
//go:embed *.cue
var FS embed.FS
