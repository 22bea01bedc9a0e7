package hookguard

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommonSafeHeaders reads every name in commonSafeHeader's switch from
// the source, so that the list cannot grow past what it checks: each name
// must hold no credential by secretHeader's definition, and be
// recognised.
func TestCommonSafeHeaders(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	require.NoError(t, err)
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "commonSafeHeader" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				names = append(names, s)
			}
			return true
		})
		return false
	})
	require.GreaterOrEqual(t, len(names), 10, "names found in commonSafeHeader; the parse missed them")
	for _, k := range names {
		assert.False(t, secretHeaderSlow(k), "%q is listed as safe but may carry a credential", k)
		assert.True(t, commonSafeHeader(k), "commonSafeHeader(%q)", k)
		assert.False(t, secretHeader(k), "secretHeader(%q)", k)
	}
	// Any other spelling takes the scan.
	for _, k := range []string{"content-type", "X-GitHub-Event", "Stripe-Signature", "X-Gitlab-Token"} {
		assert.False(t, commonSafeHeader(k), "commonSafeHeader(%q): only net/http's canonical names are listed", k)
	}
}
