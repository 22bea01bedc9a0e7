package benchmarks

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// TestEventBody checks that bodies are valid JSON of exactly the size
// asked for, with the ID and type where Stripe puts them.
func TestEventBody(t *testing.T) {
	for _, n := range Sizes {
		body := EventBody(n, "evt_x")
		if len(body) != n {
			t.Errorf("EventBody(%d) is %d bytes", n, len(body))
		}
		var ev struct{ ID, Type string }
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID != "evt_x" || ev.Type != "invoice.paid" {
			t.Errorf("EventBody(%d): %+v, %v", n, ev, err)
		}
	}
}

// TestSameDeliveriesEverywhere checks that every implementation compared
// accepts the same signed delivery, and that hookguard rejects it once a
// byte of the body changes: the benchmarks time real verifications.
func TestSameDeliveriesEverywhere(t *testing.T) {
	peers, err := Peers()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Schemes {
		d, err := Sign(s, "evt_same", EventBody(1<<10, "evt_same"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p, err := Preset(s)
		if err != nil {
			t.Fatal(err)
		}
		req := verify.Request{Method: http.MethodPost, URL: "https://hooks.example.com/webhooks", Header: d.Header, Body: d.Body}
		got, err := p.Verify(req, time.Now())
		if err != nil {
			t.Fatalf("%s: hookguard: %v", s, err)
		}
		if got.ID != "evt_same" || got.Type == "" {
			t.Errorf("%s: hookguard found ID %q, type %q", s, got.ID, got.Type)
		}
		bad := append([]byte(nil), d.Body...)
		bad[len(bad)/2] ^= 1
		req.Body = bad
		if _, err := p.Verify(req, time.Now()); err == nil {
			t.Errorf("%s: hookguard accepted a changed body", s)
		}
		for _, peer := range peers {
			if peer.Scheme != s {
				continue
			}
			for _, tc := range []struct {
				body []byte
				want int
			}{{d.Body, http.StatusOK}, {bad, http.StatusUnauthorized}} {
				r, _ := rewindable(Delivery{Body: tc.body, Header: d.Header})
				w := &benchWriter{h: http.Header{}}
				peer.Handler.ServeHTTP(w, r)
				if w.status != tc.want {
					t.Errorf("%s: %s answered %d, want %d", s, peer.Name, w.status, tc.want)
				}
			}
		}
		recv, err := NewReceiver(s, 16)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := rewindable(d)
		w := &benchWriter{h: http.Header{}}
		recv.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			t.Errorf("%s: Receiver answered %d", s, w.status)
		}
		_ = recv.Shutdown(t.Context())
	}
}
