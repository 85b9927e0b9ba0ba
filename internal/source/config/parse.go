package config

import (
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// parallelMin is the size from which a file is parsed in pieces: below it
// the goroutines cost more than they save.
const parallelMin = 256 << 10

// parallelDisabled makes parseSyntax parse in one piece, and fastDisabled
// makes Load and Parse use hclsyntax only; tests compare the ways.
var parallelDisabled, fastDisabled = false, false

// parseSyntax parses src as hclparse does, but a large file is cut at the
// ends of its top-level blocks and the pieces are parsed at the same time,
// each with its true starting position, so ranges and diagnostics are those
// of the whole file. It is the path of files fastDecode declines, which
// can be as large as a ten-thousand-service configuration.
//
// The cutting only needs to be right for valid files: if any piece has an
// error the whole file is parsed again in one go, so that diagnostics are
// exactly the ones hclsyntax gives for the file.
func parseSyntax(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	n := runtime.GOMAXPROCS(0)
	if len(src) < parallelMin || n < 2 || parallelDisabled {
		return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	cuts := topLevelCuts(src, n)
	if len(cuts) < 2 {
		return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	files := make([]*hcl.File, len(cuts))
	failed := make([]bool, len(cuts))
	var wg sync.WaitGroup
	for i, c := range cuts {
		end := len(src)
		if i+1 < len(cuts) {
			end = cuts[i+1].Byte
		}
		wg.Go(func() {
			f, diags := hclsyntax.ParseConfig(src[c.Byte:end], filename, c)
			files[i], failed[i] = f, diags.HasErrors()
		})
	}
	wg.Wait()
	bodies := make([]hcl.Body, len(files))
	nav := &piecesNav{}
	for i, f := range files {
		if failed[i] {
			return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
		}
		bodies[i] = f.Body
		nav.starts = append(nav.starts, cuts[i].Byte)
		cs, _ := f.Nav.(contextStringer)
		nav.pieces = append(nav.pieces, cs)
	}
	return &hcl.File{Body: hcl.MergeBodies(bodies), Bytes: src, Nav: nav}, nil
}

// piecesNav answers the diagnostic writer's "in virtual_server "web""
// question for a file parsed in pieces, by asking the piece that holds the
// offset. Offsets are of the whole file, as the pieces' ranges are.
type piecesNav struct {
	starts []int
	pieces []contextStringer
}

// contextStringer is what hclsyntax puts in hcl.File.Nav.
type contextStringer interface{ ContextString(offset int) string }

func (n *piecesNav) ContextString(offset int) string {
	for i := len(n.starts) - 1; i >= 0; i-- {
		if offset >= n.starts[i] {
			if n.pieces[i] == nil {
				return ""
			}
			return n.pieces[i].ContextString(offset)
		}
	}
	return ""
}

// topLevelCuts returns the starting positions of about n pieces of src,
// each beginning right after a newline that follows a top-level closing
// brace. It follows strings, comments and brackets well enough for valid
// files; anything it gets wrong makes a piece fail to parse, and then
// parseSyntax falls back to the whole file.
func topLevelCuts(src []byte, n int) []hcl.Pos {
	target := len(src) / n
	cuts := []hcl.Pos{hcl.InitialPos}
	depth, line := 0, 1
	next := target
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '\n':
			line++
		case '"':
			// Skip a quoted string; \" does not end it. A string cannot
			// span lines in HCL's native syntax (templates aside, which
			// valid configurations here do not use at top level).
			for i++; i < len(src) && src[i] != '"' && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				i--
			} else if i+1 < len(src) && src[i+1] == '*' {
				for i += 2; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
					if src[i] == '\n' {
						line++
					}
				}
				i++
			}
		case '<':
			if i+1 < len(src) && src[i+1] == '<' {
				return nil // a heredoc: not worth following, parse whole
			}
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			depth--
			if c == '}' && depth == 0 && i >= next {
				// Cut after the end of this line.
				j := i + 1
				for j < len(src) && src[j] != '\n' {
					j++
				}
				if j+1 >= len(src) {
					return cuts
				}
				cuts = append(cuts, hcl.Pos{Line: line + 1, Column: 1, Byte: j + 1})
				next = j + 1 + target
			}
		}
	}
	return cuts
}
