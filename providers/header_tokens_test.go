package providers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
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
				if err != nil {
					t.Errorf("%s: New(%q) = %v, want it accepted", name, tt.secret, err)
				}
				continue
			}
			if err == nil || p != nil || !errors.Is(err, verify.ErrInvalidSecret) {
				t.Errorf("%s: New(%q, other %q) = %v, %v; want ErrInvalidSecret", name, tt.secret, tt.other, p, err)
				continue
			}
			for _, s := range []string{tt.secret, tt.other} {
				if s = strings.TrimSpace(s); len(s) > 3 && strings.Contains(err.Error(), s) {
					t.Errorf("%s: the error %q echoes the token", name, err)
				}
			}
		}
	}
}
