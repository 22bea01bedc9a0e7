package providers

import "testing"

// TestGitHubDigestIndependentOfHeader is the regression test for a replay
// stripped of X-Hub-Signature-256: with WithLegacySHA1 the SHA-1 path took
// its digest from the SHA-1 MAC, so the same body got a second digest and,
// under a fresh unsigned X-GitHub-Delivery, was handled again. The digest
// must be the same whichever header verified, under every configured
// secret.
func TestGitHubDigestIndependentOfHeader(t *testing.T) {
	for i, secret := range []string{"s3cret", "old-s3cret"} {
		signer, err := NewGitHub(secret, WithLegacySHA1())
		if err != nil {
			t.Fatal(err)
		}
		legacy, err := NewGitHub("s3cret", WithSecret("old-s3cret"), WithLegacySHA1())
		if err != nil {
			t.Fatal(err)
		}
		both := signed(t, signer, outgoing())
		full, err := legacy.Verify(both, t0)
		if err != nil || full.SecretIndex != i {
			t.Fatalf("secret %d, both headers: %v (secret %d)", i, err, full.SecretIndex)
		}
		stripped := signed(t, signer, outgoing())
		stripped.Header.Del("X-Hub-Signature-256")
		stripped.Header.Set("X-GitHub-Delivery", "fresh-unsigned-id")
		d, err := legacy.Verify(stripped, t0)
		if err != nil || d.SecretIndex != i {
			t.Fatalf("secret %d, SHA-1 only: %v (secret %d)", i, err, d.SecretIndex)
		}
		if d.Digest != full.Digest || d.Digest == ([32]byte{}) {
			t.Errorf("secret %d: digest %x with SHA-1 only, %x with X-Hub-Signature-256; a replay stripped of the SHA-256 header must meet the first delivery's digest", i, d.Digest, full.Digest)
		}
		other := outgoing()
		other.Body = append([]byte(nil), other.Body...)
		other.Body[len(other.Body)-2] ^= 1
		o := signed(t, signer, other)
		o.Header.Del("X-Hub-Signature-256")
		if d2, err := legacy.Verify(o, t0); err != nil || d2.Digest == d.Digest {
			t.Errorf("secret %d: another body, SHA-1 only: %v, same digest %v", i, err, d2.Digest == d.Digest)
		}
	}
}
