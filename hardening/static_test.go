package hardening

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot returns the directory of the module's go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/hookguard/hookguard\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod of github.com/hookguard/hookguard not found above the test directory")
		}
		dir = parent
	}
}

// sourceFile is one parsed non-test Go file of the repository.
type sourceFile struct {
	rel  string // slash-separated path from the module root
	file *ast.File
}

// parseSources parses every non-test .go file under the module root,
// nested example modules included, skipping testdata and hidden folders.
func parseSources(t testing.TB) (*token.FileSet, []sourceFile) {
	t.Helper()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	var files []sourceFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, sourceFile{rel: filepath.ToSlash(rel), file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("parsed only %d source files under %s: the walk is broken", len(files), root)
	}
	return fset, files
}

// secretish matches names of values that hold a MAC, a signature, a digest
// or a token: comparing them with anything but a constant-time function
// leaks, through timing, how many leading bytes matched (CWE-208; Jenkins
// CVE-2022-43411 and CVE-2022-43412).
var secretish = regexp.MustCompile(`(?i)(mac|sig|digest|token|hash|sum|expected)`)

// notAValue matches names that are about a signature without holding one:
// counts and limits (MaxSignatures), header names and scheme descriptions
// (sigHeader, sigH, sigPrefix, sigEncoding), flags and options
// (withoutSignature, hasSig).
var (
	notAValue      = regexp.MustCompile(`(?i)^(max|min|num|with|without|no|has|is|skip|allow)|(len|count|size|index|idx|header|hdr|name|prefix|scheme|alg|algorithm|kind|format|encoding|enc|version|type)$`)
	headerNameTail = regexp.MustCompile(`[a-z]H$`)
)

// isSecretName reports whether name looks like a MAC, signature, digest or
// token value.
func isSecretName(name string) bool {
	return secretish.MatchString(name) && !notAValue.MatchString(name) && !headerNameTail.MatchString(name)
}

// operandName names the value an expression denotes, looking through
// conversions, slicing, indexing, dereferences and parentheses. Calls other
// than conversions, literals and len/cap have no name.
func operandName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		if x.Name == "nil" || x.Name == "true" || x.Name == "false" {
			return ""
		}
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.ParenExpr:
		return operandName(x.X)
	case *ast.StarExpr:
		return operandName(x.X)
	case *ast.SliceExpr:
		return operandName(x.X)
	case *ast.IndexExpr:
		return operandName(x.X)
	case *ast.CallExpr:
		// string(b), []byte(s): a conversion keeps the value.
		if len(x.Args) == 1 {
			switch fn := x.Fun.(type) {
			case *ast.Ident:
				if fn.Name == "string" {
					return operandName(x.Args[0])
				}
			case *ast.ArrayType:
				return operandName(x.Args[0])
			}
		}
	}
	return ""
}

// isConstantSide reports whether e is a literal or len/cap call: a
// comparison against one is not a comparison of two secret values.
func isConstantSide(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit, *ast.CompositeLit:
		return true
	case *ast.Ident:
		return x.Name == "nil" || x.Name == "true" || x.Name == "false"
	case *ast.CallExpr:
		if fn, ok := x.Fun.(*ast.Ident); ok && (fn.Name == "len" || fn.Name == "cap") {
			return true
		}
	case *ast.ParenExpr:
		return isConstantSide(x.X)
	}
	return false
}

// variableTimeCompare lists functions whose running time depends on where
// their arguments first differ.
var variableTimeCompare = map[string]bool{
	"bytes.Equal": true, "bytes.Compare": true, "bytes.EqualFold": true, "bytes.HasPrefix": true,
	"strings.EqualFold": true, "strings.Compare": true, "strings.HasPrefix": true,
	"reflect.DeepEqual": true, "slices.Equal": true, "slices.Compare": true,
}

// ctAllowed lists comparisons of secret-looking names that are not MAC or
// signature comparisons, keyed "file:function:expression", each with the
// reason it is safe. Keep it short: every entry is reviewed by hand.
var ctAllowed = map[string]string{}

type finding struct{ key, pos string }

// scanCompares returns every comparison in files that compares a
// secret-looking value with ==, != or a variable-time function.
func scanCompares(fset *token.FileSet, files []sourceFile) []finding {
	var out []finding
	for _, sf := range files {
		for _, decl := range sf.file.Decls {
			fn := "<top>"
			if fd, ok := decl.(*ast.FuncDecl); ok {
				fn = fd.Name.Name
				if fd.Recv != nil && len(fd.Recv.List) == 1 {
					fn = recvName(fd.Recv.List[0].Type) + "." + fn
				}
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				var expr string
				switch x := n.(type) {
				case *ast.BinaryExpr:
					if x.Op != token.EQL && x.Op != token.NEQ {
						return true
					}
					if isConstantSide(x.X) || isConstantSide(x.Y) {
						return true
					}
					if !isSecretName(operandName(x.X)) && !isSecretName(operandName(x.Y)) {
						return true
					}
					expr = operandName(x.X) + " " + x.Op.String() + " " + operandName(x.Y)
				case *ast.CallExpr:
					sel, ok := x.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					pkg, ok := sel.X.(*ast.Ident)
					if !ok || !variableTimeCompare[pkg.Name+"."+sel.Sel.Name] {
						return true
					}
					hit := false
					var names []string
					for _, a := range x.Args {
						names = append(names, operandName(a))
						if !isConstantSide(a) && isSecretName(operandName(a)) {
							hit = true
						}
					}
					if !hit {
						return true
					}
					expr = pkg.Name + "." + sel.Sel.Name + "(" + strings.Join(names, ", ") + ")"
				default:
					return true
				}
				p := fset.Position(n.Pos())
				out = append(out, finding{key: sf.rel + ":" + fn + ":" + expr, pos: sf.rel + ":" + strconv.Itoa(p.Line)})
				return true
			})
		}
	}
	return out
}

func recvName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return recvName(x.X)
	case *ast.IndexExpr:
		return recvName(x.X)
	case *ast.IndexListExpr:
		return recvName(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

// TestConstantTimeCompare is plan test 5 (static half): MAC, signature,
// digest and token values are compared only through hmac.Equal,
// subtle.ConstantTimeCompare or ed25519.Verify, never with ==, != or
// bytes.Equal and friends, anywhere in the repository's non-test code.
func TestConstantTimeCompare(t *testing.T) {
	fset, files := parseSources(t)
	findings := scanCompares(fset, files)
	used := map[string]bool{}
	for _, f := range findings {
		if _, ok := ctAllowed[f.key]; ok {
			used[f.key] = true
			continue
		}
		t.Errorf("%s: variable-time comparison of a secret-looking value: %s (use hmac.Equal or subtle.ConstantTimeCompare, or add it to ctAllowed with the reason it is no MAC)", f.pos, f.key)
	}
	for k := range ctAllowed {
		if !used[k] {
			t.Errorf("ctAllowed entry %q matches no comparison any more: remove it", k)
		}
	}
	// The constant-time functions must actually be in use: a scan that
	// sees no hmac.Equal anywhere has looked at the wrong code.
	ct := 0
	for _, sf := range files {
		ast.Inspect(sf.file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && ((pkg.Name == "hmac" && sel.Sel.Name == "Equal") || (pkg.Name == "subtle" && sel.Sel.Name == "ConstantTimeCompare") || (pkg.Name == "ed25519" && sel.Sel.Name == "Verify")) {
					ct++
				}
			}
			return true
		})
	}
	if ct == 0 {
		t.Error("no hmac.Equal, subtle.ConstantTimeCompare or ed25519.Verify found in the module: the scan is not looking at the verifier")
	}
}

// TestScannerFlagsVariableTimeCompares proves the scanner can fail: it
// must flag each classic mistake.
func TestScannerFlagsVariableTimeCompares(t *testing.T) {
	const src = `package p
import ("bytes"; "strings")
func a(sig, expected []byte) bool { return bytes.Equal(sig, expected) }
func b(mac, got string) bool { return mac == got }
func c(h struct{ Signature string }, s string) bool { return strings.EqualFold(h.Signature, s) }
func d(digest [32]byte, x [32]byte) bool { return digest != x }
func e(token []byte, y []byte) bool { return string(token) == string(y) }
func ok1(sig []byte) bool { return len(sig) == 32 }
func ok2(sig []byte) bool { return sig == nil }
func ok3(sig string) bool { return sig == "" }
func ok4(d struct{ Digest [32]byte }) bool { return d.Digest != ([32]byte{}) }
func ok5(n int) bool { return n == MaxSignatures }
func ok6(sigH, tsH string) bool { return sigH == tsH }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := scanCompares(fset, []sourceFile{{rel: "p.go", file: f}})
	want := []string{
		"p.go:a:bytes.Equal(sig, expected)",
		"p.go:b:mac == got",
		"p.go:c:strings.EqualFold(Signature, s)",
		"p.go:d:digest != x",
		"p.go:e:token == y",
	}
	if len(got) != len(want) {
		t.Fatalf("scanner found %d comparisons, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].key != want[i] {
			t.Errorf("finding %d = %q, want %q", i, got[i].key, want[i])
		}
	}
}

// findGone returns where a file names http.StatusGone or the literal 410
// as an argument of a call (WriteHeader, Error, a status table).
func findGone(sf sourceFile) []token.Pos {
	var out []token.Pos
	ast.Inspect(sf.file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			if x.Sel.Name == "StatusGone" {
				out = append(out, x.Pos())
			}
		case *ast.CallExpr:
			for _, a := range x.Args {
				if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.INT && lit.Value == "410" {
					out = append(out, lit.Pos())
				}
			}
		}
		return true
	})
	return out
}
