package hookguard_test

import (
	"io"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadsURLIsTruthful checks, for every preset that tells the receiver
// it does not read the URL (so the receiver stops building it), that each
// of its fixtures verifies the same without the URL as with it; and that
// the presets which do read it say so.
func TestReadsURLIsTruthful(t *testing.T) {
	const url = "https://hooks.example.com/webhooks/x?a=1"
	now := time.Unix(1700000000, 0)
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			secret, err := testsecret.For(name)
			require.NoError(t, err)
			p, err := providers.New(name, secret)
			require.NoError(t, err)
			if p.ReadsURL() {
				return // the receiver always gives it the URL
			}
			fixtures := webhooktest.Fixtures(name)
			require.NotEmpty(t, fixtures, "no fixtures for %s", name)
			for _, f := range fixtures {
				req, err := webhooktest.Sign(p, f.Body, webhooktest.WithURL(url), webhooktest.WithTime(now),
					webhooktest.WithContentType(f.ContentType), webhooktest.WithType(f.Type))
				require.NoError(t, err, f.Name)
				body, _ := io.ReadAll(req.Body)
				with, errWith := p.Verify(verify.Request{Method: req.Method, URL: url, Header: req.Header, Body: body}, now)
				without, errWithout := p.Verify(verify.Request{Method: req.Method, Header: req.Header, Body: body}, now)
				require.NoError(t, errWith, "%s does not verify with its URL", f.Name)
				const differs = "%s: ReadsURL() is false, yet the result differs without the URL: %+v vs %+v"
				assert.NoError(t, errWithout, differs, f.Name, without, with)
				assert.Equal(t, with.ID, without.ID, differs, f.Name, without, with)
				assert.Equal(t, with.Type, without.Type, differs, f.Name, without, with)
				assert.Equal(t, with.Reply == nil, without.Reply == nil, differs, f.Name, without, with)
			}
		})
	}
}
