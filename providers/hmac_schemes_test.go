package providers

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Header parsing and per-preset behaviour of the shared-secret presets.

func TestStampHeaderParsing(t *testing.T) {
	const hex64 = "854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7"
	tests := []struct {
		provider string
		name     string
		edit     func(v string) string
		want     error
	}{
		{"paddle", "spaces around entries", func(v string) string { return " " + strings.ReplaceAll(v, ";", " ;\t") + " " }, nil},
		{"paddle", "uppercase hex", func(v string) string { i := strings.Index(v, "h1=") + 3; return v[:i] + strings.ToUpper(v[i:]) }, nil},
		{"paddle", "comma is not Paddle's separator", func(v string) string { return strings.ReplaceAll(v, ";", ",") }, verify.ErrMalformedSignature},
		{"paddle", "h1 not hex", func(v string) string { ts, _, _ := strings.Cut(v, ";"); return ts + ";h1=" + strings.Repeat("zz", 32) }, verify.ErrMalformedSignature},
		{"paddle", "no ts", func(v string) string { _, sig, _ := strings.Cut(v, ";"); return sig }, verify.ErrMissingTimestamp},
		{"paddle", "two different ts", func(v string) string { return v + ";ts=1" }, verify.ErrMalformedTimestamp},
		{"paddle", "ts not a number", func(v string) string { _, sig, _ := strings.Cut(v, ";"); return "ts=17x;" + sig }, verify.ErrMalformedTimestamp},
		{"paddle", "seventeen h1", func(v string) string { return v + strings.Repeat(";h1="+hex64, verify.MaxSignatures) }, verify.ErrMalformedSignature},
		{"paddle", "sixteen h1", func(v string) string { return v + strings.Repeat(";h1="+hex64, verify.MaxSignatures-1) }, nil},
		{"paddle", "huge header", func(v string) string { return v + ";" + strings.Repeat("x", maxHeaderBytes) }, verify.ErrMalformedSignature},
		{"calendly", "empty entries", func(v string) string { return ",," + strings.ReplaceAll(v, ",", ",,") + "," }, nil},
		{"calendly", "unknown keys ignored", func(v string) string { return v + ",v0=" + hex64 + ",x" }, nil},
		{"calendly", "only v0", func(v string) string { ts, _, _ := strings.Cut(v, ","); return ts + ",v0=" + hex64 }, verify.ErrMalformedSignature},
		{"calendly", "v1 truncated", func(v string) string { return v[:len(v)-2] }, verify.ErrMalformedSignature},
		{"mux", "bad v1 beside good one", func(v string) string { return v + ",v1=nothex" }, nil},
		{"mux", "same t twice", func(v string) string { ts, _, _ := strings.Cut(v, ","); return ts + "," + v }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.name, func(t *testing.T) {
			p := mustNew(t, tt.provider, "k")
			req := signFor(t, p, Outgoing{Body: []byte(`{"id":"1"}`)})
			key := p.Info().SignatureHeader
			req.Header[http.CanonicalHeaderKey(key)] = []string{tt.edit(req.Header.Get(key))}
			_, err := p.Verify(req, t0)
			wantErr(t, err, tt.want, tt.provider)
		})
	}
}

func TestBodyHeaderParsing(t *testing.T) {
	tests := []struct {
		provider string
		name     string
		edit     func(v string) string
		want     error
	}{
		{"bitbucket", "uppercase prefix and hex", strings.ToUpper, nil},
		{"bitbucket", "surrounding whitespace", func(v string) string { return " \t" + v + " " }, nil},
		{"bitbucket", "no prefix", func(v string) string { return strings.TrimPrefix(v, "sha256=") }, verify.ErrMalformedSignature},
		{"bitbucket", "GitHub's sha1 in the same header", func(v string) string { return "sha1=" + v[len(v)-40:] }, verify.ErrMalformedSignature},
		{"intercom", "sha256 prefix on a SHA-1 scheme", func(v string) string { return "sha256=" + strings.TrimPrefix(v, "sha1=") }, verify.ErrMalformedSignature},
		{"intercom", "truncated", func(v string) string { return v[:len(v)-2] }, verify.ErrMalformedSignature},
		{"typeform", "unpadded base64", func(v string) string { return strings.TrimRight(v, "=") }, nil},
		{"typeform", "url-safe base64", func(v string) string { return strings.NewReplacer("+", "-", "/", "_").Replace(v) }, nil},
		{"typeform", "hex instead of base64", func(string) string { return "sha256=" + strings.Repeat("ab", 32) }, verify.ErrMalformedSignature},
		{"vercel", "sha1= prefix is not Vercel's format", func(v string) string { return "sha1=" + v }, verify.ErrMalformedSignature},
		{"vercel", "uppercase hex", strings.ToUpper, nil},
		{"lemonsqueezy", "SHA-1 length", func(v string) string { return v[:40] }, verify.ErrMalformedSignature},
		{"sentry", "odd length", func(v string) string { return v[:len(v)-1] }, verify.ErrMalformedSignature},
		{"linear", "longer hex", func(v string) string { return v + "00" }, verify.ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.name, func(t *testing.T) {
			p := mustNew(t, tt.provider, "k")
			req := signFor(t, p, Outgoing{Body: []byte(`{"id":"1"}`)})
			key := http.CanonicalHeaderKey(p.Info().SignatureHeader)
			req.Header[key] = []string{tt.edit(req.Header.Get(key))}
			_, err := p.Verify(req, t0)
			wantErr(t, err, tt.want, tt.provider)
		})
	}
	// One signature per line: a rotation, or a stray line before the real one.
	for _, name := range []string{"bitbucket", "intercom", "typeform", "vercel", "lemonsqueezy", "sentry"} {
		p := mustNew(t, name, "new")
		req := signFor(t, p, Outgoing{Body: []byte(`{}`)})
		key := http.CanonicalHeaderKey(p.Info().SignatureHeader)
		old := signFor(t, mustNew(t, name, "old"), Outgoing{Body: []byte(`{}`)}).Header.Get(key)
		req.Header[key] = []string{"junk", old, req.Header.Get(key)}
		d, err := p.Verify(req, t0)
		if assert.NoError(t, err, "%s with three lines", name) {
			assert.Equal(t, 0, d.SecretIndex, "%s with three lines: SecretIndex", name)
		}
	}
}

func TestGitLab(t *testing.T) {
	p := mustNew(t, "gitlab", "tok")
	req := signFor(t, p, Outgoing{Body: []byte(`{"object_kind":"push"}`), ID: "idem-1", Type: "Push Hook"})
	for _, k := range []string{"X-Gitlab-Token", "X-Gitlab-Event", "Idempotency-Key", "X-Gitlab-Event-Uuid", "X-Gitlab-Webhook-Uuid", "X-Gitlab-Instance"} {
		assert.NotEmpty(t, req.Header.Get(k), "Sign did not set %s", k)
	}
	// Idempotency-Key, the same on every retry (gitlab-org/gitlab MR
	// 160952), wins over X-Gitlab-Event-UUID; older GitLab sends only the
	// latter.
	req.Header.Set("X-Gitlab-Event-UUID", "event-uuid")
	d, _ := p.Verify(req, t0)
	assert.Equal(t, "idem-1", d.ID, "ID: want the Idempotency-Key")
	req.Header.Del("Idempotency-Key")
	d, _ = p.Verify(req, t0)
	assert.Equal(t, "event-uuid", d.ID, "ID: want X-Gitlab-Event-UUID")
	for _, tc := range []struct {
		name string
		vals []string
		want error
	}{
		{"exact token", []string{"tok"}, nil},
		{"surrounding whitespace", []string{" tok\t"}, nil},
		{"duplicated line", []string{"tok", "tok"}, nil},
		{"prefix of the token", []string{"to"}, verify.ErrSignatureMismatch},
		{"token plus a byte", []string{"tok2"}, verify.ErrSignatureMismatch},
		{"other case", []string{"TOK"}, verify.ErrSignatureMismatch},
		{"two different lines", []string{"tok", "other"}, verify.ErrMalformedSignature},
		{"empty", []string{""}, verify.ErrMalformedSignature},
		{"huge", []string{strings.Repeat("t", maxHeaderBytes+1)}, verify.ErrMalformedSignature},
	} {
		req.Header["X-Gitlab-Token"] = tc.vals
		_, err := p.Verify(req, t0)
		if tc.want == nil {
			assert.NoError(t, err, tc.name)
			continue
		}
		wantErr(t, err, tc.want, "gitlab")
	}
	// Content dedupe: the same body under a fresh ID has the same digest,
	// another body another one, and the digest depends on the token.
	d1, _ := p.Verify(signFor(t, p, Outgoing{Body: []byte(`{"a":1}`), ID: "x"}), t0)
	d2, _ := p.Verify(signFor(t, p, Outgoing{Body: []byte(`{"a":1}`), ID: "y"}), t0)
	d3, _ := p.Verify(signFor(t, p, Outgoing{Body: []byte(`{"a":2}`), ID: "x"}), t0)
	q := mustNew(t, "gitlab", "other")
	d4, _ := q.Verify(signFor(t, q, Outgoing{Body: []byte(`{"a":1}`), ID: "x"}), t0)
	assert.Equal(t, d1.Digest, d2.Digest, "digests: same body under another ID")
	assert.NotEqual(t, d1.Digest, d3.Digest, "digests: other body")
	assert.NotEqual(t, d1.Digest, d4.Digest, "digests: other token")
}

func TestPostmarkBasicAuth(t *testing.T) {
	p := mustNew(t, "postmark", "user:pa:ss")
	req := signFor(t, p, Outgoing{Body: []byte(`{"RecordType":"Bounce","ID":42}`)})
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("user:pa:ss")), req.Header.Get("Authorization"), "Authorization")
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, v string
		want    error
	}{
		{"lowercase scheme", "basic " + enc("user:pa:ss"), nil},
		{"wrong password", "Basic " + enc("user:pa:sS"), verify.ErrSignatureMismatch},
		{"wrong user", "Basic " + enc("usr:pa:ss"), verify.ErrSignatureMismatch},
		{"bearer", "Bearer " + enc("user:pa:ss"), verify.ErrMalformedSignature},
		{"not base64", "Basic %%%", verify.ErrMalformedSignature},
		{"no colon", "Basic " + enc("userpass"), verify.ErrMalformedSignature},
		{"too long", "Basic " + strings.Repeat("A", maxBasicAuth), verify.ErrMalformedSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req.Header.Set("Authorization", tc.v)
			d, err := p.Verify(req, t0)
			wantErr(t, err, tc.want, "postmark")
			if err == nil {
				assert.Equal(t, "Bounce", d.Type, "Type")
			}
		})
	}
}

func TestMailgunBody(t *testing.T) {
	p := mustNew(t, "mailgun", "key-1")
	sign := func(o Outgoing) verify.Request { return signFor(t, p, o) }
	req := sign(Outgoing{Body: []byte(`{"event-data":{"event":"opened"}}`), ID: "tok-1"})
	require.True(t, strings.HasPrefix(string(req.Body), `{"signature":{"timestamp":"1700000000","token":"tok-1","signature":"`), "SignBody body = %s", req.Body)
	require.True(t, strings.HasSuffix(string(req.Body), `"},"event-data":{"event":"opened"}}`), "SignBody body = %s", req.Body)
	// Mailgun's own layout, signature object last, verifies too.
	sig, _ := jsonscan.Field(req.Body, "signature", "signature")
	last := `{"event-data":{"event":"opened"},"signature":{"token":"tok-1","timestamp":"1700000000","signature":"` + sig + `"}}`
	d, err := p.Verify(request(nil, last), t0)
	if assert.NoError(t, err, "signature object last") {
		assert.Equal(t, "tok-1", d.ID, "signature object last: ID")
		assert.Equal(t, "opened", d.Type, "signature object last: Type")
	}
	// A random token when o.ID is empty, 50 characters as Mailgun's.
	d, err = p.Verify(sign(Outgoing{Body: []byte(`{}`)}), t0)
	if assert.NoError(t, err, "random token") {
		assert.Len(t, d.ID, 50, "random token")
	}
	for _, tc := range []struct {
		name, body string
		want       error
	}{
		{"no signature object", `{"event-data":{}}`, verify.ErrMissingSignature},
		{"not JSON", `signature=abc`, verify.ErrMissingSignature},
		{"signature not hex", `{"signature":{"timestamp":"1700000000","token":"t","signature":"zz"}}`, verify.ErrMalformedSignature},
		{"no timestamp", `{"signature":{"token":"t","signature":"` + sig + `"}}`, verify.ErrMissingTimestamp},
		{"timestamp not a number", `{"signature":{"timestamp":"soon","token":"t","signature":"` + sig + `"}}`, verify.ErrMalformedTimestamp},
		{"no token", `{"signature":{"timestamp":"1700000000","signature":"` + sig + `"}}`, verify.ErrMissingHeader},
		{"other token", `{"signature":{"timestamp":"1700000000","token":"tok-2","signature":"` + sig + `"}}`, verify.ErrSignatureMismatch},
		{"numeric timestamp", `{"signature":{"timestamp":1700000000,"token":"tok-1","signature":"` + sig + `"}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Verify(request(nil, tc.body), t0)
			wantErr(t, err, tc.want, "mailgun")
		})
	}
	_, _, err = p.(bodySigner).SignBody(Outgoing{Body: req.Body})
	assert.ErrorIs(t, err, ErrCannotSign, "SignBody of a signed body")
	_, _, err = p.(bodySigner).SignBody(Outgoing{Body: []byte(`[1]`)})
	assert.ErrorIs(t, err, ErrCannotSign, "SignBody of an array")
	// Sign alone cannot put the signature in the body.
	h, err := p.Sign(Outgoing{Body: []byte(`{}`)})
	assert.NoError(t, err, "Sign")
	assert.Equal(t, "application/json", h.Get("Content-Type"), "Sign: Content-Type")
	_, err = p.Verify(verify.Request{Header: h, Body: []byte(`{}`)}, t0)
	wantErr(t, err, verify.ErrMissingSignature, "mailgun")
}

func TestLinearBodyTimestamp(t *testing.T) {
	p := mustNew(t, "linear", "SECRET")
	ms := strconv.FormatInt(t0.UnixMilli(), 10)
	req := signFor(t, p, Outgoing{Body: []byte(` { "type":"Issue"}`)})
	require.Equal(t, ` {"webhookTimestamp":`+ms+`, "type":"Issue"}`, string(req.Body), "SignBody body")
	// A body that has the field keeps it, as sent.
	body := `{"type":"Issue","webhookTimestamp":` + strconv.FormatInt(t0.Add(-time.Hour).UnixMilli(), 10) + `}`
	old := signFor(t, p, Outgoing{Body: []byte(body)})
	assert.Equal(t, body, string(old.Body), "SignBody changed a body that has webhookTimestamp")
	_, err := p.Verify(old, t0)
	wantErr(t, err, verify.ErrTimestampTooOld, "linear")
	// Milliseconds, not seconds: a seconds value lies in 1970.
	sec := signFor(t, p, Outgoing{Body: []byte(`{"webhookTimestamp":` + strconv.FormatInt(t0.Unix(), 10) + `}`)})
	_, err = p.Verify(sec, t0)
	wantErr(t, err, verify.ErrTimestampTooOld, "linear")
	for _, tc := range []struct {
		body string
		want error
	}{
		{`{"type":"Issue"}`, verify.ErrMissingTimestamp},
		{`{"webhookTimestamp":"soon"}`, verify.ErrMalformedTimestamp},
		{`{"webhookTimestamp":-1}`, verify.ErrMalformedTimestamp},
		{`{"webhookTimestamp":1.7e12}`, verify.ErrMalformedTimestamp},
		{`{}`, verify.ErrMissingTimestamp},
	} {
		r := signed(t, p, Outgoing{Body: []byte(tc.body)}) // Sign: the body as given
		_, err := p.Verify(r, t0)
		wantErr(t, err, tc.want, "linear")
	}
	// An empty object gets the field without a trailing comma.
	e := signFor(t, p, Outgoing{Body: []byte(`{ }`)})
	assert.Equal(t, `{"webhookTimestamp":`+ms+` }`, string(e.Body), "SignBody of {}")
}

func TestSvixAliases(t *testing.T) {
	for _, name := range []string{"clerk", "resend"} {
		p := mustNew(t, name, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		req := signFor(t, p, Outgoing{Body: []byte(`{"type":"x.y"}`), ID: "msg_1"})
		assert.NotEmpty(t, req.Header.Get("Svix-Signature"), "%s signs with %v, want svix-* headers", name, req.Header)
		assert.Empty(t, req.Header.Get("Webhook-Signature"), "%s signs with %v, want svix-* headers", name, req.Header)
		assert.NotContains(t, []string{"Standard Webhooks", "Svix", ""}, p.Info().Title, "%s Title", name)
		req.Body = []byte(`{"type":"x.z"}`)
		_, err := p.Verify(req, t0)
		wantErr(t, err, verify.ErrSignatureMismatch, name)
	}
}

func TestPrependMember(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, `{"k":1}`},
		{` {"a":2}`, ` {"k":1,"a":2}`},
		{"{\n  \"a\": 2\n}", "{\"k\":1,\n  \"a\": 2\n}"},
		{"{\n}", "{\"k\":1\n}"},
	} {
		got, err := prependMember([]byte(tc.in), "k", []byte("1"))
		if assert.NoError(t, err, "prependMember(%q)", tc.in) {
			assert.Equal(t, tc.want, string(got), "prependMember(%q)", tc.in)
		}
	}
	for _, in := range []string{``, `[]`, `"s"`, ` `} {
		_, err := prependMember([]byte(in), "k", []byte("1"))
		assert.ErrorIs(t, err, ErrCannotSign, "prependMember(%q)", in)
	}
}
