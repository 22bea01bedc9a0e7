package hookguard

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		if tt.want == nil {
			assert.Zero(t, n, "dedupeKeys(%q, %q, %q) with endpoint %q = %q; want none", tt.provider, tt.id, tt.digest, tt.endpoint, keys[:n])
		} else {
			assert.Equal(t, tt.want, keys[:n], "dedupeKeys(%q, %q, %q) with endpoint %q", tt.provider, tt.id, tt.digest, tt.endpoint)
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
		require.True(t, strings.HasPrefix(tok, c.tokenPrefix), "token %q lacks the prefix %q", tok, c.tokenPrefix)
		require.Greater(t, len(tok), len(c.tokenPrefix), "token %q lacks a counter", tok)
		require.False(t, seen[tok], "token %q issued twice", tok)
		seen[tok] = true
	}
	c.seq.Store(^uint64(0) - 1) // the largest counter fits the stack buffer
	require.Equal(t, c.tokenPrefix+"3w5e11264sgsf", c.token(), "token at the top of the counter")
}
