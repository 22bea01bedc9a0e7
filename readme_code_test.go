package hookguard_test

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeBlock is one ```go block of README.md.
type readmeBlock struct {
	line int // of the opening fence
	code string
}

func readmeGoBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open("README.md")
	require.NoError(t, err)
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
	require.NoError(t, sc.Err())
	return blocks
}

// readmeImports are the packages a README snippet may use without saying
// so; an import a snippet does not use is not an error.
var readmeImports = []string{
	"crypto/tls", "context", "fmt", "log", "log/slog", "net/http", "os", "testing", "time",
	"github.com/redis/go-redis/v9",
	"github.com/jackc/pgx/v5",
	"github.com/jackc/pgx/v5/pgxpool",
	"github.com/hookguard/hookguard",
	"github.com/hookguard/hookguard/dedupe",
	"github.com/hookguard/hookguard/otelhook",
	"github.com/hookguard/hookguard/providers",
	"github.com/hookguard/hookguard/rediskit",
	"github.com/hookguard/hookguard/riverkit",
	"github.com/hookguard/hookguard/verify",
	"github.com/hookguard/hookguard/webhooktest",
	"github.com/stretchr/testify/require",
}

// readmePreamble declares the names README snippets take from their
// surroundings: the request being served, the mux, the application's
// handler, and the presets an earlier snippet built. Snippets run in a
// block inside its scope, so they may redeclare any of them with :=.
const readmePreamble = `
	// The event payload of the Postgres example.
	type payment struct {
		ID   string
		Data struct{ Object struct{ ID string; Amount int64 } }
	}
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
		pool        *pgxpool.Pool
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
// that imports imports and has the preamble's names in scope.
func readmeSource(code string, line int, imports []string) string {
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		return fmt.Sprintf("//line README.md:%d\n", line+1) + code
	}
	code = elidedBlock.ReplaceAllString(code, "{ panic(\"elided\") }")
	code = elidedLine.ReplaceAllString(code, "")
	var b strings.Builder
	b.WriteString("package readme\n\nimport (\n")
	for _, p := range imports {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n\nfunc _() {\n")
	preamble := readmePreamble
	if !slices.Contains(imports, "github.com/jackc/pgx/v5/pgxpool") {
		// Outside the workspace pgx is not loadable; the blocks that use
		// the pool are skipped then, and the others must still compile.
		preamble = strings.Replace(preamble, "*pgxpool.Pool", "any", 1)
	}
	b.WriteString(preamble)
	b.WriteString("\t_, _, _, _, _, _, _, _, _, _, _, _, _ = ctx, w, r, body, mux, srv, t, handler, myHandler, yourHandler, stripe, github, billing\n")
	b.WriteString("\t_, _, _, _, _ = paid, subscription, audit, router, pool\n")
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
//
// rediskit, otelhook and go-redis belong to other modules of the
// repository, which the test reaches through the workspace (go.work). Run
// with GOWORK=off, the root module alone cannot load them: the blocks that
// use them are then logged as not checked, and the others are checked as
// usual. In the workspace every import must load.
func TestReadmeCodeCompiles(t *testing.T) {
	blocks := readmeGoBlocks(t)
	require.NotEmpty(t, blocks, "README.md has no ```go blocks")
	fset := token.NewFileSet()
	lookup, missing := exportLookup(t, readmeImports)
	if len(missing) > 0 && inWorkspace(t) {
		for _, p := range slices.Sorted(maps.Keys(missing)) {
			assert.Failf(t, "README snippets import a package the workspace cannot load", "%s: %s", p, missing[p])
		}
	}
	imports := loadable(readmeImports, missing)
	imp := importer.ForCompiler(fset, "gc", lookup)
	skipped := 0
	for _, blk := range blocks {
		if p := usesMissing(blk.code, missing); p != "" {
			t.Logf("README.md:%d not checked: it uses %s, which this build cannot load (%s)", blk.line, p, missing[p])
			skipped++
			continue
		}
		if errs := checkSnippet(fset, imp, blk, imports); len(errs) > 0 {
			var msg bytes.Buffer
			for _, e := range errs {
				fmt.Fprintf(&msg, "  %v\n", e)
			}
			assert.Failf(t, "a README block does not compile", "the ```go block at README.md:%d:\n%s", blk.line, msg.String())
		}
	}
	if skipped > 0 {
		t.Logf("%d of %d README blocks not checked: run the test in the repository's workspace (without GOWORK=off) to check them all", skipped, len(blocks))
	}
}

// inWorkspace reports whether the go command runs in workspace mode, where
// every module of the repository is loadable.
func inWorkspace(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command(goTool(t), "env", "GOWORK").Output()
	require.NoError(t, err, "go env GOWORK")
	gowork := strings.TrimSpace(string(out))
	return gowork != "" && gowork != "off"
}

// loadable returns pkgs less the ones in missing.
func loadable(pkgs []string, missing map[string]string) []string {
	var ok []string
	for _, p := range pkgs {
		if _, gone := missing[p]; !gone {
			ok = append(ok, p)
		}
	}
	return ok
}

// usesMissing returns the first package of missing that code uses, by its
// import path (a whole file's import) or by its package name followed by a
// dot (a snippet's use of the implicit import), or "" if it uses none.
func usesMissing(code string, missing map[string]string) string {
	for _, p := range slices.Sorted(maps.Keys(missing)) {
		name := path.Base(p)
		if regexp.MustCompile(`^v[0-9]+$`).MatchString(name) {
			name = path.Base(path.Dir(p))
		}
		name = strings.TrimPrefix(name, "go-")
		if strings.Contains(code, strconv.Quote(p)) ||
			regexp.MustCompile(`\b`+regexp.QuoteMeta(name)+`\.`).MatchString(code) {
			return p
		}
	}
	return ""
}

// checkSnippet type-checks one block, which may use imports without
// naming them, and returns its errors, less the ones an excerpt may have.
func checkSnippet(fset *token.FileSet, imp types.Importer, blk readmeBlock, imports []string) []error {
	src := readmeSource(blk.code, blk.line, imports)
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
	lookup, missing := exportLookup(t, readmeImports)
	imp := importer.ForCompiler(fset, "gc", lookup)
	imports := loadable(readmeImports, missing)
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
		errs := checkSnippet(fset, imp, readmeBlock{line: 1, code: tc.code}, imports)
		assert.Equal(t, tc.ok, len(errs) == 0, "checkSnippet(%q) = %v; ok", tc.code, errs)
	}
}

// TestReadmeUsesMissing holds the GOWORK=off skip to the blocks that use a
// package the build cannot load, and to no other block.
func TestReadmeUsesMissing(t *testing.T) {
	missing := map[string]string{
		"github.com/hookguard/hookguard/rediskit": "not in this module",
		"github.com/redis/go-redis/v9":            "not in this module",
	}
	for _, tc := range []struct {
		code, want string
	}{
		{"q, err := rediskit.NewQueue(ctx, rdb, router)\n", "github.com/hookguard/hookguard/rediskit"},
		{"rdb := redis.NewClient(&redis.Options{})\n", "github.com/redis/go-redis/v9"},
		{"package main\n\nimport _ \"github.com/redis/go-redis/v9\"\n", "github.com/redis/go-redis/v9"},
		{"recv, err := hookguard.New(stripe, handler)\n", ""},
		{"x := myredis.Client // another package whose name ends the same\n", ""},
		{"// rediskit shares the queue\n", ""},
	} {
		assert.Equal(t, tc.want, usesMissing(tc.code, missing), "usesMissing(%q)", tc.code)
	}
	assert.Empty(t, usesMissing("q, err := rediskit.NewQueue(ctx, rdb, router)\n", nil), "usesMissing with nothing missing")
}

// exportLookup returns a lookup function for the gc importer that opens
// the compiler's export data of pkgs and their dependencies, as
// "go list -export" finds (and, when needed, builds) it in the build cache:
// type-checking against it takes a second, where importing from source
// took over a minute. missing holds the packages of pkgs that the build
// cannot load (a package of another module, with GOWORK=off), each with
// go list's reason.
func exportLookup(t *testing.T, pkgs []string) (lookup func(path string) (io.ReadCloser, error), missing map[string]string) {
	t.Helper()
	goBin := goTool(t)
	args := append([]string{"list", "-e", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}\t{{with .Error}}{{printf \"%q\" .Err}}{{end}}"}, pkgs...)
	out, err := exec.Command(goBin, args...).Output()
	var stderr []byte
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "go list -export; its standard error:\n%s", stderr)
	files := map[string]string{}
	reasons := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 3)
		switch {
		case len(f) < 3:
			require.Failf(t, "unexpected go list -export output", "printed %q; want path, export file and error, tab-separated", line)
		case f[1] != "":
			files[f[0]] = f[1]
		case f[2] != "":
			reason, err := strconv.Unquote(f[2])
			if err != nil {
				reason = f[2]
			}
			// The first line says what is wrong; go list's advice on
			// go get does not apply to a module of this repository.
			reason, _, _ = strings.Cut(reason, "\n")
			reasons[f[0]] = strings.TrimSuffix(reason, "; to add it:")
		}
	}
	missing = map[string]string{}
	for _, p := range pkgs {
		if _, ok := files[p]; !ok && !isStd(p) {
			missing[p] = cmp.Or(reasons[p], "go list -export gave no export data")
		}
	}
	return func(path string) (io.ReadCloser, error) {
		file, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("README snippet imports %q, which is not in readmeImports", path)
		}
		return os.Open(file)
	}, missing
}

// isStd reports whether path is a standard-library package: no dot in its
// first element. Their export data comes from go list like any other's.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// softReadmeError reports whether a soft type error is one an excerpt may
// have: a variable or import it declares and does not use.
func softReadmeError(msg string) bool {
	return strings.Contains(msg, "declared and not used") || strings.Contains(msg, "and not used")
}
