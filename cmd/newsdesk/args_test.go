package main

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdEachCmd is the testscript command
//
//	eachcmd EXIT STDERR-REGEXP [FLAG...]
//
// which runs `newsdesk NAME FLAG... ARGS` for every command NAME of the
// real binary, ARGS being a stand-in for each argument the command's usage
// requires (SECTION ITEM, FILE...), and fails unless each exits with EXIT
// and its stderr matches the regular expression. A new command is checked
// without a change here.
func cmdEachCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: eachcmd EXIT STDERR-REGEXP [FLAG...]")
	}
	want := args[0]
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	for _, c := range commands {
		argv := append([]string{c.name}, args[2:]...)
		argv = append(argv, requiredArgs(c.args)...)
		err := ts.Exec("newsdesk", argv...)
		code := "0"
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = strings.TrimPrefix(ee.ProcessState.String(), "exit status ")
		} else if err != nil {
			ts.Fatalf("newsdesk %s: %v", strings.Join(argv, " "), err)
		}
		if code != want {
			ts.Fatalf("newsdesk %s: exit %s, want %s", strings.Join(argv, " "), code, want)
		}
		if !re.MatchString(ts.ReadFile("stderr")) {
			ts.Fatalf("newsdesk %s: stderr does not match %q", strings.Join(argv, " "), args[1])
		}
	}
}

// requiredArgs are stand-ins for the positional arguments a command's
// usage requires: its upper-case words outside brackets that are not the
// value of a flag ("SECTION ITEM" -> "section", "item").
func requiredArgs(usage string) []string {
	var out []string
	depth := 0
	words := strings.Fields(usage)
	for i, w := range words {
		if depth == 0 && !strings.HasPrefix(w, "[") && w == strings.ToUpper(w) && !strings.HasPrefix(w, "-") &&
			(i == 0 || !strings.HasPrefix(words[i-1], "-")) {
			out = append(out, strings.ToLower(strings.TrimSuffix(w, "...")))
		}
		depth += strings.Count(w, "[") - strings.Count(w, "]")
	}
	return out
}
