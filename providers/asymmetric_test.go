package providers

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/jwt"
	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// asymPreset describes one preset of registry_asymmetric.go for the
// table-driven tests below.
type asymPreset struct {
	name  string
	sigH  string // canonical signature header
	body  string
	ctype string
	stamp bool // signs a timestamp
	id    string
	typ   string
}

const asymURL = "https://hooks.example.com/webhooks/in?tenant=7"

func asymPresets() []asymPreset {
	return []asymPreset{
		{name: "discord", sigH: discordSignatureHeader, stamp: true, id: "1180000000000000001", typ: "APPLICATION_COMMAND",
			body: `{"id":"1180000000000000001","application_id":"1170000000000000000","type":2,"token":"aW50ZXJhY3Rpb24","version":1,"data":{"id":"1","name":"ping","type":1}}`},
		{name: "dropbox", sigH: dropboxSignatureHeader, typ: "list_folder",
			body: `{"list_folder":{"accounts":["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]},"delta":{"users":[12345678]}}`},
		{name: "hubspot", sigH: hubspotV3Header, stamp: true, id: "1", typ: "contact.creation",
			body: `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`},
		{name: "instagram", sigH: githubSignature256Header, typ: "instagram",
			body: `{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000,"changes":[{"field":"comments","value":{"id":"17865799348089039","text":"nice"}}]}]}`},
		{name: "meta", sigH: githubSignature256Header, typ: "page",
			body: `{"object":"page","entry":[{"id":"106000000000000","time":1700000000,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"message":{"mid":"m_1","text":"hi"}}]}]}`},
		{name: "okta", sigH: "Authorization", id: "b5a188b9-5ece-4636-b041-482ffda96311", typ: "com.okta.event_hook",
			body: `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://example.okta.com/api/v1/eventHooks/who8tsuuh1w2Ew6wL0g4","eventId":"b5a188b9-5ece-4636-b041-482ffda96311","data":{"events":[{"eventType":"user.session.start"}]},"eventTime":"2023-11-14T22:13:20.000Z","contentType":"application/json"}`},
		{name: "plaid", sigH: plaidVerificationHeader, stamp: true, typ: "TRANSACTIONS.SYNC_UPDATES_AVAILABLE",
			body: `{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"wz666MBjYWTp2PDzzggYhM6oWWmBb","initial_update_complete":true,"historical_update_complete":false,"environment":"sandbox"}`},
		{name: "sendgrid", sigH: sendgridSignatureHeader, stamp: true, id: "sg_event_id_1", typ: "delivered",
			body: `[{"email":"example@test.com","timestamp":1700000000,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"delivered","category":"cat facts","sg_event_id":"sg_event_id_1","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}]` + "\r\n"},
		{name: "square", sigH: squareSignatureHeader, id: "ac3ac95b-f97d-458c-a6e6-18981597e05f", typ: "payment.updated",
			body: `{"merchant_id":"MLEFBHHSJGVHD","type":"payment.updated","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2023-11-14T22:13:20Z","data":{"type":"payment","id":"KkAkhdMsgzn59SM8A89WgKwekxLZY"}}`},
		{name: "twilio", sigH: twilioSignatureHeader, ctype: "application/x-www-form-urlencoded", id: "idem-1", typ: "delivered",
			body: "MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageStatus=delivered&AccountSid=AC00000000000000000000000000000000&From=%2B15017122661&To=%2B15558675310&ApiVersion=2010-04-01"},
		{name: "twitch", sigH: twitchSignatureHeader, stamp: true, id: "idem-1", typ: "channel.follow",
			body: `{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","type":"channel.follow","version":"2","status":"enabled","cost":0},"event":{"user_id":"1234","user_login":"cool_user","broadcaster_user_id":"1337","followed_at":"2023-11-14T22:13:20.000000Z"}}`},
		{name: "whatsapp", sigH: githubSignature256Header, typ: "whatsapp_business_account",
			body: `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","messages":[{"from":"16315551234","id":"wamid.ABGGFlA5FpafAgo6EhE","timestamp":"1700000000","type":"text","text":{"body":"hello"}}]},"field":"messages"}]}]}`},
		{name: "zoom", sigH: zoomSignatureHeader, stamp: true, typ: "meeting.started",
			body: `{"event":"meeting.started","event_ts":1700000000123,"payload":{"account_id":"AAAAAABBBB","object":{"id":"1234567890","uuid":"4444AAAiAAAAAiAiAiiAii==","host_id":"x1yCzABCDEfg23HiJKl4mN","topic":"My Meeting","type":2}}}`},
	}
}

func (a asymPreset) outgoing() Outgoing {
	return Outgoing{Body: []byte(a.body), ID: a.id, Type: a.typ, Timestamp: t0, URL: asymURL, ContentType: a.ctype}
}

// asymSigned signs a's sample with p and returns the request the sender
// would make.
func asymSigned(t testing.TB, p Provider, o Outgoing) verify.Request {
	t.Helper()
	h, err := p.Sign(o)
	require.NoError(t, err, "%s.Sign", p.Name())
	return verify.Request{Method: http.MethodPost, URL: o.URL, Header: h, Body: o.Body}
}

func asymNew(t testing.TB, name string, opts ...Option) (Provider, string) {
	t.Helper()
	secret, err := testSecret(name)
	require.NoError(t, err)
	return mustNew(t, name, secret, opts...), secret
}

func cloneReq(r verify.Request) verify.Request {
	r.Header = r.Header.Clone()
	r.Body = append([]byte(nil), r.Body...)
	return r
}

func TestAsymmetricRegistered(t *testing.T) {
	names := map[string]bool{}
	for _, n := range Names() {
		names[n] = true
	}
	for _, a := range asymPresets() {
		assert.True(t, names[a.name], "%s is not registered", a.name)
		p, _ := asymNew(t, a.name)
		info := p.Info()
		assert.Equal(t, a.name, p.Name(), "Name")
		assert.Equal(t, a.name, info.Name, "%s: Info %+v", a.name, info)
		assert.NotEmpty(t, info.Title, "%s: Info %+v", a.name, info)
		assert.NotEmpty(t, info.SignatureHeader, "%s: Info %+v", a.name, info)
		assert.NotEmpty(t, info.Algorithm, "%s: Info %+v", a.name, info)
		assert.NotEmpty(t, info.IDSource, "%s: Info %+v", a.name, info)
		assert.NotEmpty(t, info.TypeSource, "%s: Info %+v", a.name, info)
		assert.Equal(t, a.stamp, info.Timestamped, "%s: Info %+v", a.name, info)
	}
}

func TestAsymmetricRoundTrip(t *testing.T) {
	for _, a := range asymPresets() {
		t.Run(a.name, func(t *testing.T) {
			p, _ := asymNew(t, a.name)
			req := asymSigned(t, p, a.outgoing())
			if a.name == "twilio" {
				req.Header.Set(twilioIdempotencyHeader, a.id)
			}
			d, err := p.Verify(req, t0)
			require.NoError(t, err, "Verify")
			assert.Equal(t, a.name, d.Provider, "delivery %+v", d)
			assert.Equal(t, 0, d.SecretIndex, "delivery %+v", d)
			assert.Nil(t, d.Reply, "delivery %+v", d)
			if a.id != "" {
				assert.Equal(t, a.id, d.ID, "ID")
			}
			if a.id == "" && d.ID == "" {
				assert.True(t, d.Replayable, "no ID and not replayable: nothing would dedupe it")
			}
			assert.Equal(t, a.typ, d.Type, "Type")
			if a.stamp {
				assert.WithinDuration(t, t0, d.Timestamp, 0, "Timestamp")
			}
			assert.Equal(t, !a.stamp, d.Replayable, "Replayable: a scheme that signs a timestamp (%v) must not be replayable, one that does not must be", a.stamp)
			if d.Replayable {
				assert.NotZero(t, d.Digest, "replayable delivery without a digest")
			}
		})
	}
}

func TestAsymmetricTampering(t *testing.T) {
	for _, a := range asymPresets() {
		t.Run(a.name, func(t *testing.T) {
			p, _ := asymNew(t, a.name)
			good := asymSigned(t, p, a.outgoing())
			cases := map[string]func(r *verify.Request){
				"body": func(r *verify.Request) {
					if a.ctype != "" {
						r.Body = append(r.Body, "&Body=injected"...)
						return
					}
					r.Body = []byte(strings.Replace(string(r.Body), "{", `{"x":1,`, 1))
				},
				"signature": func(r *verify.Request) {
					r.Header.Set(a.sigH, flipSigChar(r.Header.Get(a.sigH)))
				},
			}
			if a.name != "okta" && a.name != "plaid" {
				cases["url"] = func(r *verify.Request) { r.URL = strings.Replace(r.URL, "tenant=7", "tenant=8", 1) }
			}
			for what, f := range cases {
				r := cloneReq(good)
				f(&r)
				_, err := p.Verify(r, t0)
				urlSigned := a.name == "twilio" || a.name == "square" || a.name == "hubspot"
				if what == "url" && !urlSigned {
					assert.NoError(t, err, "url change, but %s does not sign the URL", a.name)
					continue
				}
				if what == "body" && a.name == "okta" {
					// Okta signs nothing: the secret header is all there is.
					assert.NoError(t, err, "okta body change")
					continue
				}
				assert.True(t, errors.Is(err, verify.ErrSignatureMismatch) || errors.Is(err, verify.ErrMalformedSignature), "%s tampered: err = %v, want a signature failure", what, err)
				assert.Contains(t, []int{http.StatusUnauthorized, http.StatusBadRequest}, verify.StatusCode(err), "%s tampered: status", what)
			}
			other, _ := asymNew(t, a.name)
			_, err := other.Verify(cloneReq(good), t0)
			assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "wrong key")
			r := cloneReq(good)
			r.Header.Del(a.sigH)
			_, err = p.Verify(r, t0)
			assert.ErrorIs(t, err, verify.ErrMissingSignature, "no signature")
		})
	}
}

func TestAsymmetricTimestampWindow(t *testing.T) {
	for _, a := range asymPresets() {
		if !a.stamp {
			continue
		}
		t.Run(a.name, func(t *testing.T) {
			p, secret := asymNew(t, a.name)
			req := asymSigned(t, p, a.outgoing())
			past := 5 * time.Minute
			if a.name == "twitch" {
				past = twitchDefaultPast
			}
			_, err := p.Verify(req, t0.Add(past-time.Second))
			assert.NoError(t, err, "just inside the window")
			_, err = p.Verify(req, t0.Add(past+time.Second))
			assert.ErrorIs(t, err, verify.ErrTimestampTooOld, "stale")
			_, err = p.Verify(req, t0.Add(-6*time.Minute))
			assert.ErrorIs(t, err, verify.ErrTimestampTooNew, "future")
			loose, err := New(a.name, secret, WithoutTimestampCheck())
			require.NoError(t, err)
			_, err = loose.Verify(req, t0.Add(24*time.Hour))
			assert.NoError(t, err, "WithoutTimestampCheck")
			tight, _ := New(a.name, secret, WithTolerance(time.Second, time.Second))
			_, err = tight.Verify(req, t0.Add(2*time.Second))
			assert.ErrorIs(t, err, verify.ErrTimestampTooOld, "WithTolerance(1s)")
		})
	}
}

func TestAsymmetricInsecure(t *testing.T) {
	for _, a := range asymPresets() {
		t.Run(a.name, func(t *testing.T) {
			secret, _ := testSecret(a.name)
			p := mustNew(t, a.name, secret, InsecureSkipVerification())
			req := verify.Request{Method: http.MethodPost, URL: asymURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(a.body)}
			if a.ctype != "" {
				req.Header.Set("Content-Type", a.ctype)
			}
			d, err := p.Verify(req, t0)
			require.NoError(t, err, "insecure Verify without signature")
			assert.Equal(t, -1, d.SecretIndex, "SecretIndex")
		})
	}
}

func TestAsymmetricOptionsRejected(t *testing.T) {
	for _, a := range asymPresets() {
		secret, _ := testSecret(a.name)
		for _, o := range []struct {
			name string
			opt  Option
			ok   bool
		}{
			{"WithVerifyToken", WithVerifyToken("tok"), a.name == "meta" || a.name == "whatsapp" || a.name == "instagram"},
			{"WithSignatureVersion", WithSignatureVersion("v1"), a.name == "hubspot"},
			{"WithSharedKey", WithSharedKey("webhooks_sharedkey_test"), a.name == "twilio"},
			{"WithAuthHeader", WithAuthHeader("X-Hook-Secret"), a.name == "okta"},
			{"WithKeyTimeout", WithKeyTimeout(time.Second), a.name == "plaid"},
			{"WithLegacySHA1", WithLegacySHA1(), false},
		} {
			_, err := New(a.name, secret, o.opt)
			if o.ok {
				assert.NoError(t, err, "%s with %s", a.name, o.name)
			} else {
				assert.ErrorIs(t, err, ErrInvalidOption, "%s with %s", a.name, o.name)
			}
		}
		_, err := New(a.name, "")
		assert.ErrorIs(t, err, verify.ErrEmptySecret, "%s with an empty secret", a.name)
	}
	for name, opt := range map[string]Option{
		"empty verify token": WithVerifyToken(""),
		"nil key source":     WithKeySource(nil),
		"zero key timeout":   WithKeyTimeout(0),
		"bad auth header":    WithAuthHeader("X Bad: header"),
	} {
		_, err := New("meta", "s", opt)
		assert.ErrorIs(t, err, ErrInvalidOption, name)
	}
}

func TestAsymmetricPublicKeysCannotSign(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPub, _ := keys.MarshalP256PublicKey(&ec.PublicKey)
	jwk, _ := keys.MarshalP256JWK("kid-1", &ec.PublicKey)
	for name, key := range map[string]string{
		"discord":  hex.EncodeToString(edPub),
		"sendgrid": ecPub,
		"plaid":    string(jwk),
	} {
		p := mustNew(t, name, key)
		_, err := p.Sign(Outgoing{Body: []byte("{}")})
		assert.ErrorIs(t, err, ErrCannotSign, "%s with a public key: Sign", name)
	}
	for name, key := range map[string]string{
		"discord":  "zz" + hex.EncodeToString(edPub)[2:],
		"sendgrid": "MFkw",
		"plaid":    `{"kty":"EC"}`,
	} {
		_, err := New(name, key)
		assert.ErrorIs(t, err, verify.ErrInvalidSecret, "%s with a bad key", name)
	}
}

// --- Published vectors -------------------------------------------------

// SendGrid: sendgrid/sendgrid-go helpers/eventwebhook/eventwebhook_test.go.
func TestSendGridPublishedVector(t *testing.T) {
	const (
		pub = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
		sig = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
		ts  = "1588788367"
	)
	body := `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
	p := mustNew(t, "sendgrid", pub)
	req := request(hdr(sendgridSignatureHeader, sig, sendgridTimestampHeader, ts), body)
	now := time.Unix(1588788367, 0)
	d, err := p.Verify(req, now)
	require.NoError(t, err, "published vector")
	assert.Equal(t, "test_event", d.Type, "Type")
	req.Body = []byte(body + " ")
	_, err = p.Verify(req, now)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "tampered vector")
}

// Twilio: twilio/twilio-go client/request_validator_test.go (auth token
// "12345").
func TestTwilioPublishedVectors(t *testing.T) {
	p := mustNew(t, "twilio", "12345")
	const testURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	form := "Digits=1234&CallSid=CA1234567890ABCDE&To=%2B18005551212&Caller=%2B14158675309&From=%2B14158675309"
	formReq := func(u, sig string) verify.Request {
		return verify.Request{Method: http.MethodPost, URL: u, Body: []byte(form),
			Header: hdr("Content-Type", "application/x-www-form-urlencoded", twilioSignatureHeader, sig)}
	}
	body := `{"property": "value", "boolean": true}`
	const bodyHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	jsonReq := func(u, sig string) verify.Request {
		return verify.Request{Method: http.MethodPost, URL: u, Body: []byte(body),
			Header: hdr("Content-Type", "application/json", twilioSignatureHeader, sig)}
	}
	for _, tc := range []struct {
		name string
		req  verify.Request
		ok   bool
	}{
		{"form", formReq(testURL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), true},
		{"form, port in URL, signed without", formReq(strings.Replace(testURL, ".com", ".com:1234", 1), "RSOYDt4T1cUTdK1PDd93/VVr8B8="), true},
		{"form, signed with :443", formReq(testURL, "kvajT1Ptam85bY51eRf/AJRuM3w="), true},
		{"form, http", formReq(strings.Replace(testURL, "https", "http", 1), "0ZXoZLH/DfblKGATFgpif+LLRf4="), true},
		{"form, http with port", formReq(strings.Replace(strings.Replace(testURL, ".com", ".com:1234", 1), "https", "http", 1), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="), true},
		{"form, wrong signature", formReq(testURL, "kvajT1Ptam85bY51eRf/AJRuM3x="), false},
		{"json", jsonReq(testURL+"&bodySHA256="+bodyHash, "a9nBmqA0ju/hNViExpshrM61xv4="), true},
		{"json, only bodySHA256", jsonReq("https://mycompany.com/myapp.php?bodySHA256="+bodyHash, "y77kIzt2vzLz71DgmJGsen2scGs="), true},
		{"json without bodySHA256", jsonReq(testURL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), false},
	} {
		_, err := p.Verify(tc.req, t0)
		if tc.ok {
			assert.NoError(t, err, tc.name)
		} else {
			assert.Error(t, err, "%s: verified", tc.name)
		}
	}
	// The body hash binds the body.
	r := jsonReq(testURL+"&bodySHA256="+bodyHash, "a9nBmqA0ju/hNViExpshrM61xv4=")
	r.Body = []byte(`{"property": "other", "boolean": true}`)
	_, err := p.Verify(r, t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "json body changed")
	// Sign reproduces the form vector, and TwilioBodyURL the JSON one.
	h, err := p.Sign(Outgoing{Body: []byte(form), URL: testURL, ContentType: "application/x-www-form-urlencoded"})
	assert.NoError(t, err, "Sign form")
	assert.Equal(t, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", h.Get(twilioSignatureHeader), "Sign form")
	u := TwilioBodyURL(testURL, []byte(body))
	assert.Equal(t, testURL+"&bodySHA256="+bodyHash, u, "TwilioBodyURL")
	h, err = p.Sign(Outgoing{Body: []byte(body), URL: u})
	assert.NoError(t, err, "Sign json")
	assert.Equal(t, "a9nBmqA0ju/hNViExpshrM61xv4=", h.Get(twilioSignatureHeader), "Sign json")
	_, err = p.Sign(Outgoing{Body: []byte(body), URL: testURL})
	assert.ErrorIs(t, err, ErrInvalidOption, "Sign json without bodySHA256")
	_, err = p.Sign(Outgoing{Body: []byte(body)})
	assert.ErrorIs(t, err, ErrInvalidOption, "Sign without URL")
	r = formReq("", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
	_, err = p.Verify(r, t0)
	assert.ErrorIs(t, err, verify.ErrMissingHeader, "no URL")
}

// Square: square/square-python-sdk tests/integration/test_webhooks_helper.py
// (the same vector is in the other Square SDKs).
func TestSquarePublishedVectors(t *testing.T) {
	const body = `{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`
	const url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
	p := mustNew(t, "square", "Ibxx_5AKakO-3qeNVR61Dw")
	req := verify.Request{Method: http.MethodPost, URL: url, Body: []byte(body), Header: hdr(squareSignatureHeader, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=")}
	d, err := p.Verify(req, t0)
	require.NoError(t, err, "published vector")
	assert.Equal(t, "ac3ac95b-f97d-458c-a6e6-18981597e05f", d.ID, "delivery %+v", d)
	assert.Equal(t, "webhooks.test_notification", d.Type, "delivery %+v", d)
	assert.True(t, d.Replayable, "delivery %+v", d)
	h, _ := p.Sign(Outgoing{Body: []byte(body), URL: url})
	assert.Equal(t, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", h.Get(squareSignatureHeader), "Sign")
	for name, r := range map[string]verify.Request{
		"url mismatch": {Method: http.MethodPost, URL: "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9", Body: []byte(body), Header: req.Header},
		"other key":    req,
	} {
		q := p
		if name == "other key" {
			q = mustNew(t, "square", "MCmhFRxGX82xMwg5FsaoQA")
		}
		_, err := q.Verify(r, t0)
		assert.ErrorIs(t, err, verify.ErrSignatureMismatch, name)
	}
	esc := mustNew(t, "square", "signature-key")
	r := verify.Request{Method: http.MethodPost, URL: "https://webhook.site/webhooks", Body: []byte(`{"data":{"type":"webhooks","id":">id<"}}`), Header: hdr(squareSignatureHeader, "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=")}
	_, err = esc.Verify(r, t0)
	assert.NoError(t, err, "escaped vector")
}

// HubSpot: developers.hubspot.com docs/faq/v1-request-validation (v1),
// docs/faq/v2-request-validation (v2 GET), and HubSpot/hubspot-api-python
// tests/spec/utils/test_signature.py (v1, v2, v3).
func TestHubSpotPublishedVectors(t *testing.T) {
	const secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
	p := mustNew(t, "hubspot", secret)
	v1 := mustNew(t, "hubspot", secret, WithSignatureVersion("v1"))
	v2 := mustNew(t, "hubspot", secret, WithSignatureVersion("v2"))
	docsBody := `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
	sdkBody := `{'example_field':'example_value'}`
	const url = "https://www.example.com/webhook_uri"
	legacy := func(method, version, sig, body string) verify.Request {
		h := hdr(hubspotLegacyHeader, sig)
		if version != "" {
			h.Set(hubspotVersionHeader, version)
		}
		return verify.Request{Method: method, URL: url, Header: h, Body: []byte(body)}
	}
	for _, tc := range []struct {
		name string
		p    Provider
		req  verify.Request
	}{
		{"v1 docs", v1, legacy(http.MethodPost, "v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", docsBody)},
		{"v1 docs, no version header", v1, legacy(http.MethodPost, "", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", docsBody)},
		{"v1 sdk", v1, legacy(http.MethodPost, "v1", "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", sdkBody)},
		{"v2 sdk", v2, legacy(http.MethodPost, "v2", "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", sdkBody)},
		{"v2 GET", v2, legacy(http.MethodGet, "v2", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", "")},
	} {
		d, err := tc.p.Verify(tc.req, t0)
		if !assert.NoError(t, err, tc.name) {
			continue
		}
		assert.True(t, d.Replayable, "%s: a v1/v2 delivery must be replayable with a digest: %+v", tc.name, d)
		assert.NotZero(t, d.Digest, "%s: a v1/v2 delivery must be replayable with a digest: %+v", tc.name, d)
		assert.True(t, d.Timestamp.IsZero(), "%s: a v1/v2 delivery must have no timestamp: %+v", tc.name, d)
	}
	d, _ := v1.Verify(legacy(http.MethodPost, "v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", docsBody), t0)
	assert.Equal(t, "1", d.ID, "v1 docs: ID")
	assert.Equal(t, "contact.creation", d.Type, "v1 docs: type")
	// v1 is a plain hash: not an HMAC of the body.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(docsBody))
	_, err := v1.Verify(legacy(http.MethodPost, "v1", hex.EncodeToString(mac.Sum(nil)), docsBody), t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "an HMAC passed as v1")
	// The v2 vector signed POST; the same hash with GET must fail.
	_, err = v2.Verify(legacy(http.MethodGet, "v2", "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", sdkBody), t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "v2 with another method")
	_, err = v1.Verify(legacy(http.MethodPost, "v3", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", docsBody), t0)
	assert.ErrorIs(t, err, verify.ErrMalformedSignature, "unknown version")

	// v3: timestamp 15000000 ms.
	v3 := verify.Request{Method: http.MethodPost, URL: url, Body: []byte(sdkBody),
		Header: hdr(hubspotV3Header, "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", hubspotTimestampHeader, "15000000")}
	now := time.UnixMilli(15000000)
	d, err = p.Verify(v3, now)
	require.NoError(t, err, "v3 vector: %+v", d)
	require.WithinDuration(t, now, d.Timestamp, 0, "v3 vector: %+v", d)
	require.False(t, d.Replayable, "v3 vector: %+v", d)
	_, err = p.Verify(v3, now.Add(6*time.Minute))
	assert.ErrorIs(t, err, verify.ErrTimestampTooOld, "v3 stale")
	h, err := p.Sign(Outgoing{Body: []byte(sdkBody), URL: url, Timestamp: now})
	assert.NoError(t, err, "Sign v3")
	assert.Equal(t, "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", h.Get(hubspotV3Header), "Sign v3")
	get := cloneReq(v3)
	get.Method = http.MethodGet
	_, err = p.Verify(get, now)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "v3 under another method")
	// A request with a v3 header never falls back to v1.
	both := cloneReq(v3)
	both.Header.Set(hubspotV3Header, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	both.Header.Set(hubspotLegacyHeader, "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750")
	_, err = p.Verify(both, now)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "bad v3 with good v1")
	// The default preset refuses v1 (hubspot_security_test.go has more).
	_, err = p.Verify(legacy(http.MethodPost, "v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", docsBody), t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "default preset and v1")
	// SignLegacy reproduces the documented hashes.
	hs := implOf(p).(*hubspot)
	lh, _ := hs.SignLegacy("v1", Outgoing{Body: []byte(docsBody)})
	assert.Equal(t, "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", lh.Get(hubspotLegacyHeader), "SignLegacy v1")
	lh, _ = hs.SignLegacy("v2", Outgoing{Method: http.MethodGet, URL: url})
	assert.Equal(t, "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", lh.Get(hubspotLegacyHeader), "SignLegacy v2")
}

// TestHubSpotV3DecodedURI checks that a v3 signature computed over the URI
// with HubSpot's listed escapes decoded verifies against the raw URI.
func TestHubSpotV3DecodedURI(t *testing.T) {
	p := mustNew(t, "hubspot", "client-secret")
	raw := "https://hooks.example.com/hubspot?redirect=https%3A%2F%2Fapp.example.com%2Fx"
	dec := "https://hooks.example.com/hubspot?redirect=https://app.example.com/x"
	h, _ := p.Sign(Outgoing{Body: []byte("[]"), URL: dec, Timestamp: t0})
	_, err := p.Verify(verify.Request{Method: http.MethodPost, URL: raw, Header: h, Body: []byte("[]")}, t0)
	assert.NoError(t, err, "decoded-URI signature")
}

// Meta signs exactly as GitHub does; the vector is GitHub's
// (github/docs validating-webhook-deliveries.md), since Meta publishes
// none.
func TestMetaSchemeVector(t *testing.T) {
	p := mustNew(t, "meta", "It's a Secret to Everybody")
	req := request(hdr(githubSignature256Header, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"), "Hello, World!")
	_, err := p.Verify(req, t0)
	require.NoError(t, err, "vector")
}

// oracleHMAC is an independent HMAC-SHA256, to check presets whose
// providers publish no vector.
func oracleHMAC(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func TestZoom(t *testing.T) {
	const secret = "zoom-secret-token"
	p := mustNew(t, "zoom", secret)
	body := `{"event":"meeting.ended","event_ts":1700000000999,"payload":{"object":{"id":"1"}}}`
	ts := "1700000000"
	sig := "v0=" + hex.EncodeToString(oracleHMAC(secret, "v0:"+ts+":"+body))
	d, err := p.Verify(request(hdr(zoomSignatureHeader, sig, zoomTimestampHeader, ts), body), t0)
	require.NoError(t, err, "oracle signature: %+v", d)
	require.Equal(t, "meeting.ended", d.Type, "oracle signature: %+v", d)
	require.True(t, strings.HasPrefix(d.ID, "sha256:"), "oracle signature: ID %q, want a sha256: digest ID", d.ID)
	// The URL validation handshake.
	val := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1700000000000,"event":"endpoint.url_validation"}`
	sig = "v0=" + hex.EncodeToString(oracleHMAC(secret, "v0:"+ts+":"+val))
	d, err = p.Verify(request(hdr(zoomSignatureHeader, sig, zoomTimestampHeader, ts), val), t0)
	require.NoError(t, err, "url_validation: %+v", d)
	require.NotNil(t, d.Reply, "url_validation: %+v", d)
	want := `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"` + hex.EncodeToString(oracleHMAC(secret, "qgg8vlvZRS6UYooatFL8Aw")) + `"}`
	assert.Equal(t, want, string(d.Reply.Body), "reply body")
	assert.Equal(t, "application/json", d.Reply.ContentType, "reply content type")
	assert.Equal(t, http.StatusOK, d.Reply.Status, "reply status")
	// An unsigned validation request is refused, not answered.
	_, err = p.Verify(request(hdr(zoomTimestampHeader, ts), val), t0)
	assert.ErrorIs(t, err, verify.ErrMissingSignature, "unsigned url_validation")
	bad := `{"event":"endpoint.url_validation","payload":{}}`
	sig = "v0=" + hex.EncodeToString(oracleHMAC(secret, "v0:"+ts+":"+bad))
	_, err = p.Verify(request(hdr(zoomSignatureHeader, sig, zoomTimestampHeader, ts), bad), t0)
	assert.ErrorIs(t, err, verify.ErrMissingHeader, "url_validation without plainToken")
}

func TestTwitch(t *testing.T) {
	const secret = "twitch-subscription-secret"
	p := mustNew(t, "twitch", secret)
	id, ts := "e76c6bd4-55c9-4987-8304-da1588d8988b", "2023-11-14T22:13:20.634234626Z"
	now, _ := time.Parse(time.RFC3339Nano, ts)
	body := `{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2"}}`
	sig := "sha256=" + hex.EncodeToString(oracleHMAC(secret, id+ts+body))
	h := hdr(twitchIDHeader, id, twitchTimestampHeader, ts, twitchSignatureHeader, sig,
		twitchTypeHeader, "webhook_callback_verification", twitchSubTypeHeader, "channel.follow")
	d, err := p.Verify(request(h, body), now)
	require.NoError(t, err, "verification: %+v", d)
	require.NotNil(t, d.Reply, "verification: %+v", d)
	assert.Equal(t, "pogchamp-kappa-360noscope-vohiyo", string(d.Reply.Body), "reply body")
	assert.True(t, strings.HasPrefix(d.Reply.ContentType, "text/plain"), "reply content type %q, want text/plain", d.Reply.ContentType)
	assert.Equal(t, id, d.ID, "delivery %+v", d)
	assert.WithinDuration(t, now, d.Timestamp, 0, "delivery %+v", d)
	// The same message under another ID fails: the ID is signed.
	h2 := h.Clone()
	h2.Set(twitchIDHeader, "other")
	_, err = p.Verify(request(h2, body), now)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "changed message ID")
	h3 := h.Clone()
	h3.Set(twitchTypeHeader, "revocation")
	d, err = p.Verify(request(h3, body), now)
	if assert.NoError(t, err, "revocation") {
		assert.Equal(t, "revocation", d.Type, "revocation: %+v", d)
		assert.Nil(t, d.Reply, "revocation: %+v", d)
	}
	h4 := h.Clone()
	h4.Set(twitchTimestampHeader, "1700000000")
	_, err = p.Verify(request(h4, body), now)
	assert.ErrorIs(t, err, verify.ErrMalformedTimestamp, "unix timestamp")
}

func TestDiscordPings(t *testing.T) {
	p, _ := asymNew(t, "discord")
	for _, tc := range []struct {
		name, body string
		status     int
		reply      string
	}{
		{"interaction PING", `{"id":"1","application_id":"2","type":1,"token":"t","version":1}`, http.StatusOK, `{"type":1}`},
		{"webhook event PING", `{"version":1,"application_id":"2","type":0}`, http.StatusNoContent, ``},
	} {
		d, err := p.Verify(asymSigned(t, p, Outgoing{Body: []byte(tc.body), Timestamp: t0}), t0)
		require.NoError(t, err, "%s: %+v", tc.name, d)
		require.NotNil(t, d.Reply, "%s: %+v", tc.name, d)
		assert.Equal(t, tc.status, d.Reply.Status, "%s: reply status", tc.name)
		assert.Equal(t, tc.reply, string(d.Reply.Body), "%s: reply body", tc.name)
	}
	ev := `{"version":1,"application_id":"2","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{}}}`
	d, err := p.Verify(asymSigned(t, p, Outgoing{Body: []byte(ev), Timestamp: t0}), t0)
	if assert.NoError(t, err, "webhook event") {
		assert.Nil(t, d.Reply, "webhook event: %+v", d)
		assert.Equal(t, "APPLICATION_AUTHORIZED", d.Type, "webhook event: %+v", d)
		assert.NotEmpty(t, d.ID, "webhook event: %+v", d)
	}
	// A forged PING is refused: Discord's security checks send these.
	forged := asymSigned(t, p, Outgoing{Body: []byte(`{"type":1}`), Timestamp: t0})
	forged.Body = []byte(`{"type":1} `)
	_, err = p.Verify(forged, t0)
	assert.Equal(t, http.StatusUnauthorized, verify.StatusCode(err), "forged PING: %v", err)
}

func TestMetaSubscribe(t *testing.T) {
	p := mustNew(t, "whatsapp", "app-secret", WithVerifyToken("my-verify-token"))
	get := func(q string) verify.Request {
		return verify.Request{Method: http.MethodGet, URL: "https://hooks.example.com/wa?" + q, Header: http.Header{}}
	}
	d, err := p.Verify(get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token"), t0)
	require.NoError(t, err, "subscribe: %+v", d)
	require.NotNil(t, d.Reply, "subscribe: %+v", d)
	require.Equal(t, "1158201444", string(d.Reply.Body), "subscribe: %+v", d)
	for q, want := range map[string]error{
		"hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong":                                                     verify.ErrSignatureMismatch,
		"hub.mode=subscribe&hub.challenge=1":                                                                            verify.ErrSignatureMismatch,
		"hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=my-verify-token":                                         verify.ErrMissingHeader,
		"hub.mode=subscribe&hub.verify_token=my-verify-token":                                                           verify.ErrMissingHeader,
		"hub.mode=subscribe&hub.challenge=" + strings.Repeat("9", maxChallenge+1) + "&hub.verify_token=my-verify-token": verify.ErrMissingHeader,
	} {
		_, err := p.Verify(get(q), t0)
		assert.ErrorIs(t, err, want, "%.60s", q)
	}
	noToken := mustNew(t, "meta", "app-secret")
	_, err = noToken.Verify(get("hub.mode=subscribe&hub.challenge=1&hub.verify_token=x"), t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "no verify token configured")
}

func TestDropboxChallenge(t *testing.T) {
	p := mustNew(t, "dropbox", "app-secret")
	d, err := p.Verify(verify.Request{Method: http.MethodGet, URL: "https://hooks.example.com/dbx?challenge=abc%3Cscript%3E", Header: http.Header{}}, t0)
	require.NoError(t, err, "challenge: %+v", d)
	require.NotNil(t, d.Reply, "challenge: %+v", d)
	require.Equal(t, "abc<script>", string(d.Reply.Body), "challenge: %+v", d)
	require.True(t, strings.HasPrefix(d.Reply.ContentType, "text/plain"), "challenge: content type %q, want text/plain", d.Reply.ContentType)
	_, err = p.Verify(verify.Request{Method: http.MethodGet, URL: "https://hooks.example.com/dbx", Header: http.Header{}}, t0)
	assert.ErrorIs(t, err, verify.ErrMissingHeader, "GET without challenge")
	body := `{"list_folder":{"accounts":["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}}`
	sig := hex.EncodeToString(oracleHMAC("app-secret", body))
	_, err = p.Verify(request(hdr(dropboxSignatureHeader, sig), body), t0)
	assert.NoError(t, err, "oracle signature")
}

func TestOkta(t *testing.T) {
	p := mustNew(t, "okta", "my-shared-secret", WithSecret("next-secret"))
	// The verification request as Okta documents it (support article
	// "Unable to verify event hook"): the secret header comes with it.
	get := verify.Request{Method: http.MethodGet, URL: "https://example.com/event-hook/",
		Header: hdr("Authorization", "my-shared-secret", oktaChallengeHeader, "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg")}
	d, err := p.Verify(get, t0)
	require.NoError(t, err, "verification: %+v", d)
	require.NotNil(t, d.Reply, "verification: %+v", d)
	require.Equal(t, `{"verification":"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}`, string(d.Reply.Body), "verification: %+v", d)
	require.Equal(t, "application/json", d.Reply.ContentType, "verification: %+v", d)
	bad := cloneReq(get)
	bad.Header.Set("Authorization", "my-shared-secreT")
	_, err = p.Verify(bad, t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "wrong secret")
	bad.Header.Del("Authorization")
	_, err = p.Verify(bad, t0)
	assert.ErrorIs(t, err, verify.ErrMissingSignature, "no secret")
	rot := cloneReq(get)
	rot.Header.Set("Authorization", "next-secret")
	d, err = p.Verify(rot, t0)
	if assert.NoError(t, err, "rotation secret") {
		assert.Equal(t, 1, d.SecretIndex, "rotation secret: %+v", d)
	}
	noChallenge := cloneReq(get)
	noChallenge.Header.Del(oktaChallengeHeader)
	_, err = p.Verify(noChallenge, t0)
	assert.ErrorIs(t, err, verify.ErrMissingHeader, "GET without challenge")
	custom := mustNew(t, "okta", "s3", WithAuthHeader("x-hook-secret"))
	_, err = custom.Verify(request(hdr("X-Hook-Secret", "s3"), `{"eventId":"e"}`), t0)
	assert.NoError(t, err, "WithAuthHeader")
	assert.Equal(t, "X-Hook-Secret", custom.Info().SignatureHeader, "Info().SignatureHeader")
}

func TestPlaidKeySource(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privText, _ := keys.MarshalP256PrivateKey(priv)
	signer := mustNew(t, "plaid", privText)
	body := []byte(`{"webhook_type":"ITEM","webhook_code":"ERROR","item_id":"x"}`)
	req := asymSigned(t, signer, Outgoing{Body: body, Timestamp: t0})
	token, err := jwt.Parse(req.Header.Get(plaidVerificationHeader))
	require.NoError(t, err)
	var calls atomic.Int64
	src := KeySourceFunc(func(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
		calls.Add(1)
		if kid != token.Kid {
			return nil, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
		}
		_, ok := ctx.Deadline()
		assert.True(t, ok, "key source called without a deadline")
		return &priv.PublicKey, nil
	})
	p, err := newPlaid("", WithKeySource(src))
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		d, err := p.Verify(req, t0)
		require.NoError(t, err, "Verify #%d", i)
		assert.Equal(t, "ITEM.ERROR", d.Type, "delivery %+v", d)
		assert.True(t, strings.HasPrefix(d.ID, "jwt:"), "delivery ID %q, want a jwt: ID", d.ID)
	}
	assert.Equal(t, int64(1), calls.Load(), "key source calls (cached)")
	// An unknown kid is a 401; a second unknown kid within a second is
	// not looked up at all (503).
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forgedTok, _ := jwt.SignES256(other, "unknown-kid", []byte(`{"iat":1700000000,"request_body_sha256":"`+hex.EncodeToString(sha256Sum(body))+`"}`))
	forged := cloneReq(req)
	forged.Header.Set(plaidVerificationHeader, forgedTok)
	p.source.interval = 0
	_, err = p.Verify(forged, t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "unknown kid")
	forgedTok2, _ := jwt.SignES256(other, "unknown-kid-2", []byte(`{"iat":1700000000,"request_body_sha256":"00"}`))
	forged.Header.Set(plaidVerificationHeader, forgedTok2)
	p.source.interval = time.Hour
	_, err = p.Verify(forged, t0)
	assert.ErrorIs(t, err, ErrKeyUnavailable, "rate-limited lookup")
	assert.Equal(t, http.StatusServiceUnavailable, verify.StatusCode(err), "rate-limited lookup: %v", err)
	assert.Equal(t, int64(2), calls.Load(), "key source calls")
	// A failing source is a 503, so that Plaid retries.
	down, _ := NewPlaid("", WithKeySource(KeySourceFunc(func(context.Context, string) (*ecdsa.PublicKey, error) {
		return nil, errors.New("connection refused")
	})))
	_, err = down.Verify(req, t0)
	assert.Equal(t, http.StatusServiceUnavailable, verify.StatusCode(err), "failing source: %v", err)
	_, err = NewPlaid("")
	assert.ErrorIs(t, err, verify.ErrEmptySecret, "no key and no source")
	// A static JWK for another kid does not match; with the right kid it does.
	jwk, _ := keys.MarshalP256JWK("other-kid", &priv.PublicKey)
	_, err = mustNew(t, "plaid", string(jwk)).Verify(req, t0)
	assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "JWK with another kid")
	jwk, _ = keys.MarshalP256JWK(token.Kid, &priv.PublicKey)
	_, err = mustNew(t, "plaid", string(jwk)).Verify(req, t0)
	assert.NoError(t, err, "JWK with the token's kid")
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestPlaidRejectsTokens(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privText, _ := keys.MarshalP256PrivateKey(priv)
	p := mustNew(t, "plaid", privText)
	body := []byte(`{"webhook_type":"ITEM","webhook_code":"ERROR"}`)
	sum := hex.EncodeToString(sha256Sum(body))
	enc := base64.RawURLEncoding.EncodeToString
	tok := func(alg, claims string) string {
		input := enc([]byte(`{"alg":"`+alg+`","kid":"`+implOf(p).(*plaid).kid+`","typ":"JWT"}`)) + "." + enc([]byte(claims))
		sig, _ := keys.SignP256Raw(priv, &verify.Message{Prefix: [4]string{input}})
		return input + "." + enc(sig)
	}
	for name, tc := range map[string]struct {
		tok  string
		want error
	}{
		"not a JWT":     {"abc", verify.ErrMalformedSignature},
		"alg ES384":     {tok("ES384", `{"iat":1700000000,"request_body_sha256":"`+sum+`"}`), verify.ErrSignatureMismatch},
		"no iat":        {tok("ES256", `{"request_body_sha256":"`+sum+`"}`), verify.ErrMissingTimestamp},
		"stale iat":     {tok("ES256", `{"iat":1699999000,"request_body_sha256":"`+sum+`"}`), verify.ErrTimestampTooOld},
		"wrong hash":    {tok("ES256", `{"iat":1700000000,"request_body_sha256":"`+strings.Repeat("0", 64)+`"}`), verify.ErrSignatureMismatch},
		"no hash":       {tok("ES256", `{"iat":1700000000}`), verify.ErrSignatureMismatch},
		"good":          {tok("ES256", `{"iat":1700000000,"request_body_sha256":"`+sum+`"}`), nil},
		"uppercase hex": {tok("ES256", `{"iat":1700000000,"request_body_sha256":"`+strings.ToUpper(sum)+`"}`), nil},
	} {
		_, err := p.Verify(request(hdr(plaidVerificationHeader, tc.tok), string(body)), t0)
		if tc.want == nil {
			assert.NoError(t, err, name)
		} else {
			assert.ErrorIs(t, err, tc.want, name)
		}
	}
}

func TestAsymmetricErrorsDoNotLeak(t *testing.T) {
	for _, a := range asymPresets() {
		p, secret := asymNew(t, a.name)
		r := asymSigned(t, p, a.outgoing())
		sig := r.Header.Get(a.sigH)
		r.Body = append(r.Body, 'x')
		_, err := p.Verify(r, t0)
		if err == nil && a.name == "okta" {
			continue
		}
		require.Error(t, err, "%s: tampered body verified", a.name)
		msg := err.Error()
		assert.NotContains(t, msg, secret, "%s: error leaks the secret", a.name)
		if len(sig) > 16 {
			assert.NotContains(t, msg, sig, "%s: error leaks the signature", a.name)
		}
		assert.NotContains(t, msg, a.body[:16], "%s: error leaks the body", a.name)
		s := fmt.Sprintf("%+v %#v", p, p)
		assert.NotContains(t, s, secret, "%s: %%+v of the preset prints the secret", a.name)
	}
}
