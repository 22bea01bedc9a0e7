package hookguard

import (
	"slices"
	"strings"
	"testing"
)

// TestDedupeKeyFormat pins the key layout stores see:
// "provider:endpoint:id:<id>" and "provider:endpoint:digest:<hex>", with
// an empty endpoint when none is set. Stores shared by several versions
// depend on it staying the same.
func TestDedupeKeyFormat(t *testing.T) {
	tests := []struct {
		endpoint, provider, id, digest string
		want                           []string
	}{
		{"", "stripe", "evt_1", "", []string{"stripe::id:evt_1"}},
		{"shop-a", "stripe", "evt_1", "", []string{"stripe:shop-a:id:evt_1"}},
		{"", "github", "", "00ff", []string{"github::digest:00ff"}},
		{"b", "github", "", "00ff", []string{"github:b:digest:00ff"}},
		{"", "github", "d-1", "00ff", []string{"github::id:d-1", "github::digest:00ff"}},
		{"b", "github", "d-1", "00ff", []string{"github:b:id:d-1", "github:b:digest:00ff"}},
		{"", "stripe", "", "", nil},
	}
	for _, tt := range tests {
		c := &core{cfg: &config{endpoint: tt.endpoint}}
		var digest []byte
		if tt.digest != "" {
			digest = []byte(tt.digest)
		}
		keys, n := c.dedupeKeys(tt.provider, tt.id, digest)
		if got := keys[:n]; !slices.Equal(got, tt.want) && (n > 0 || tt.want != nil) {
			t.Errorf("dedupeKeys(%q, %q, %q) with endpoint %q = %q; want %q", tt.provider, tt.id, tt.digest, tt.endpoint, got, tt.want)
		}
	}
}

// TestTokensAreUnique checks that reservation tokens carry the receiver's
// random prefix and never repeat.
func TestTokensAreUnique(t *testing.T) {
	c := &core{tokenPrefix: "0123456789abcdef-"}
	seen := map[string]bool{}
	for range 10000 {
		tok := c.token()
		if !strings.HasPrefix(tok, c.tokenPrefix) || len(tok) <= len(c.tokenPrefix) {
			t.Fatalf("token %q lacks the prefix %q or a counter", tok, c.tokenPrefix)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
	c.seq.Store(^uint64(0) - 1) // the largest counter fits the stack buffer
	if tok := c.token(); tok != c.tokenPrefix+"3w5e11264sgsf" {
		t.Fatalf("token at the top of the counter = %q", tok)
	}
}
