package hookguard_test

import (
	"io"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
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
			if err != nil {
				t.Fatal(err)
			}
			p, err := providers.New(name, secret)
			if err != nil {
				t.Fatal(err)
			}
			if p.ReadsURL() {
				return // the receiver always gives it the URL
			}
			fixtures := webhooktest.Fixtures(name)
			if len(fixtures) == 0 {
				t.Fatalf("no fixtures for %s", name)
			}
			for _, f := range fixtures {
				req, err := webhooktest.Sign(p, f.Body, webhooktest.WithURL(url), webhooktest.WithTime(now),
					webhooktest.WithContentType(f.ContentType), webhooktest.WithType(f.Type))
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				body, _ := io.ReadAll(req.Body)
				with, errWith := p.Verify(verify.Request{Method: req.Method, URL: url, Header: req.Header, Body: body}, now)
				without, errWithout := p.Verify(verify.Request{Method: req.Method, Header: req.Header, Body: body}, now)
				if errWith != nil {
					t.Fatalf("%s does not verify with its URL: %v", f.Name, errWith)
				}
				if errWithout != nil || with.ID != without.ID || with.Type != without.Type || (with.Reply == nil) != (without.Reply == nil) {
					t.Errorf("%s: ReadsURL() is false, yet the result differs without the URL: %+v, %v vs %+v", f.Name, without, errWithout, with)
				}
			}
		})
	}
}
