package hookguard_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlock is one ```go block of README.md.
type readmeBlock struct {
	line int // of the opening fence
	code string
}

func readmeGoBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &readmeBlock{line: n}
			b.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = b.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// readmeImports are the packages a README snippet may use without saying
// so; an import a snippet does not use is not an error.
var readmeImports = []string{
	"context", "fmt", "log", "log/slog", "net/http", "os", "testing", "time",
	"github.com/redis/go-redis/v9",
	"github.com/hookguard/hookguard",
	"github.com/hookguard/hookguard/dedupe",
	"github.com/hookguard/hookguard/otelhook",
	"github.com/hookguard/hookguard/providers",
	"github.com/hookguard/hookguard/rediskit",
	"github.com/hookguard/hookguard/verify",
	"github.com/hookguard/hookguard/webhooktest",
	"github.com/stretchr/testify/require",
}

// readmePreamble declares the names README snippets take from their
// surroundings: the request being served, the mux, the application's
// handler, and the presets an earlier snippet built. Snippets run in a
// block inside its scope, so they may redeclare any of them with :=.
const readmePreamble = `
	var (
		ctx         context.Context
		w           http.ResponseWriter
		r           *http.Request
		body        []byte
		mux         *http.ServeMux
		srv         *http.Server
		t           *testing.T
		handler     hookguard.Handler
		myHandler   hookguard.Handler
		yourHandler http.Handler
		stripe      hookguard.Verifier
		github      hookguard.Verifier
		router      *hookguard.Router
		billing     struct {
			Apply func(ctx context.Context, id, typ string) error
		}
		// Handlers of the routing example.
		paid, subscription func(ctx context.Context, e hookguard.Event, payload map[string]any) error
		audit              func(ctx context.Context, e hookguard.Event) error
	)
`

// elision matches the "{ ... }" and lone "..." lines snippets use for
// code left out.
var (
	elidedBlock = regexp.MustCompile(`\{ \.\.\. \}`)
	elidedLine  = regexp.MustCompile(`(?m)^\s*\.\.\.\s*(//.*)?$`)
)

// readmeSource turns a snippet into a Go file: a whole file (one that
// starts with a package clause) as it is, anything else inside a function
// with the preamble's names in scope.
func readmeSource(code string, line int) string {
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		return fmt.Sprintf("//line README.md:%d\n", line+1) + code
	}
	code = elidedBlock.ReplaceAllString(code, "{ panic(\"elided\") }")
	code = elidedLine.ReplaceAllString(code, "")
	var b strings.Builder
	b.WriteString("package readme\n\nimport (\n")
	for _, p := range readmeImports {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n\nfunc _() {\n")
	b.WriteString(readmePreamble)
	b.WriteString("\t_, _, _, _, _, _, _, _, _, _, _, _, _ = ctx, w, r, body, mux, srv, t, handler, myHandler, yourHandler, stripe, github, billing\n")
	b.WriteString("\t_, _, _, _ = paid, subscription, audit, router\n")
	b.WriteString("\t{\n")
	// Positions in the snippet are reported as README lines.
	fmt.Fprintf(&b, "//line README.md:%d\n", line+1)
	b.WriteString(code)
	b.WriteString("\t}\n}\n")
	return b.String()
}

// TestReadmeCodeCompiles type-checks every Go block of README.md against
// the packages as they are, so that a renamed function or a changed
// signature cannot leave the README teaching code that does not build.
// Unused variables and imports are allowed (snippets are excerpts); any
// other error fails, with the README line it comes from.
func TestReadmeCodeCompiles(t *testing.T) {
	blocks := readmeGoBlocks(t)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go blocks")
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", exportLookup(t, readmeImports))
	for _, blk := range blocks {
		if errs := checkSnippet(fset, imp, blk); len(errs) > 0 {
			var msg bytes.Buffer
			for _, e := range errs {
				fmt.Fprintf(&msg, "  %v\n", e)
			}
			t.Errorf("the ```go block at README.md:%d does not compile:\n%s", blk.line, msg.String())
		}
	}
}

// checkSnippet type-checks one block and returns its errors, less the
// ones an excerpt may have.
func checkSnippet(fset *token.FileSet, imp types.Importer, blk readmeBlock) []error {
	src := readmeSource(blk.code, blk.line)
	f, err := parser.ParseFile(fset, fmt.Sprintf("README.md:%d", blk.line), src, parser.SkipObjectResolution)
	if err != nil {
		return []error{err}
	}
	var errs []error
	conf := types.Config{Importer: imp, Error: func(err error) {
		var te types.Error
		if errors.As(err, &te) && te.Soft && softReadmeError(te.Msg) {
			return
		}
		errs = append(errs, err)
	}}
	_, _ = conf.Check("readme", fset, []*ast.File{f}, nil)
	return errs
}

// TestReadmeCheckCatches holds the checker to failing on what it is for.
func TestReadmeCheckCatches(t *testing.T) {
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", exportLookup(t, readmeImports))
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"recv, err := hookguard.New(stripe, handler)\nif err != nil { ... }\n...\n_ = recv\n", true},
		{"q, err := dedupe.NewMemory()\n", true},                         // unused: an excerpt may leave them
		{"recv, err := hookguard.NewReceiver(stripe, handler)\n", false}, // no such function
		{"recv, err := hookguard.New(stripe)\n", false},                  // wrong arguments
		{"x := undefinedName\n", false},
		{"package main\n\nfunc main() {}\n", true},
		{"package main\n\nfunc main() { return 1 }\n", false},
	} {
		errs := checkSnippet(fset, imp, readmeBlock{line: 1, code: tc.code})
		if (len(errs) == 0) != tc.ok {
			t.Errorf("checkSnippet(%q) = %v; want ok=%v", tc.code, errs, tc.ok)
		}
	}
}

// exportLookup returns a lookup function for the gc importer that opens
// the compiler's export data of pkgs and their dependencies, as
// "go list -export" finds (and, when needed, builds) it in the build cache:
// type-checking against it takes a second, where importing from source
// took over a minute.
func exportLookup(t *testing.T, pkgs []string) func(path string) (io.ReadCloser, error) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, pkgs...)
	out, err := exec.Command(goBin, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -export: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -export: %v", err)
	}
	files := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, ok := strings.Cut(line, "\t")
		if ok && file != "" {
			files[path] = file
		}
	}
	return func(path string) (io.ReadCloser, error) {
		file, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("README snippet imports %q, which is not in readmeImports", path)
		}
		return os.Open(file)
	}
}

// softReadmeError reports whether a soft type error is one an excerpt may
// have: a variable or import it declares and does not use.
func softReadmeError(msg string) bool {
	return strings.Contains(msg, "declared and not used") || strings.Contains(msg, "and not used")
}
