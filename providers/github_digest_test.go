package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGitHubDigestIndependentOfHeader is the regression test for a replay
// stripped of X-Hub-Signature-256: with WithLegacySHA1 the SHA-1 path took
// its digest from the SHA-1 MAC, so the same body got a second digest and,
// under a fresh unsigned X-GitHub-Delivery, was handled again. The digest
// must be the same whichever header verified, under every configured
// secret.
func TestGitHubDigestIndependentOfHeader(t *testing.T) {
	for i, secret := range []string{"s3cret", "old-s3cret"} {
		signer, err := NewGitHub(secret, WithLegacySHA1())
		require.NoError(t, err)
		legacy, err := NewGitHub("s3cret", WithSecret("old-s3cret"), WithLegacySHA1())
		require.NoError(t, err)
		both := signed(t, signer, outgoing())
		full, err := legacy.Verify(both, t0)
		require.NoError(t, err, "secret %d, both headers", i)
		require.Equal(t, i, full.SecretIndex, "secret %d, both headers: SecretIndex", i)
		stripped := signed(t, signer, outgoing())
		stripped.Header.Del("X-Hub-Signature-256")
		stripped.Header.Set("X-GitHub-Delivery", "fresh-unsigned-id")
		d, err := legacy.Verify(stripped, t0)
		require.NoError(t, err, "secret %d, SHA-1 only", i)
		require.Equal(t, i, d.SecretIndex, "secret %d, SHA-1 only: SecretIndex", i)
		assert.NotZero(t, d.Digest, "secret %d: digest with SHA-1 only", i)
		assert.Equal(t, full.Digest, d.Digest, "secret %d: digest with X-Hub-Signature-256, then with SHA-1 only; a replay stripped of the SHA-256 header must meet the first delivery's digest", i)
		other := outgoing()
		other.Body = append([]byte(nil), other.Body...)
		other.Body[len(other.Body)-2] ^= 1
		o := signed(t, signer, other)
		o.Header.Del("X-Hub-Signature-256")
		d2, err := legacy.Verify(o, t0)
		if assert.NoError(t, err, "secret %d: another body, SHA-1 only", i) {
			assert.NotEqual(t, d.Digest, d2.Digest, "secret %d: another body, SHA-1 only: same digest", i)
		}
	}
}
