// Command man writes lvsctl's man pages, one per command, into a
// directory: make man runs it (go run ./internal/tools/man -dir man).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
	"github.com/lvsctl/lvsctl/internal/cmd"
)

func main() {
	dir := flag.String("dir", "man", "write the pages into `DIR`")
	version := flag.String("version", cmd.Version, "the version the pages name")
	date := flag.String("date", "", "the date the pages name, YYYY-MM-DD (that of the commit they are made from)")
	flag.Parse()
	if *date == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: man -date YYYY-MM-DD [-dir DIR] [-version VERSION]")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "man:", err)
		os.Exit(1)
	}
	for _, p := range cmd.ManPages(*version, *date) {
		if err := atomicfile.WriteFile(filepath.Join(*dir, p.Name), []byte(p.Text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "man:", err)
			os.Exit(1)
		}
	}
}
