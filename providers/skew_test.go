package providers_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimestampSkew is plan test 9's metric (A11): a delivery refused for
// its signed timestamp carries, in verify.Error.Skew, how far the
// receiver's clock was past that timestamp (negative for one in the
// future), so that a steady clock skew can be told from replays. Every
// preset with a signed timestamp is checked both ways, and a failure of
// anything else carries no skew.
func TestTimestampSkew(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	checked := map[string]bool{}
	for _, name := range providers.Names() {
		secret, err := testsecret.For(name)
		require.NoError(t, err)
		p, err := providers.New(name, secret)
		require.NoError(t, err)
		body := []byte(`{"id":"evt_skew","event_id":"evt_skew","eventId":"evt_skew","type":"skew.test"}`)
		h, err := p.Sign(providers.Outgoing{Body: body, ID: "evt_skew", Type: "skew.test", Timestamp: t0})
		if err != nil {
			continue // presets that cannot sign (asymmetric ones from a public key) are covered by their own tests
		}
		req := verify.Request{Method: http.MethodPost, Header: h, Body: body}
		for _, offset := range []time.Duration{time.Hour, -time.Hour} {
			_, err := p.Verify(req, t0.Add(offset))
			var ve *verify.Error
			if !errors.Is(err, verify.ErrTimestampTooOld) && !errors.Is(err, verify.ErrTimestampTooNew) {
				continue // no signed timestamp, or the delivery needs a URL this test does not give
			}
			if assert.ErrorAs(t, err, &ve, "%s, clock %v from the signed timestamp: no *verify.Error", name, offset) {
				assert.Equal(t, offset, ve.Skew, "%s, clock %v from the signed timestamp: %v: Skew", name, offset, err)
			}
			checked[name] = true
		}
		// A signature failure is not a timestamp failure: no skew.
		bad := append([]byte(nil), body...)
		bad[2] ^= 1
		if _, err := p.Verify(verify.Request{Method: http.MethodPost, Header: h, Body: bad}, t0); err != nil {
			var ve *verify.Error
			if errors.As(err, &ve) {
				assert.Zero(t, ve.Skew, "%s: a tampered body's error %v carries a Skew", name, err)
			}
		}
	}
	for _, must := range []string{"stripe", "standardwebhooks", "svix", "slack"} {
		assert.True(t, checked[must], "%s was not checked: its stale delivery did not fail for its timestamp", must)
	}
	assert.GreaterOrEqual(t, len(checked), 10, "presets checked (%v); the test is not reaching the timestamped presets", checked)
}
