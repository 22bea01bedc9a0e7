package providers_test

import (
	"strings"
	"testing"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
)

// TestHeaderTokenWhitespace: GitLab and Okta send their token as it is in
// a header, and HTTP trims spaces and tabs around a header value and
// carries no line break, so a token configured with them could never
// match. The constructor refuses it with ErrInvalidSecret (found by
// FuzzNewProvider; the usual cause is a token read from a file with its
// newline), without echoing the token.
func TestHeaderTokenWhitespace(t *testing.T) {
	for _, name := range []string{"gitlab", "okta"} {
		for _, tt := range []struct {
			secret, other string
			ok            bool
		}{
			{"tok-123456789", "", true},
			{"tok with inner space", "", true},
			{"tok-123456789\n", "", false},
			{" tok-123456789", "", false},
			{"tok-123456789\t", "", false},
			{"tok-12345\r\n6789", "", false},
			{"   ", "", false},
			{"tok-123456789", " rotated-987654321", false},
		} {
			var opts []providers.Option
			if tt.other != "" {
				opts = append(opts, providers.WithSecret(tt.other))
			}
			p, err := providers.New(name, tt.secret, opts...)
			if tt.ok {
				assert.NoError(t, err, "%s: New(%q): want it accepted", name, tt.secret)
				continue
			}
			if !assert.ErrorIs(t, err, verify.ErrInvalidSecret, "%s: New(%q, other %q)", name, tt.secret, tt.other) ||
				!assert.Nil(t, p, "%s: New(%q, other %q)", name, tt.secret, tt.other) {
				continue
			}
			for _, s := range []string{tt.secret, tt.other} {
				if s = strings.TrimSpace(s); len(s) > 3 {
					assert.NotContains(t, err.Error(), s, "%s: the error echoes the token", name)
				}
			}
		}
	}
}
