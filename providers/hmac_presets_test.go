package providers

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the shared-secret presets of hmacPresets: each row says how the
// preset is keyed, where its signature and timestamp travel, and what it
// extracts from a realistic body.

// stampKind is where a preset's signed timestamp travels.
type stampKind int

const (
	stampNone     stampKind = iota // no timestamp is signed
	stampInHeader                  // in the signature header ("t=" or "ts=")
	stampInBody                    // in the body (Linear, Mailgun)
)

// bodyAuth says what a preset's credential covers.
type bodyAuth int

const (
	bodySigned   bodyAuth = iota // the body is covered by the MAC
	bodyUnsigned                 // a token or basic auth: the body is not covered
	bodyAside                    // Mailgun: timestamp and token are signed, the event data is not
)

type hmacPreset struct {
	name          string
	secret, other string
	sigH          string // the header that carries the credential ("" for Mailgun)
	stamp         stampKind
	auth          bodyAuth
	replayable    bool
	o             Outgoing
	id, typ       string // what Verify extracts from o
}

func hmacPresetTable() []hmacPreset {
	return []hmacPreset{
		{name: "bitbucket", secret: "bb-secret", other: "bb-other", sigH: "X-Hub-Signature", replayable: true,
			o:  Outgoing{Body: []byte(`{"push":{"changes":[{"new":{"name":"main","type":"branch"}}]},"repository":{"full_name":"acme/api"},"actor":{"display_name":"Ada"}}`), ID: "b2b7a1d2-6a44-4d09-9f6d-1a2b3c4d5e6f", Type: "repo:push"},
			id: "b2b7a1d2-6a44-4d09-9f6d-1a2b3c4d5e6f", typ: "repo:push"},
		{name: "calendly", secret: "calendly-signing-key", other: "calendly-other-key", sigH: "Calendly-Webhook-Signature", stamp: stampInHeader, replayable: true,
			o:  Outgoing{Body: []byte(`{"created_at":"2023-11-14T18:45:52.000000Z","event":"invitee.created","payload":{"email":"ada@example.com","status":"active"}}`)},
			id: "", typ: "invitee.created"},
		{name: "clerk", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", other: "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", sigH: "Svix-Signature", stamp: stampInHeader,
			o:  Outgoing{Body: []byte(`{"data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"},"object":"event","type":"user.created"}`), ID: "msg_2aBcDeF"},
			id: "msg_2aBcDeF", typ: "user.created"},
		{name: "gitlab", secret: "gl-token", other: "gl-old-token", sigH: "X-Gitlab-Token", auth: bodyUnsigned, replayable: true,
			o:  Outgoing{Body: []byte(`{"object_kind":"push","ref":"refs/heads/main","project":{"path_with_namespace":"acme/api"}}`), ID: "908a6d9e-45fd-46c8-97e6-c4f350f219dd", Type: "Push Hook"},
			id: "908a6d9e-45fd-46c8-97e6-c4f350f219dd", typ: "Push Hook"},
		{name: "intercom", secret: "ic-client-secret", other: "ic-other", sigH: "X-Hub-Signature", replayable: true,
			o:  Outgoing{Body: []byte(`{"type":"notification_event","id":"notif_78c122d0-23ba-11e4-9464-79b01267cc2e","topic":"user.created","app_id":"a86dr8yl"}`)},
			id: "notif_78c122d0-23ba-11e4-9464-79b01267cc2e", typ: "user.created"},
		{name: "lemonsqueezy", secret: "ls-signing-secret", other: "ls-other", sigH: "X-Signature", replayable: true,
			o:  Outgoing{Body: []byte(`{"meta":{"event_name":"order_created","webhook_id":"5c2a"},"data":{"type":"orders","id":"1"}}`), Type: "order_created"},
			id: "", typ: "order_created"},
		{name: "linear", secret: "lin_wh_secret", other: "lin_wh_other", sigH: "Linear-Signature", stamp: stampInBody, replayable: true,
			o:  Outgoing{Body: []byte(`{"action":"create","type":"Comment","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9"}}`), ID: "3f1c0e6a-delivery", Type: "Comment"},
			id: "3f1c0e6a-delivery", typ: "Comment"},
		{name: "mailgun", secret: "key-mailgun-signing", other: "key-mailgun-old", stamp: stampInBody, auth: bodyAside,
			o:  Outgoing{Body: []byte(`{"event-data":{"event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe","recipient":"alice@example.com"}}`), ID: "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"},
			id: "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0", typ: "delivered"},
		{name: "mux", secret: "mux-signing-secret", other: "mux-other", sigH: "Mux-Signature", stamp: stampInHeader,
			o:  Outgoing{Body: []byte(`{"type":"video.asset.ready","id":"3a56ac3d-33da-4366-855b-f592d898409d","object":{"type":"asset","id":"0201p02fGKPE7MrbC269XRD7LpcHhrmbu0002"}}`)},
			id: "3a56ac3d-33da-4366-855b-f592d898409d", typ: "video.asset.ready"},
		{name: "paddle", secret: "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_secret", other: "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_other", sigH: "Paddle-Signature", stamp: stampInHeader,
			o:  Outgoing{Body: []byte(`{"event_id":"evt_01hv8x2k4p3","event_type":"transaction.completed","occurred_at":"2024-04-12T10:18:49.621022Z","data":{"id":"txn_01hv8wptq8987qeep44cyrewp9"}}`)},
			id: "evt_01hv8x2k4p3", typ: "transaction.completed"},
		{name: "postmark", secret: "hookuser:s3cret-pass", other: "hookuser:old-pass", sigH: "Authorization", auth: bodyUnsigned, replayable: true,
			o:  Outgoing{Body: []byte(`{"RecordType":"Delivery","MessageID":"00000000-0000-0000-0000-000000000000","Recipient":"john@example.com"}`)},
			id: "", typ: "Delivery"},
		{name: "resend", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", other: "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", sigH: "Svix-Signature", stamp: stampInHeader,
			o:  Outgoing{Body: []byte(`{"type":"email.delivered","created_at":"2024-02-22T23:41:12.126Z","data":{"email_id":"56761188-7520-42d8-8898-ff6fc54ce618"}}`), ID: "msg_resend_1"},
			id: "msg_resend_1", typ: "email.delivered"},
		{name: "sentry", secret: "sentry-client-secret", other: "sentry-other", sigH: "Sentry-Hook-Signature", replayable: true,
			o:  Outgoing{Body: []byte(`{"action":"created","data":{"issue":{"id":"1170820242"}},"installation":{"uuid":"a8e5d37a"}}`), ID: "ec5c2a8e-7e5b-4b5e-8a7d-8f0e0e1b6f2a", Type: "issue"},
			id: "ec5c2a8e-7e5b-4b5e-8a7d-8f0e0e1b6f2a", typ: "issue"},
		{name: "typeform", secret: "tf-secret", other: "tf-other", sigH: "Typeform-Signature", replayable: true,
			o:  Outgoing{Body: []byte(`{"event_id":"01HF4WZ4Y7Q0S2D8","event_type":"form_response","form_response":{"form_id":"lT4Z3j"}}`)},
			id: "01HF4WZ4Y7Q0S2D8", typ: "form_response"},
		{name: "vercel", secret: "vercel-secret", other: "vercel-other", sigH: "X-Vercel-Signature", replayable: true,
			o:  Outgoing{Body: []byte(`{"id":"evt_vercel_1","type":"deployment.created","createdAt":1700000000000,"payload":{"deployment":{"id":"dpl_1"}}}`)},
			id: "evt_vercel_1", typ: "deployment.created"},
	}
}

// signFor signs o with p the way a test sender must: with SignBody for the
// presets whose signed data lives in the body.
func signFor(t *testing.T, p Provider, o Outgoing) verify.Request {
	t.Helper()
	if o.Timestamp.IsZero() {
		o.Timestamp = t0
	}
	if bs, ok := p.(bodySigner); ok {
		body, h, err := bs.SignBody(o)
		require.NoError(t, err, "SignBody")
		return verify.Request{Method: http.MethodPost, Header: h, Body: body}
	}
	return signed(t, p, o)
}

func TestHMACPresetsRegistered(t *testing.T) {
	names := Names()
	for _, ps := range hmacPresetTable() {
		assert.Contains(t, names, ps.name, "%s is not in Names()", ps.name)
		p := mustNew(t, ps.name, ps.secret)
		info := p.Info()
		assert.Equal(t, ps.name, p.Name(), "Name")
		assert.Equal(t, ps.name, info.Name, "%s: Info %+v", ps.name, info)
		assert.NotEmpty(t, info.Title, "%s: Info %+v", ps.name, info)
		assert.NotEmpty(t, info.Algorithm, "%s: Info %+v", ps.name, info)
		assert.NotEmpty(t, info.IDSource, "%s: Info %+v", ps.name, info)
		assert.NotEmpty(t, info.TypeSource, "%s: Info %+v", ps.name, info)
		assert.NotEmpty(t, info.SignatureHeader, "%s: Info %+v", ps.name, info)
		assert.Equal(t, ps.stamp != stampNone, info.Timestamped, "%s: Info.Timestamped", ps.name)
		if ps.sigH != "" {
			assert.True(t, strings.EqualFold(info.SignatureHeader, ps.sigH), "%s: Info.SignatureHeader = %q, want %q", ps.name, info.SignatureHeader, ps.sigH)
		}
	}
}

func TestHMACPresetsRoundTrip(t *testing.T) {
	for _, ps := range hmacPresetTable() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			req := signFor(t, p, ps.o)
			d, err := p.Verify(req, t0)
			require.NoError(t, err, "Verify")
			assert.Equal(t, ps.name, d.Provider, "Provider")
			assert.Equal(t, ps.id, d.ID, "ID")
			assert.Equal(t, ps.typ, d.Type, "Type")
			assert.Equal(t, 0, d.SecretIndex, "SecretIndex")
			stamped := ps.stamp != stampNone
			assert.Equal(t, stamped, !d.Timestamp.IsZero(), "Timestamp = %v (signed timestamp: %v)", d.Timestamp, stamped)
			if stamped {
				assert.WithinDuration(t, t0, d.Timestamp, 0, "Timestamp")
			}
			assert.Equal(t, ps.replayable, d.Replayable, "Replayable")
			assert.Equal(t, d.Replayable, d.Digest != [32]byte{}, "Digest set, with Replayable = %v", d.Replayable)
			assert.Nil(t, d.Reply, "Reply")
			assert.Equal(t, "application/json", req.Header.Get("Content-Type"), "Content-Type")
		})
	}
}

func TestHMACPresetsTampering(t *testing.T) {
	for _, ps := range hmacPresetTable() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			fresh := func() verify.Request {
				r := signFor(t, p, ps.o)
				r.Body = slices.Clone(r.Body)
				return r
			}

			// An altered event body, still valid JSON: a letter near its
			// end becomes another character of a string.
			r := fresh()
			i := strings.LastIndexAny(string(r.Body), "abcdefghijklmnopqrstuvwxyz")
			r.Body[i] ^= 0x01
			_, err := p.Verify(r, t0)
			if ps.auth == bodySigned {
				wantErr(t, err, verify.ErrSignatureMismatch, ps.name)
			} else {
				// A token, basic auth or Mailgun's signature does not cover
				// the event body: the preset documents that it accepts it.
				assert.NoError(t, err, "altered body under an unsigned-body scheme; the docs say it verifies")
			}

			// Another secret, then that secret added with WithSecret.
			r = signFor(t, mustNew(t, ps.name, ps.other), ps.o)
			_, err = p.Verify(r, t0)
			wantErr(t, err, verify.ErrSignatureMismatch, ps.name)
			d, err := mustNew(t, ps.name, ps.secret, WithSecret(ps.other)).Verify(r, t0)
			if assert.NoError(t, err, "second secret") {
				assert.Equal(t, 1, d.SecretIndex, "second secret: SecretIndex")
			}

			if ps.sigH == "" {
				return
			}
			// A changed credential character.
			r = fresh()
			r.Header.Set(ps.sigH, flipSigChar(r.Header.Get(ps.sigH)))
			_, err = p.Verify(r, t0)
			wantErr(t, err, verify.ErrSignatureMismatch, ps.name)

			r = fresh()
			r.Header.Del(ps.sigH)
			_, err = p.Verify(r, t0)
			wantErr(t, err, verify.ErrMissingSignature, ps.name)

			if ps.name != "gitlab" { // any non-empty token is well formed
				r = fresh()
				r.Header.Set(ps.sigH, "not a signature at all")
				_, err = p.Verify(r, t0)
				wantErr(t, err, verify.ErrMalformedSignature, ps.name)
			}
		})
	}
}

func TestHMACPresetsTimestamps(t *testing.T) {
	const tol = verify.DefaultTolerance
	for _, ps := range hmacPresetTable() {
		if ps.stamp == stampNone {
			continue
		}
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			req := signFor(t, p, ps.o)
			for _, c := range []struct {
				now  time.Time
				want error
			}{
				{t0.Add(tol), nil},
				{t0.Add(tol + time.Second), verify.ErrTimestampTooOld},
				{t0.Add(-tol), nil},
				{t0.Add(-tol - time.Second), verify.ErrTimestampTooNew},
			} {
				_, err := p.Verify(req, c.now)
				wantErr(t, err, c.want, ps.name)
			}
			_, err := mustNew(t, ps.name, ps.secret, WithoutTimestampCheck()).Verify(req, t0.Add(24*time.Hour))
			assert.NoError(t, err, "WithoutTimestampCheck")
			_, err = mustNew(t, ps.name, ps.secret, WithTolerance(time.Second, time.Second)).Verify(req, t0.Add(2*time.Second))
			wantErr(t, err, verify.ErrTimestampTooOld, ps.name)
		})
	}
	// A timestamp carried in the signature header is itself signed.
	for _, name := range []string{"calendly", "mux", "paddle"} {
		p := mustNew(t, name, "k")
		req := signFor(t, p, Outgoing{Body: []byte(`{}`)})
		sigH := p.Info().SignatureHeader
		req.Header.Set(sigH, strings.Replace(req.Header.Get(sigH), strconv.FormatInt(t0.Unix(), 10), strconv.FormatInt(t0.Unix()+1, 10), 1))
		_, err := p.Verify(req, t0)
		wantErr(t, err, verify.ErrSignatureMismatch, name)
	}
}

func TestHMACPresetsInsecure(t *testing.T) {
	for _, ps := range hmacPresetTable() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret, InsecureSkipVerification())
			req := signFor(t, mustNew(t, ps.name, ps.other), ps.o)
			d, err := p.Verify(req, t0.Add(time.Hour))
			require.NoError(t, err, "Verify")
			require.Equal(t, -1, d.SecretIndex, "Verify = %+v", d)
			require.Equal(t, ps.id, d.ID, "Verify = %+v", d)
			require.Equal(t, ps.typ, d.Type, "Verify = %+v", d)
			if ps.stamp != stampNone {
				assert.WithinDuration(t, t0, d.Timestamp, 0, "Timestamp")
			}
			if ps.sigH != "" {
				req.Header.Del(ps.sigH)
				d, err := p.Verify(req, t0)
				if assert.NoError(t, err, "without credential") {
					assert.Equal(t, -1, d.SecretIndex, "without credential: %+v", d)
				}
			}
		})
	}
}

func TestHMACPresetsErrorsDoNotLeak(t *testing.T) {
	for _, ps := range hmacPresetTable() {
		t.Run(ps.name, func(t *testing.T) {
			req := signFor(t, mustNew(t, ps.name, ps.other), ps.o)
			p := mustNew(t, ps.name, ps.secret)
			_, err := p.Verify(req, t0)
			require.Error(t, err, "want an error")
			right := signFor(t, p, ps.o)
			msg := err.Error()
			for _, s := range []string{ps.secret, ps.other, string(ps.o.Body), right.Header.Get(ps.sigH), req.Header.Get(ps.sigH)} {
				if len(s) > 8 {
					assert.NotContains(t, msg, s)
				}
			}
			for _, v := range []string{fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), fmt.Sprint(p)} {
				assert.NotContains(t, v, ps.secret, "printing the preset shows its secret")
			}
		})
	}
}

func TestHMACPresetsConstruction(t *testing.T) {
	for _, ps := range hmacPresetTable() {
		_, err := New(ps.name, "")
		assert.ErrorIs(t, err, verify.ErrEmptySecret, "%s: empty secret", ps.name)
		_, err = New(ps.name, ps.secret, WithSecret(""))
		assert.ErrorIs(t, err, verify.ErrEmptySecret, "%s: empty WithSecret", ps.name)
		_, err = New(ps.name, ps.secret, WithLegacySHA1())
		assert.ErrorIs(t, err, ErrInvalidOption, "%s: WithLegacySHA1", ps.name)
		_, err = New(ps.name, ps.secret, WithTolerance(0, time.Second))
		assert.ErrorIs(t, err, ErrInvalidOption, "%s: zero tolerance", ps.name)
	}
	for _, bad := range []string{"no-colon", strings.Repeat("x", 600) + ":y"} {
		_, err := NewPostmark(bad)
		if assert.ErrorIs(t, err, verify.ErrInvalidSecret, "NewPostmark(%.12q...)", bad) {
			assert.NotContains(t, err.Error(), bad, "NewPostmark(%.12q...): the error holds the secret", bad)
		}
	}
	_, err := NewClerk("whsec_%%%")
	assert.ErrorIs(t, err, verify.ErrInvalidSecret, "NewClerk(bad whsec)")
}

// oracleMAC is an HMAC computed with crypto/hmac alone, independently of
// package verify, as the tests' oracle.
func oracleMAC(h func() hash.Hash, key string, parts ...string) []byte {
	m := hmac.New(h, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func TestHMACPresetsMatchOracle(t *testing.T) {
	// Each preset's header, recomputed with crypto/hmac from the
	// provider's description of its scheme.
	const body = `{"id":"x","type":"y"}`
	ts := strconv.FormatInt(t0.Unix(), 10)
	tests := []struct {
		name, header, want string
	}{
		{"bitbucket", "X-Hub-Signature", "sha256=" + hex.EncodeToString(oracleMAC(sha256.New, "k", body))},
		{"intercom", "X-Hub-Signature", "sha1=" + hex.EncodeToString(oracleMAC(sha1.New, "k", body))},
		{"typeform", "Typeform-Signature", "sha256=" + base64.StdEncoding.EncodeToString(oracleMAC(sha256.New, "k", body))},
		{"vercel", "X-Vercel-Signature", hex.EncodeToString(oracleMAC(sha1.New, "k", body))},
		{"lemonsqueezy", "X-Signature", hex.EncodeToString(oracleMAC(sha256.New, "k", body))},
		{"sentry", "Sentry-Hook-Signature", hex.EncodeToString(oracleMAC(sha256.New, "k", body))},
		{"linear", "Linear-Signature", hex.EncodeToString(oracleMAC(sha256.New, "k", body))},
		{"calendly", "Calendly-Webhook-Signature", "t=" + ts + ",v1=" + hex.EncodeToString(oracleMAC(sha256.New, "k", ts, ".", body))},
		{"mux", "Mux-Signature", "t=" + ts + ",v1=" + hex.EncodeToString(oracleMAC(sha256.New, "k", ts, ".", body))},
		{"paddle", "Paddle-Signature", "ts=" + ts + ";h1=" + hex.EncodeToString(oracleMAC(sha256.New, "k", ts, ":", body))},
		{"gitlab", "X-Gitlab-Token", "k"},
		{"postmark", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:k"))},
	}
	for _, tt := range tests {
		secret := "k"
		if tt.name == "postmark" {
			secret = "u:k"
		}
		h, err := mustNew(t, tt.name, secret).Sign(Outgoing{Body: []byte(body), Timestamp: t0})
		require.NoError(t, err)
		assert.Equal(t, tt.want, h.Get(tt.header), "%s: %s", tt.name, tt.header)
	}
}
