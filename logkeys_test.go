package newsdesk_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLogKeys: every log call in the module names an error "error" and a
// source "source", so that log queries work across packages. It reads the
// source of every package and looks at the keys of slog calls (Debug,
// Info, Warn, Error, With, Log).
func TestLogKeys(t *testing.T) {
	wrong := map[string]string{"err": "error", "src": "source", "source_id": "source"}
	methods := map[string]bool{"Debug": true, "Info": true, "Warn": true, "Error": true, "With": true, "Log": true, "LogAttrs": true}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !methods[sel.Sel.Name] {
				return true
			}
			for _, a := range call.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if key, _ := strconv.Unquote(lit.Value); wrong[key] != "" {
					t.Errorf("%s: log key %q: use %q", fset.Position(lit.Pos()), key, wrong[key])
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("read %d Go files; want the whole module", files)
	}
}
