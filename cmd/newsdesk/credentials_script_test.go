package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdNoSecret: nosecret 'VAR...' PATH...
// Fails when a file under any PATH (a file, or a folder read through;
// .gz files decompressed) contains the value of one of the environment
// variables VAR, the secrets of the script: what no output of newsdesk
// may show. It names the file and the variable, never the value.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret 'VAR...' PATH...")
	}
	secrets := map[string]string{}
	for _, name := range strings.Fields(args[0]) {
		v := ts.Getenv(name)
		if v == "" {
			ts.Fatalf("nosecret: $%s is empty", name)
		}
		secrets[name] = v
	}
	var leaks []string
	files := 0
	for _, root := range args[1:] {
		err := filepath.WalkDir(ts.MkAbs(root), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.HasSuffix(path, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					return err
				}
				if data, err = io.ReadAll(zr); err != nil {
					return err
				}
			}
			files++
			for name, v := range secrets {
				if bytes.Contains(data, []byte(v)) {
					leaks = append(leaks, path+" shows the value of $"+name)
				}
			}
			return nil
		})
		ts.Check(err)
	}
	if len(leaks) > 0 {
		ts.Fatalf("nosecret:\n%s", strings.Join(leaks, "\n"))
	}
	if files == 0 {
		ts.Fatalf("nosecret: no files under %q", args[1:])
	}
	ts.Logf("nosecret: %d files, none shows a secret", files)
}
