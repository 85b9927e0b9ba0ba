package cmd

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/urfave/cli/v2"
)

// Go's flag package, which urfave/cli parses with, names a flag with one
// dash ("flag provided but not defined: -drain-timeout") and says only
// "parse error" for a value it cannot read. lvsctl's flags are spelled
// with two dashes, and a value needs a word about its form.
var (
	flagNameRe   = regexp.MustCompile(`(^|[\s:])-([A-Za-z0-9][A-Za-z0-9-]+)\b`)
	badValueRe   = regexp.MustCompile(`^invalid value "(.*)" for flag -{1,2}([A-Za-z0-9-]+): (.*)$`)
	durationHelp = "a duration is a number with a unit: ms, s, m or h, as in 500ms, 5s, 2m or 1h30m"
)

// onUsageError is every command's OnUsageError: the flag package's
// complaint in lvsctl's spelling.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageError{flagMessage(commandFlags(c), err.Error())}
}

// commandFlags are the flags of the command c runs, the app's included.
func commandFlags(c *cli.Context) []cli.Flag {
	var fs []cli.Flag
	if c.Command != nil {
		fs = append(fs, c.Command.Flags...)
	}
	if c.App != nil {
		fs = append(fs, c.App.Flags...)
	}
	return fs
}

// flagMessage rewrites msg, an error of the flag package, for flags fs.
func flagMessage(fs []cli.Flag, msg string) string {
	if m := badValueRe.FindStringSubmatch(msg); m != nil {
		value, name := m[1], m[2]
		flag := "--" + name
		if len(name) == 1 {
			flag = "-" + name
		}
		switch findFlag(fs, name).(type) {
		case *cli.DurationFlag:
			if _, err := strconv.ParseFloat(value, 64); err == nil {
				return fmt.Sprintf("%s %s: a duration needs a unit, e.g. %ss (%s)", flag, value, value, durationHelp)
			}
			return fmt.Sprintf("%s %q is not a duration: %s", flag, value, durationHelp)
		case *cli.IntFlag, *cli.UintFlag, *cli.Int64Flag, *cli.Uint64Flag:
			return fmt.Sprintf("%s %q is not a whole number", flag, value)
		}
		return fmt.Sprintf("%s %q: %s", flag, value, m[3])
	}
	return flagNameRe.ReplaceAllStringFunc(msg, func(s string) string {
		m := flagNameRe.FindStringSubmatch(s)
		return m[1] + "--" + m[2]
	})
}
