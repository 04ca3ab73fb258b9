package cli

import (
	"egmc.dev/egmc/compiler"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"
	"github.com/spf13/cobra"

	"egmc.dev/egmc/compiler/module"
	"egmc.dev/egmc/schema"
)

const schemaHelp = `Schema prints the intent schema, for editors and other tools.

--format cue (the default) prints the CUE definitions egmc validates
intents with (schema/intent.cue); --format jsonschema prints a JSON Schema
(draft 2020-12) generated from them, so that editors can complete and check
intent.yaml files. With the YAML language server (VS Code's YAML
extension, and others), save it and point the intent at it with a modeline
on the intent's first line:

  # yaml-language-server: $schema=./intent.schema.json

The JSON Schema checks types, enums, patterns and unknown fields; the
cross-field checks and ownership rules need egmc lint.

Examples:
  egmc schema
  egmc schema --format jsonschema > intent.schema.json`

func newSchemaCmd(c *compiler.Compiler) *cobra.Command {
	var format *choice
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the intent schema as CUE or JSON Schema",
		Long:  schemaHelp,
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format.value == "jsonschema" {
				return writeJSONSchema(c, cmd.OutOrStdout())
			}
			b, err := schema.FS.ReadFile("intent.cue")
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	format = formatFlag(cmd, "output format", "cue", "jsonschema")
	return cmd
}

// writeJSONSchema generates the JSON Schema of #Intent with CUE's
// generator, then drops the "false" branches that the schema's custom
// error messages leave in anyOf lists.
func writeJSONSchema(c *compiler.Compiler, w io.Writer) error {
	s, err := c.Schema()
	if err != nil {
		return err
	}
	expr, err := jsonschema.Generate(s.Intent(), nil)
	if err != nil {
		return fmt.Errorf("generating the JSON Schema: %w", err)
	}
	b, err := cuecontext.New().BuildExpr(expr).MarshalJSON()
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	doc = tidySchema(doc)
	fixRequired(doc, s)
	if m, ok := doc.(map[string]any); ok {
		m["$id"] = "https://egmc.dev/schemas/v1alpha1/intent.json"
		m["title"] = "egmc intent (egmc.dev/v1alpha1)"
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// tidySchema removes true and false from anyOf lists, turns an anyOf of constants
// into an enum, drops a "type" beside a "$ref" (which would reopen the
// referenced closed object for some validators), and drops the schema's
// hidden fields (named "_...").
func tidySchema(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = tidySchema(x)
		}
		if _, ok := v["$ref"]; ok {
			delete(v, "type")
		}
		if defs, ok := v["$defs"].(map[string]any); ok {
			for k := range defs {
				if strings.HasPrefix(k, "_") {
					delete(defs, k)
				}
			}
		}
		if props, ok := v["properties"].(map[string]any); ok {
			for k := range props {
				if strings.HasPrefix(k, "_") {
					delete(props, k)
				}
			}
		}
		if list, ok := v["anyOf"].([]any); ok {
			var kept, enum []any
			for _, x := range list {
				if _, ok := x.(bool); ok && len(list) > 1 {
					// false: an error() message branch; true: a default
					// computed from other fields, which is one of the
					// other branches anyway.
					continue
				}
				if m, ok := x.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["$ref"]), "#/$defs/_") {
					continue // a default taken from a hidden field
				}
				kept = append(kept, x)
				if m, ok := x.(map[string]any); ok && len(m) == 1 && m["const"] != nil {
					enum = append(enum, m["const"])
				}
			}
			switch {
			case len(enum) == len(kept) && len(enum) > 0:
				delete(v, "anyOf")
				v["enum"] = enum
			case len(kept) == 1:
				delete(v, "anyOf")
				for k, x := range kept[0].(map[string]any) {
					if _, exists := v[k]; !exists {
						v[k] = x
					}
				}
			default:
				v["anyOf"] = kept
			}
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = tidySchema(x)
		}
	}
	return v
}

// fixRequired makes "required" list only the fields an intent must write:
// CUE's generator counts every regular field, including those with
// defaults. Each object schema is matched with its CUE definition.
func fixRequired(doc any, s *module.Schema) {
	m, ok := doc.(map[string]any)
	if !ok {
		return
	}
	walkRequired(m, s.Intent())
	defs, _ := m["$defs"].(map[string]any)
	for name, d := range defs {
		if dm, ok := d.(map[string]any); ok {
			walkRequired(dm, s.Definition("#"+name))
		}
	}
}

// walkRequired fixes one object schema and its inline children.
func walkRequired(node map[string]any, v cue.Value) {
	if !v.Exists() {
		return
	}
	if _, ok := node["required"]; ok {
		if req := module.Required(v); len(req) > 0 {
			node["required"] = req
		} else {
			delete(node, "required")
		}
	}
	props, _ := node["properties"].(map[string]any)
	for name, p := range props {
		if pm, ok := p.(map[string]any); ok {
			walkRequired(pm, v.LookupPath(cue.MakePath(cue.Str(name))))
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		walkRequired(items, v.LookupPath(cue.MakePath(cue.AnyIndex)))
	}
}
