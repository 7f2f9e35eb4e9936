package orgscan

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayout: nothing imports back up. internal/orgscan runs scopes and
// writes nothing: it imports neither internal/report nor a command;
// internal/report writes results and imports no other package of the
// module.
func TestLayout(t *testing.T) {
	const mod = "github.com/amiwatermark/packer-plugin-amiwatermark/"
	for dir, refused := range map[string][]string{
		".":          {mod + "internal/report", mod + "cmd/"},
		"../report/": {mod},
	} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		if len(files) == 0 {
			t.Fatalf("no Go file in %s", dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range af.Imports {
				path, _ := strconv.Unquote(im.Path.Value)
				for _, r := range refused {
					if strings.HasPrefix(path, r) {
						t.Errorf("%s imports %s", f, path)
					}
				}
			}
		}
	}
}
