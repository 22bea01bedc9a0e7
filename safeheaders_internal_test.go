package hookguard

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestCommonSafeHeaders reads every name in commonSafeHeader's switch from
// the source, so that the list cannot grow past what it checks: each name
// must hold no credential by secretHeader's definition, and be
// recognised.
func TestCommonSafeHeaders(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "commonSafeHeader" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, s)
			}
			return true
		})
		return false
	})
	if len(names) < 10 {
		t.Fatalf("found %d names in commonSafeHeader; the parse missed them", len(names))
	}
	for _, k := range names {
		if secretHeaderSlow(k) {
			t.Errorf("%q is listed as safe but may carry a credential", k)
		}
		if !commonSafeHeader(k) || secretHeader(k) {
			t.Errorf("%q: commonSafeHeader = %v, secretHeader = %v", k, commonSafeHeader(k), secretHeader(k))
		}
	}
	// Any other spelling takes the scan.
	for _, k := range []string{"content-type", "X-GitHub-Event", "Stripe-Signature", "X-Gitlab-Token"} {
		if commonSafeHeader(k) {
			t.Errorf("commonSafeHeader(%q) = true; only net/http's canonical names are listed", k)
		}
	}
}
