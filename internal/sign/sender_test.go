package sign

import (
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// Build, which send, demo and webhooktest share, sends the unsigned
// headers the real sender sends too, not only "hookguard sign": a Shopify
// delivery without X-Shopify-API-Version is one Shopify's own library
// refuses. The preset's signed headers always win.
func TestBuildAddsSenderHeaders(t *testing.T) {
	for name, prof := range senderProfiles {
		if len(prof.header) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			secret, err := testsecret.For(name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := providers.New(name, secret)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Build(p, Spec{Body: []byte(`{"id":"evt_1","type":"t"}`), URL: "https://hooks.example.com/webhooks/" + name, Type: DefaultType(name), Time: time.Unix(1700000000, 0)})
			if err != nil {
				t.Fatal(err)
			}
			for k := range prof.header {
				if d.Header.Get(k) == "" {
					t.Errorf("Build(%s) sends no %s, which the sender always sends", name, k)
				}
			}
			if _, err := p.Verify(verify.Request{Method: d.Method, URL: d.URL, Header: d.Header, Body: d.Body}, time.Unix(1700000000, 0)); err != nil {
				t.Errorf("Build(%s) with sender headers no longer verifies: %v", name, err)
			}
		})
	}
}
