package providers

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackageDocListsEveryPreset keeps the package documentation's list of
// presets complete: it used to name 6 of 34.
func TestPackageDocListsEveryPreset(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	doc := string(src)
	start := strings.Index(doc, "// # Presets")
	end := strings.Index(doc, "The six first documented")
	require.True(t, start >= 0 && end >= start, "doc.go has no Presets section with its list")
	list := doc[start:end]
	for _, name := range Names() {
		assert.Regexp(t, `\b`+regexp.QuoteMeta(name)+`\b`, list, "the package doc's list of presets lacks %s", name)
	}
}
