// Package atomtest validates Atom documents in tests against the RELAX NG
// schema of RFC 4287 (testdata/atom.rnc, provenance in testdata/README.md)
// with jing. It is for tests only and must not be imported by program
// code.
package atomtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Schema is the path of the RFC 4287 schema in this checkout.
func Schema() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "atom.rnc")
}

// Validate checks every file with jing against Schema. Where jing is not
// installed the test is skipped, saying so, unless the CI environment
// variable is set: CI must validate, so there it fails.
func Validate(t testing.TB, files ...string) {
	t.Helper()
	jing, err := exec.LookPath("jing")
	if err != nil {
		const msg = "jing is not on PATH, so Atom is not validated against RFC 4287: install it (apt-get install jing)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so this fails")
		}
		t.Skip(msg)
	}
	schema := Schema()
	if _, err := os.Stat(schema); err != nil {
		t.Fatalf("the RFC 4287 schema is missing from the checkout: %v", err)
	}
	for _, f := range files {
		if out, err := exec.Command(jing, "-c", schema, f).CombinedOutput(); err != nil {
			t.Errorf("jing %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
}
