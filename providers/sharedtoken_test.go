package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSharedToken checks, over every preset, that exactly the senders
// whose proof is a secret sent as is report SharedToken, in Info and
// through Preset.SharedToken, which the receiver reads to refuse such
// deliveries over plain HTTP.
func TestSharedToken(t *testing.T) {
	tokens := map[string]bool{"gitlab": true, "postmark": true, "okta": true}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			secret, err := testSecret(name)
			require.NoError(t, err)
			p, err := New(name, secret)
			require.NoError(t, err)
			assert.Equal(t, tokens[name], p.SharedToken(), "SharedToken")
			assert.Equal(t, tokens[name], p.Info().SharedToken, "Info().SharedToken")
		})
	}
	for name := range tokens {
		assert.Contains(t, Names(), name, "a shared-token preset is not registered")
	}
	t.Run("custom", func(t *testing.T) {
		p, err := NewCustom(Scheme{
			Name: "acme", Header: "X-Acme-Signature", Algorithm: "hmac-sha256",
			Encoding: "hex", Signed: "{body}",
		}, "secret")
		require.NoError(t, err)
		assert.False(t, p.SharedToken(), "a custom scheme is a signature, never a shared token")
	})
}
