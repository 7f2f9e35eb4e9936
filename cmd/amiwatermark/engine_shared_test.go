package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneEngine proves that attach/detach and the post-processor share one
// code path: outside the emulator (the oracle, which serves these calls)
// and tests, the only Go code in the repository that calls
// AttachImageWatermark or DetachImageWatermark is internal/engine, and both
// the CLI and the post-processor import it.
func TestOneEngine(t *testing.T) {
	root := filepath.Join("..", "..")
	callers := map[string]bool{}
	imports := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch rel {
			case ".git", "bin", "dist", "internal/ec2emu", "tools":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if strings.HasSuffix(strings.Trim(imp.Path.Value, `"`), "/internal/engine") {
				imports[filepath.ToSlash(filepath.Dir(rel))] = true
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if name := sel.Sel.Name; name == "AttachImageWatermark" || name == "DetachImageWatermark" {
					callers[filepath.ToSlash(filepath.Dir(rel))] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(callers) != 1 || !callers["internal/engine"] {
		t.Errorf("packages calling Attach/DetachImageWatermark: %v, want only internal/engine", callers)
	}
	for _, pkg := range []string{"cmd/amiwatermark", "post-processor/amiwatermark"} {
		if !imports[pkg] {
			t.Errorf("%s does not import internal/engine (importers: %v)", pkg, imports)
		}
	}
}
