package nextsession_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The README's Go snippets are fragments of a program: each ```go block is
// type-checked as the body of a function that has these names in scope,
// with these packages imported (a block may open with its own import
// list), and may declare any of those names anew. Unused variables and
// imports are allowed; any other error fails the test, at the README's
// line.
const readmeScaffold = `package readme

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/sqlite"
)

var (
	_ = context.Background
	_ = log.Fatal
	_ = os.Getenv
	_ = time.Hour
	_ = sqlx.Open
	_ = adapter.Prisma
	_ = memory.New
	_ = postgres.New
	_ = sqlite.Open
)

// The names a snippet may use without declaring them.
type scope = func` + readmeNames + "\n"

// readmeNames are the parameters of every snippet's function.
const readmeNames = `(ctx context.Context, w http.ResponseWriter, r *http.Request, mux *http.ServeMux,
	m *session.Manager, dsn, addr, userID string, accountPages http.Handler, s session.Session)`

// TestREADMESnippets type-checks every Go snippet of README.md, so that
// the README cannot drift from the API.
func TestREADMESnippets(t *testing.T) {
	blocks := readmeBlocks(t)
	if len(blocks) == 0 {
		t.Fatalf("found %d Go blocks in README.md; the extraction is broken", len(blocks))
	}
	var src strings.Builder
	src.WriteString(readmeScaffold)
	var imports []string
	for _, b := range blocks {
		body := b.text
		if strings.HasPrefix(body, "import (") {
			end := strings.Index(body, "\n)\n")
			for imp := range strings.Lines(body[len("import (")+1 : end]) {
				// The scaffold imports the usual packages already.
				if imp = strings.TrimSpace(imp); imp != "" && !strings.Contains(readmeScaffold, imp) {
					imports = append(imports, imp)
				}
			}
			body = body[end+3:]
			b.line += strings.Count(b.text[:end+3], "\n")
		}
		// The inner block lets a snippet declare a name of the scope anew.
		fmt.Fprintf(&src, "\nvar _ scope = func%s {{\n//line README.md:%d\n%s\n}}\n", readmeNames, b.line, body)
	}
	code := src.String()
	if len(imports) > 0 {
		code = strings.Replace(code, "import (\n", "import (\n"+strings.Join(imports, "\n")+"\n", 1)
	}

	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "readme.go", code, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("README.md does not parse as Go: %v", err)
	}
	var paths []string
	for _, imp := range f.Imports {
		paths = append(paths, strings.Trim(imp.Path.Value, `"`))
	}
	conf := types.Config{
		Importer: exportImporter(t, fset, paths),
		Error: func(err error) {
			if msg := err.Error(); strings.Contains(msg, "declared and not used") || strings.Contains(msg, "imported and not used") {
				return // fine in a fragment
			}
			t.Error(err)
		},
	}
	conf.Check("readme", fset, []*ast.File{f}, nil)
}

type readmeBlock struct {
	line int // of the block's first line of code
	text string
}

// readmeBlocks returns the ```go blocks of README.md.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &readmeBlock{line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("README.md: the Go block at line %d is not closed", cur.line)
	}
	return blocks
}

// exportImporter imports packages from the export data the go command
// builds for them (go list -export), as the compiler would.
func exportImporter(t *testing.T, fset *token.FileSet, paths []string) types.Importer {
	t.Helper()
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -export: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -export: %v", err)
	}
	files := map[string]string{}
	for line := range strings.Lines(string(out)) {
		path, file, _ := strings.Cut(strings.TrimSpace(line), "\t")
		files[path] = file
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := files[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
}
