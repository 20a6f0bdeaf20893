package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseArgs is the one command-line parser: every command's flags go
// through it. It parses fs's flags and returns the positional arguments,
// which may come before, between or after the flags; after "--" every
// argument is positional. A flag it does not know, a flag value the flag
// refuses (-log-level loud) and a -log-format other than text or json are
// usage errors (exit 2), printed by the flag package with the usage or
// named in the error; -h is flag.ErrHelp (exit 0).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(io.Discard)
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if f := fs.Lookup("log-format"); f != nil {
		if v := f.Value.String(); v != "" && v != "text" && v != "json" {
			return nil, usageError{fmt.Sprintf("-log-format %q: use text or json", v)}
		}
	}
	return pos, nil
}

// parseOneArg is parseArgs for a command that takes one positional
// argument, what (import's FILE.opml).
func parseOneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(fs.Name(), "newsdesk ")
	switch len(pos) {
	case 0:
		return "", usageError{fmt.Sprintf("give the %s to import (see 'newsdesk %s -h')", what, name)}
	case 1:
		return pos[0], nil
	}
	return "", usageError{fmt.Sprintf("unexpected argument %q: give one %s (see 'newsdesk %s -h')", pos[1], what, name)}
}
