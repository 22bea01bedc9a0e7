package providers

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPackageDocListsEveryPreset keeps the package documentation's list of
// presets complete: it used to name 6 of 34.
func TestPackageDocListsEveryPreset(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	start := strings.Index(doc, "// # Presets")
	end := strings.Index(doc, "The six first documented")
	if start < 0 || end < start {
		t.Fatal("doc.go has no Presets section with its list")
	}
	list := doc[start:end]
	for _, name := range Names() {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).MatchString(list) {
			t.Errorf("the package doc's list of presets lacks %s", name)
		}
	}
}
