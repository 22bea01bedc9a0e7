package hookguard

import (
	"strings"
	"testing"
)

// TestDedupeKeyFormat pins the key layout stores see: "provider:id", or
// "provider:endpoint:id", and "provider:digest:<hex>" for content keys.
// Stores shared by several versions depend on it staying the same.
func TestDedupeKeyFormat(t *testing.T) {
	tests := []struct {
		endpoint, provider, kind, id, want string
	}{
		{"", "stripe", "", "evt_1", "stripe:evt_1"},
		{"shop-a", "stripe", "", "evt_1", "stripe:shop-a:evt_1"},
		{"", "github", "digest:", "00ff", "github:digest:00ff"},
		{"b", "github", "digest:", "00ff", "github:b:digest:00ff"},
	}
	for _, tt := range tests {
		c := &core{cfg: &config{endpoint: tt.endpoint}}
		if got := c.dedupeKey(tt.provider, tt.kind, tt.id); got != tt.want {
			t.Errorf("dedupeKey(%q, %q, %q) with endpoint %q = %q; want %q", tt.provider, tt.kind, tt.id, tt.endpoint, got, tt.want)
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
