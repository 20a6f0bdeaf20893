package main

import (
	"bytes"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdFill: fill FILE PLACEHOLDER COUNT TEXT
// Replaces every PLACEHOLDER in FILE with TEXT repeated COUNT times, for
// documents too big to write into a script (a 40,000-byte guid).
func cmdFill(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: fill FILE PLACEHOLDER COUNT TEXT")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(os.WriteFile(path, bytes.ReplaceAll(data, []byte(args[1]), bytes.Repeat([]byte(args[3]), n)), 0o644))
}
