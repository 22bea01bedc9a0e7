package hardening

import (
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// sendThrice sends the same signed request three times to a fresh
// receiver and checks that the first is accepted, the repeats are answered
// 200 as duplicates, and the handler runs once.
func sendThrice(t *testing.T, p providers.Provider, reqs ...func() *http.Request) {
	t.Helper()
	h := testkit.NewCounter()
	recv := newReceiver(t, p, h, hookguard.WithClock(fixedClock))
	for i, req := range reqs {
		w := testkit.Serve(recv, req())
		if w.Code != http.StatusOK {
			t.Fatalf("copy %d: status %d, want 200", i+1, w.Code)
		}
		if dup := w.Header().Get(hookguard.DuplicateHeader) == "true"; dup != (i > 0) {
			t.Errorf("copy %d: answered as duplicate %v, want %v", i+1, dup, i > 0)
		}
	}
	waitFor(t, 10*time.Second, "the event handled", func() bool { return h.Total() >= 1 })
	time.Sleep(20 * time.Millisecond)
	if got := h.Total(); got != 1 {
		t.Errorf("handler ran %d times, want once", got)
	}
}

// TestReplayWithoutEventID is issue 15 item 3 end to end: Slack sends no
// event_id with interactive payloads (a form-encoded "payload" parameter,
// https://api.slack.com/interactivity/handling) or slash commands (form
// parameters, https://api.slack.com/interactivity/slash-commands). One
// signed button click, one view submission and one /deploy command, each
// sent three times inside the five-minute window, must be handled once.
func TestReplayWithoutEventID(t *testing.T) {
	secret, err := testsecret.For("slack")
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.New("slack", secret)
	if err != nil {
		t.Fatal(err)
	}
	payload := func(js string) []byte { return []byte("payload=" + url.QueryEscape(js)) }
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"block action", payload(`{"type":"block_actions","user":{"id":"U2CERLKJA"},"actions":[{"action_id":"approve","value":"deploy-42"}]}`)},
		{"view submission", payload(`{"type":"view_submission","view":{"id":"V0PKB1ZFV","callback_id":"deploy"}}`)},
		{"slash command", []byte("team_id=T1DC2JH3J&user_id=U2CERLKJA&command=%2Fdeploy&text=prod&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := signCT(t, p, "", tc.body, t0, "application/x-www-form-urlencoded")
			sendThrice(t, p, s.request, s.request, s.request)
		})
	}
}

// p256N is the order of the P-256 group.
var p256N = elliptic.P256().Params().N

// TestECDSATwinIsADuplicate is issue 15 item 4 end to end: an ECDSA
// signature (r, s) has a twin (r, n-s) that verifies as well. Plaid's
// JWT (raw r||s) and SendGrid's DER signature, sent once as signed and
// then twice as the twin, must be handled once: the dedupe keys come from
// the signed message, never from the signature bytes.
func TestECDSATwinIsADuplicate(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		body         []byte
		twin         func(t *testing.T, v string) string
	}{
		{"plaid", "Plaid-Verification", []byte(`{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"wz666MBjYWTp2PDzzggYhM6oWWmBb"}`), twinJWT},
		// A batch without sg_event_id: the dedupe rests on the Digest.
		{"sendgrid", "X-Twilio-Email-Event-Webhook-Signature", []byte(`[{"email":"a@example.com","timestamp":1700000000,"event":"processed"}]` + "\r\n"), twinDER},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret, err := testsecret.For(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := providers.New(tc.name, secret)
			if err != nil {
				t.Fatal(err)
			}
			s := sign(t, p, "", tc.body, t0)
			twin := signed{body: s.body, header: s.header.Clone()}
			twin.header.Set(tc.header, tc.twin(t, s.header.Get(tc.header)))
			if twin.header.Get(tc.header) == s.header.Get(tc.header) {
				t.Fatal("the twin signature equals the original")
			}
			sendThrice(t, p, s.request, twin.request, twin.request)
		})
	}
}

// twinJWT rewrites a compact ES256 token's raw r||s signature into
// (r, n-s).
func twinJWT(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("token signature: %v (%d bytes)", err, len(sig))
	}
	s := new(big.Int).Sub(p256N, new(big.Int).SetBytes(sig[32:]))
	s.FillBytes(sig[32:])
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// twinDER rewrites a base64 ASN.1 DER ECDSA signature into (r, n-s).
func twinDER(t *testing.T, v string) string {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		t.Fatal(err)
	}
	rs.S = new(big.Int).Sub(p256N, rs.S)
	out, err := asn1.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}
