package config

import (
	"bytes"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Detect tells whether content, the file name, looks like an lvsctl HCL
// configuration: for a message that points at the right command when one
// is given where another kind of file belongs (a configuration in a saved
// plan's place). A name ending in .hcl is one; otherwise content must be
// HCL native syntax with at least one block. JSON (a plan, a saved table)
// never is.
func Detect(name string, content []byte) bool {
	if filepath.Ext(name) == ".hcl" {
		return true
	}
	if t := bytes.TrimSpace(content); len(t) == 0 || t[0] == '{' || t[0] == '[' {
		return false
	}
	f, diags := hclsyntax.ParseConfig(content, name, hcl.InitialPos)
	if diags.HasErrors() {
		return false
	}
	body, ok := f.Body.(*hclsyntax.Body)
	return ok && len(body.Blocks) > 0
}
