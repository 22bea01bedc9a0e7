package providers

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noIDBody returns, for preset name, a body of the shape that preset
// receives but without the field it reads the event ID from, so that the
// delivery has no ID unless the scheme signs one elsewhere. variant makes
// a body with other content.
func noIDBody(name string, variant int) ([]byte, string) {
	n := string(rune('0' + variant))
	switch name {
	case "sendgrid":
		// A batch whose events carry no sg_event_id.
		return []byte(`[{"email":"a@example.com","timestamp":1700000000,"event":"processed","n":` + n + `}]` + "\r\n"), ""
	case "hubspot":
		// A workflow "Send a webhook" action posts the record, not an
		// event with an eventId.
		return []byte(`[{"subscriptionType":"contact.creation","objectId":12` + n + `}]`), ""
	case "discord":
		// An interaction without an "id".
		return []byte(`{"type":2,"application_id":"1170000000000000000","data":{"name":"deploy","n":` + n + `}}`), ""
	case "slack":
		return []byte("payload=" + url.QueryEscape(`{"type":"block_actions","actions":[{"action_id":"approve","value":"deploy-4`+n+`"}]}`)), "application/x-www-form-urlencoded"
	case "twilio":
		return []byte("MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404" + n + "&MessageStatus=delivered"), "application/x-www-form-urlencoded"
	case "mailgun":
		return []byte(`{"event-data":{"event":"delivered","n":` + n + `}}`), ""
	}
	return []byte(`{"object":"thing","type":"thing.updated","data":{"n":` + n + `}}`), ""
}

// signNoID signs name's no-ID body variant at ts with p.
func signNoID(t *testing.T, p Provider, variant int, ts time.Time) verify.Request {
	t.Helper()
	body, ct := noIDBody(p.Name(), variant)
	o := Outgoing{Body: body, Timestamp: ts, URL: asymURL, ContentType: ct}
	if bs, ok := p.(bodySigner); ok {
		b, h, err := bs.SignBody(o)
		require.NoError(t, err, "SignBody")
		return verify.Request{Method: http.MethodPost, URL: asymURL, Header: h, Body: b}
	}
	req := asymSigned(t, p, o)
	req.URL = asymURL
	return req
}

// wantNoID lists the presets whose noIDBody delivery has no event ID: for
// the others the scheme signs an ID in a header or derives one from the
// signed content.
var wantNoID = []string{
	"calendly", "discord", "dropbox", "hubspot", "instagram", "intercom", "lemonsqueezy",
	"meta", "mux", "okta", "paddle", "postmark", "sendgrid", "slack", "square",
	"stripe", "typeform", "vercel", "whatsapp",
}

// TestDeliveriesWithoutIDHaveDigest is the sweep of issue 15 item 3: for
// every preset in the registry, a verified delivery that has no event ID
// carries a non-zero Digest that is equal for a replay of the same signed
// request and different for other signed content or another signed
// timestamp, so that the receiver can dedupe it within the replay window.
// With InsecureSkipVerification, nothing is verified and the Digest is
// the body's SHA-256, as it always was for the presets that had one.
func TestDeliveriesWithoutIDHaveDigest(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		mode := "verified"
		if insecure {
			mode = "insecure"
		}
		var noID []string
		for _, name := range Names() {
			t.Run(mode+"/"+name, func(t *testing.T) {
				secret, err := testSecret(name)
				require.NoError(t, err)
				var opts []Option
				if insecure {
					opts = append(opts, InsecureSkipVerification())
				}
				p := mustNew(t, name, secret, opts...)
				req := signNoID(t, p, 0, t0)
				d, err := p.Verify(req, t0)
				require.NoError(t, err, "Verify")
				require.Nil(t, d.Reply, "the test body is a handshake")
				if d.ID != "" {
					return
				}
				noID = append(noID, name)
				require.NotZero(t, d.Digest, "a delivery without an event ID has no Digest: a replay inside the window would be handled again")
				again, err := p.Verify(req, t0)
				if assert.NoError(t, err, "the same signed request verified twice") {
					assert.Equal(t, d.Digest, again.Digest, "the same signed request verified twice: want equal digests")
				}
				other, err := p.Verify(signNoID(t, p, 1, t0), t0)
				if assert.NoError(t, err, "other signed content") {
					assert.NotEqual(t, d.Digest, other.Digest, "other signed content: want different digests")
				}
				if d.Timestamp.IsZero() || insecure {
					return
				}
				later, err := p.Verify(signNoID(t, p, 0, t0.Add(time.Second)), t0)
				if assert.NoError(t, err, "the same body signed one second later") {
					assert.NotEqual(t, d.Digest, later.Digest, "the same body signed one second later: want different digests")
				}
			})
		}
		if !insecure {
			assert.Equal(t, wantNoID, noID, "presets whose test delivery has no ID: update wantNoID or noIDBody")
		}
	}
}

// TestSlackDeliveriesWithoutEventID is issue 15 item 3: Slack signs a
// timestamp but sends no event_id with interactive payloads (a
// form-encoded "payload" parameter holding JSON) or slash commands (plain
// form parameters), so the Digest must fingerprint the signed request:
// the same for a replay, different for another click or timestamp. An
// Events API delivery keeps its event_id and computes no Digest. Shapes
// from Slack's docs: https://api.slack.com/interactivity/handling
// (payload parameter) and https://api.slack.com/interactivity/slash-commands
// (form parameters).
func TestSlackDeliveriesWithoutEventID(t *testing.T) {
	p, err := NewSlack("8f742231b10e8888abcd99yyyzzz85a5", WithSecret("0000000000000000000000000000000a"))
	require.NoError(t, err)
	form := "application/x-www-form-urlencoded"
	payload := func(js string) string { return "payload=" + url.QueryEscape(js) }
	tests := []struct {
		name, body, ctype string
		wantDigest        bool
	}{
		{"block action", payload(`{"type":"block_actions","user":{"id":"U2CERLKJA"},"actions":[{"action_id":"approve","value":"deploy-42"}],"trigger_id":"398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"}`), form, true},
		{"view submission", payload(`{"type":"view_submission","view":{"id":"V0PKB1ZFV","callback_id":"deploy"}}`), form, true},
		{"slash command", slackVectorBody, form, true},
		{"JSON without event_id", `{"type":"app_rate_limited","team_id":"T123456","minute_rate_limited":1518467820}`, "", true},
		{"event_callback", `{"type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention"}}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Outgoing{Body: []byte(tt.body), Timestamp: t0, ContentType: tt.ctype}
			req := signed(t, p, o)
			d, err := p.Verify(req, t0)
			require.NoError(t, err)
			if !tt.wantDigest {
				assert.NotEmpty(t, d.ID, "want the event_id")
				assert.Zero(t, d.Digest, "want no Digest")
				return
			}
			require.Empty(t, d.ID, "want no ID")
			require.NotZero(t, d.Digest, "want a Digest")
			replay, err := p.Verify(req, t0.Add(time.Minute))
			if assert.NoError(t, err, "replay") {
				assert.Equal(t, d.Digest, replay.Digest, "replay: want equal digests")
			}
			o.Timestamp = t0.Add(time.Second)
			later, err := p.Verify(signed(t, p, o), t0)
			if assert.NoError(t, err, "signed again a second later") {
				assert.NotEqual(t, d.Digest, later.Digest, "signed again a second later: want different digests")
			}
			o.Timestamp, o.Body = t0, append([]byte(tt.body), "&n=2"...)
			other, err := p.Verify(signed(t, p, o), t0)
			if assert.NoError(t, err, "other content") {
				assert.NotEqual(t, d.Digest, other.Digest, "other content: want different digests")
			}
			// Under the second secret, which Slack signs with after a
			// rotation, the digest still identifies the signed request.
			h := req.Header.Clone()
			h.Add(slackSignatureHeader, "v0="+strings.Repeat("ab", 32))
			two, err := p.Verify(verify.Request{Method: http.MethodPost, Header: h, Body: req.Body}, t0)
			if assert.NoError(t, err, "the same request with a second, wrong signature") {
				assert.Equal(t, d.Digest, two.Digest, "the same request with a second, wrong signature: want equal digests")
			}
		})
	}
}

// p256Order is the order n of the P-256 group.
var p256Order = elliptic.P256().Params().N

// malleateRaw returns the other valid signature (r, n-s) of a raw r||s
// P-256 signature.
func malleateRaw(t *testing.T, sig []byte) []byte {
	t.Helper()
	require.Len(t, sig, keys.P256SignatureSize, "raw signature")
	s := new(big.Int).Sub(p256Order, new(big.Int).SetBytes(sig[32:]))
	out := slices.Clone(sig)
	s.FillBytes(out[32:])
	return out
}

// malleateDER returns the other valid signature (r, n-s) of an ASN.1 DER
// ECDSA signature.
func malleateDER(t *testing.T, der []byte) []byte {
	t.Helper()
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	require.NoError(t, err, "signature is not DER")
	require.Empty(t, rest, "signature is not DER: trailing bytes")
	rs.S = new(big.Int).Sub(p256Order, rs.S)
	out, err := asn1.Marshal(rs)
	require.NoError(t, err)
	return out
}

// malleate rewrites req's signature of an ECDSA preset into (r, n-s).
func malleate(t *testing.T, name string, req verify.Request) verify.Request {
	t.Helper()
	h := req.Header.Clone()
	switch name {
	case "plaid":
		tok := h.Get(plaidVerificationHeader)
		i := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
		require.NoError(t, err)
		h.Set(plaidVerificationHeader, tok[:i+1]+base64.RawURLEncoding.EncodeToString(malleateRaw(t, sig)))
	case "sendgrid":
		der, err := base64.StdEncoding.DecodeString(h.Get(sendgridSignatureHeader))
		require.NoError(t, err)
		h.Set(sendgridSignatureHeader, base64.StdEncoding.EncodeToString(malleateDER(t, der)))
	default:
		require.FailNow(t, "no ECDSA signature to malleate", "preset %s", name)
	}
	out := req
	out.Header = h
	return out
}

// TestECDSAMalleabilityKeepsIdentity is issue 15 item 4: an ECDSA
// signature (r, s) has a twin (r, n-s) that verifies too, and genuine
// signers produce high-S signatures, so the twin is accepted. Its
// delivery must carry the same ID and Digest as the original, so that
// the receiver handles the event once: both come from the signed
// message, never from the signature bytes. The sweep covers every preset
// that uses ECDSA P-256 (it fails when a new one is not added here).
func TestECDSAMalleabilityKeepsIdentity(t *testing.T) {
	ecdsaPresets := []string{"plaid", "sendgrid"}
	for _, name := range Names() {
		alg := mustNew(t, name, mustTestSecret(t, name)).Info().Algorithm
		if strings.Contains(alg, "ECDSA") || strings.Contains(alg, "ES256") {
			assert.Contains(t, ecdsaPresets, name, "%s uses ECDSA: add it to this test", name)
		}
	}
	for _, name := range ecdsaPresets {
		for _, withID := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/with ID %v", name, withID), func(t *testing.T) {
				p := mustNew(t, name, mustTestSecret(t, name))
				var req verify.Request
				if withID {
					var a asymPreset
					for _, ap := range asymPresets() {
						if ap.name == name {
							a = ap
						}
					}
					req = asymSigned(t, p, a.outgoing())
				} else {
					req = signNoID(t, p, 0, t0)
				}
				d, err := p.Verify(req, t0)
				require.NoError(t, err)
				if d.ID == "" {
					require.NotZero(t, d.Digest, "the delivery has neither ID nor Digest")
				}
				twin := malleate(t, name, req)
				dt, err := p.Verify(twin, t0)
				require.NoError(t, err, "the (r, n-s) twin does not verify; ECDSA accepts it and genuine signers produce high-S signatures")
				assert.Equal(t, d.ID, dt.ID, "the (r, n-s) twin: want the same ID")
				assert.Equal(t, d.Digest, dt.Digest, "the (r, n-s) twin: want the same Digest")
			})
		}
	}
}

func mustTestSecret(t *testing.T, name string) string {
	t.Helper()
	s, err := testSecret(name)
	require.NoError(t, err)
	return s
}

// TestPlaidIDFromSignedClaims checks that Plaid's ID still tells two
// tokens apart when their signed content differs (another body, another
// iat), now that it no longer covers the signature.
func TestPlaidIDFromSignedClaims(t *testing.T) {
	p := mustNew(t, "plaid", mustTestSecret(t, "plaid"))
	id := func(body string, at time.Time) string {
		t.Helper()
		d, err := p.Verify(asymSigned(t, p, Outgoing{Body: []byte(body), Timestamp: at}), t0)
		require.NoError(t, err)
		return d.ID
	}
	a := id(`{"webhook_type":"ITEM"}`, t0)
	require.True(t, strings.HasPrefix(a, "jwt:"), "ID = %q, want jwt:<hex>", a)
	assert.Equal(t, a, id(`{"webhook_type":"ITEM"}`, t0), "the same body signed twice in the same second: IDs differ, want equal (the signed content is the same)")
	assert.NotEqual(t, a, id(`{"webhook_type":"AUTH"}`, t0), "other signed content shares the ID")
	assert.NotEqual(t, a, id(`{"webhook_type":"ITEM"}`, t0.Add(time.Second)), "other signed content shares the ID")
}

// TestCustomDigest covers the same class of fault in schemes described by
// a [Scheme]: a delivery without an ID, one whose ID comes from a header
// the signature does not cover (a replay inside the window could carry a
// fresh one), and an Ed25519 scheme that signs neither a timestamp nor an
// ID (it was marked Replayable with a zero Digest) all get a Digest of the
// signed content, equal for a replay and different for other content. A
// scheme whose ID is signed computes none.
func TestCustomDigest(t *testing.T) {
	pk, sk, err := ed25519GenerateHex()
	require.NoError(t, err)
	timed := &SchemeTimestamp{Header: "X-Ts"}
	tests := []struct {
		name       string
		scheme     Scheme
		signer     string // secret that signs
		verifier   string // secret that verifies
		idHeader   string // header to rewrite in a replay, "" for none
		wantDigest bool
	}{
		{"timed, no ID source", Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
			Signed: "{timestamp}.{body}", Timestamp: timed}, "s3cret", "s3cret", "", true},
		{"timed, ID in the body but absent", Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
			Signed: "{timestamp}.{body}", Timestamp: timed, ID: []SchemeField{{JSON: []string{"event_id"}}}}, "s3cret", "s3cret", "", true},
		{"timed, ID in an unsigned header", Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
			Signed: "{timestamp}.{body}", Timestamp: timed, ID: []SchemeField{{Header: "X-Delivery"}}}, "s3cret", "s3cret", "X-Delivery", true},
		{"timed, ID in a signed header", Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
			Signed: "{timestamp}.{header:X-Delivery}.{body}", Timestamp: timed, ID: []SchemeField{{Header: "X-Delivery"}}}, "s3cret", "s3cret", "", false},
		{"timed, signed {id}", Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
			Signed: "{id}.{timestamp}.{body}", Timestamp: timed, ID: []SchemeField{{Header: "X-Delivery"}}}, "s3cret", "s3cret", "", false},
		{"ed25519, body only", Scheme{Name: "edlike", Header: "X-Sig", Algorithm: "ed25519", Encoding: "hex",
			Signed: "{body}"}, sk, pk, "", true},
		{"ed25519, timed, no ID", Scheme{Name: "edlike", Header: "X-Sig", Algorithm: "ed25519", Encoding: "hex",
			Signed: "{timestamp}{body}", Timestamp: timed}, sk, pk, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer, p := mustCustom(t, tt.scheme, tt.signer), mustCustom(t, tt.scheme, tt.verifier)
			o := Outgoing{Body: []byte(`{"kind":"order.paid","n":1}`), ID: "delivery-1", Timestamp: t0}
			req := signed(t, signer, o)
			d, err := p.Verify(req, t0)
			require.NoError(t, err)
			require.Equal(t, tt.wantDigest, d.Digest != [32]byte{}, "ID %q: Digest set", d.ID)
			if !tt.wantDigest {
				return
			}
			replay := cloneRequest(req)
			if tt.idHeader != "" {
				replay.Header.Set(tt.idHeader, "fresh-id")
			}
			dr, err := p.Verify(replay, t0)
			if assert.NoError(t, err, "replay") {
				assert.Equal(t, d.Digest, dr.Digest, "replay: want equal digests")
			}
			o.Body = []byte(`{"kind":"order.paid","n":2}`)
			do, err := p.Verify(signed(t, signer, o), t0)
			if assert.NoError(t, err, "other content") {
				assert.NotEqual(t, d.Digest, do.Digest, "other content: want different digests")
			}
		})
	}
}

// ed25519GenerateHex returns a fresh Ed25519 key pair as hex: public, then
// private (64 bytes).
func ed25519GenerateHex() (pub, priv string, err error) {
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return hex.EncodeToString(pk), hex.EncodeToString(sk), nil
}

// TestMacDigestIsMatchDigest checks that macDigest, which presets call
// after reading the ID, gives what verify.HMAC.Match writes when asked for
// a digest, with one candidate signature (taken as the MAC) or several
// (the MAC computed again), and the body's SHA-256 when nothing was
// verified.
func TestMacDigestIsMatchDigest(t *testing.T) {
	var secrets []verify.Secret
	for _, k := range []string{"first secret", "second secret"} {
		s, err := verify.SecretFromBytes([]byte(k))
		require.NoError(t, err)
		secrets = append(secrets, s)
	}
	mac, err := verify.NewHMAC(verify.SHA256, secrets...)
	require.NoError(t, err)
	m := verify.Message{Prefix: [4]string{"1700000000", "."}, Body: []byte(`{"a":1}`)}
	good := mac.AppendSum(nil, 1, &m)
	bad := slices.Clone(good)
	bad[0] ^= 1
	for _, tc := range []struct {
		name string
		sigs [][]byte
	}{
		{"one signature", [][]byte{good}},
		{"two, the second matching", [][]byte{bad, good}},
		{"two, the first matching", [][]byte{good, bad}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sigs verify.Signatures
			for _, s := range tc.sigs {
				sigs.AddRaw(s)
			}
			var want [32]byte
			i, err := mac.Match(&m, &sigs, &want)
			require.NoError(t, err, "Match")
			require.Equal(t, 1, i, "Match")
			assert.Equal(t, want, macDigest(mac, i, &m, &sigs), "macDigest differs from the digest Match writes")
		})
	}
	assert.Equal(t, sha256.Sum256(m.Body), macDigest(mac, -1, &m, nil), "unverified: macDigest is not the body's SHA-256")
}
