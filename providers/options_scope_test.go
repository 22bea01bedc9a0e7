package providers_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPresetOptionsScope: an option that only one preset family takes
// (WithVerifyToken for Meta's, WithKeySource and WithKeyTimeout for
// Plaid, WithSignatureVersion for HubSpot, WithAuthHeader for Okta,
// WithSharedKey for Twilio) is refused
// with ErrInvalidOption, naming the option, by every other preset. Ignored,
// it would leave a user believing, say, that a verify token guards an
// endpoint whose preset never reads one.
func TestPresetOptionsScope(t *testing.T) {
	src := providers.KeySourceFunc(func(context.Context, string) (*ecdsa.PublicKey, error) { return nil, errors.New("unused") })
	options := []struct {
		name  string
		opt   providers.Option
		takes []string
	}{
		{"WithVerifyToken", providers.WithVerifyToken("verify-me"), []string{"meta", "whatsapp", "instagram"}},
		{"WithKeySource", providers.WithKeySource(src), []string{"plaid"}},
		{"WithKeyTimeout", providers.WithKeyTimeout(time.Second), []string{"plaid"}},
		{"WithSignatureVersion", providers.WithSignatureVersion("v3"), []string{"hubspot"}},
		{"WithAuthHeader", providers.WithAuthHeader("X-Hook-Auth"), []string{"okta"}},
		{"WithSharedKey", providers.WithSharedKey("webhooks_sharedkey_scope"), []string{"twilio"}},
	}
	for _, name := range providers.Names() {
		secret, err := testsecret.For(name)
		require.NoError(t, err, "TestSecret(%q)", name)
		_, err = providers.New(name, secret)
		require.NoError(t, err, "New(%q) without options", name)
		for _, o := range options {
			takes := false
			for _, n := range o.takes {
				takes = takes || n == name
			}
			if takes {
				continue // each preset's own options are tested with it
			}
			p, err := providers.New(name, secret, o.opt)
			assert.Nil(t, p, "New(%q, %s)", name, o.name)
			assert.ErrorIs(t, err, providers.ErrInvalidOption, "New(%q, %s)", name, o.name)
			assert.ErrorContains(t, err, o.name, "New(%q, %s): want ErrInvalidOption naming %s", name, o.name, o.name)
		}
	}
}
