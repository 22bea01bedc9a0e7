package hardening

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// fuzzMethods are the methods FuzzVerifyRequest picks from by index.
var fuzzMethods = []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodHead,
	http.MethodDelete, http.MethodPatch, http.MethodOptions, "post"}

// fuzzEncodings are the Content-Encoding values FuzzVerifyRequest picks
// from by index ("" sets none). Those for which compressed is true must be
// refused with 415 (plan test 15): the receiver never decompresses.
var fuzzEncodings = []struct {
	value      string
	compressed bool
}{{"", false}, {"identity", false}, {"gzip", true}, {"br", true}, {"gzip, identity", true}, {"IDENTITY", false}, {"x-unknown", true}}

// presetReceiver is one preset behind its own Receiver, with a twin preset
// built from a different secret.
type presetReceiver struct {
	name   string
	secret string
	p      *providers.Preset
	twin   *providers.Preset
	recv   *hookguard.Receiver
	get    bool // the preset answers a GET handshake
}

// fuzzSecret returns a secret for the preset called name that is the same
// in every process, so that seeds signed with it stay valid in the fuzz
// workers and in testdata/fuzz: derived from label in the form
// providers.TestSecret uses for the preset ("whsec_" base64, hex Ed25519
// key, base64 PKCS#8 P-256 key, user:password). A form it does not know
// falls back to a random TestSecret: the checks below stay sound, only
// the seeds of that preset no longer verify in other processes.
func fuzzSecret(tb testing.TB, name, label string) string {
	tb.Helper()
	random, err := testsecret.For(name)
	if err != nil {
		tb.Fatalf("TestSecret(%q): %v", name, err)
	}
	seed := sha256.Sum256([]byte("hookguard fuzz " + name + " " + label))
	var det string
	raw, hexErr := hex.DecodeString(random)
	der, b64Err := base64.StdEncoding.DecodeString(random)
	switch {
	case strings.HasPrefix(random, "whsec_"):
		det = "whsec_" + base64.StdEncoding.EncodeToString(seed[:])
	case hexErr == nil && len(raw) == ed25519.PrivateKeySize:
		det = hex.EncodeToString(ed25519.NewKeyFromSeed(seed[:]))
	case b64Err == nil:
		if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
			if _, ok := k.(*ecdsa.PrivateKey); ok {
				if pk, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:]); err == nil {
					det, _ = keys.MarshalP256PrivateKey(pk)
				}
			}
		}
	case strings.Contains(random, ":"):
		det = "hookguard:" + hex.EncodeToString(seed[:12])
	}
	if det != "" {
		if _, err := providers.New(name, det); err == nil {
			return det
		}
	}
	return random
}

// newFuzzPreset builds the preset called name for secret, with a verify
// token where the preset takes one (Meta's GET subscription handshake).
func newFuzzPreset(tb testing.TB, name, secret string) *providers.Preset {
	tb.Helper()
	if p, err := providers.New(name, secret, providers.WithVerifyToken("fuzz-token")); err == nil {
		return p
	}
	p, err := providers.New(name, secret)
	if err != nil {
		tb.Fatalf("providers.New(%q): %v", name, err)
	}
	return p
}

// parseHeaderBlock reads "Name: value" lines leniently into an
// http.Header, keeping only what net/http's server would let through: a
// token name, a value without control characters other than tab, trimmed
// of spaces and tabs. A "Host" line sets the returned host instead, when
// it looks like one.
func parseHeaderBlock(block string) (h http.Header, host string) {
	h = http.Header{}
	for line := range strings.SplitSeq(block, "\n") {
		name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":")
		if !ok || !validHeaderName(name) || !validHeaderValue(value) {
			continue
		}
		value = strings.Trim(value, " \t")
		if strings.EqualFold(name, "Host") {
			if value != "" && strings.Trim(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == "" {
				host = value
			}
			continue
		}
		h.Add(name, value)
	}
	return h, host
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// headerBlock renders h as the "Name: value" lines parseHeaderBlock reads.
func headerBlock(h http.Header) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

// queryChars keeps the bytes a request target may carry in its query.
func queryChars(q string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '#' {
			return -1
		}
		return r
	}, q)
}

// FuzzVerifyRequest is plan test 3's whole-request target (catalogue
// entries A5, A7, A17; T15 and T17 for the status contract). A request
// built from a fuzzed method, Content-Encoding (and, in bit 7, an unknown
// Content-Length, as a chunked body has), query, header block and body is
// served through a Receiver of every preset in providers.Names(), each
// built once with a fixed clock. Every answer must:
//   - not panic, and never be 3xx, 404, 410 or 500; a 5xx only as 503
//     with Retry-After (R3);
//   - be 405 with an Allow header for a method other than POST, or GET
//     on a preset without a GET handshake;
//   - be 415 for a POST with a compressed Content-Encoding;
//   - for a POST answered 2xx (accepted, duplicate or signed handshake):
//     be refused by the same preset holding another secret, so that no
//     acceptance is independent of the secret (a forgery such as "v1,"
//     in CVE-2024-21491) — random bytes never carry a valid MAC, and the
//     seeds' genuine signatures fail under the twin's secret;
//   - carry a one-line body for every rejection and duplicate, and never
//     the secret unless the request carried it (A6).
//
// Seeds are one validly signed request per preset, with secrets derived
// deterministically so that they verify in every fuzz worker, plus GET
// handshakes and a compressed and a chunked request.
func FuzzVerifyRequest(f *testing.F) {
	var targets []*presetReceiver
	for _, name := range providers.Names() {
		secret := fuzzSecret(f, name, "receiver")
		tg := &presetReceiver{
			name:   name,
			secret: secret,
			p:      newFuzzPreset(f, name, secret),
			twin:   newFuzzPreset(f, name, fuzzSecret(f, name, "twin")),
		}
		tg.get = slices.Contains(tg.p.Methods(), http.MethodGet)
		r, err := hookguard.New(tg.p, testkit.NewCounter(), hookguard.WithClock(fixedClock))
		if err != nil {
			f.Fatalf("hookguard.New(%s): %v", name, err)
		}
		f.Cleanup(func() { shutdown(f, r) })
		tg.recv = r
		targets = append(targets, tg)
	}
	if len(targets) < 6 {
		f.Fatalf("providers.Names() lists %d presets, want at least the six documented ones", len(targets))
	}

	post, get := uint8(0), uint8(1)
	for _, tg := range targets {
		id := "evt_seed_" + tg.name
		body := presetBody(tg.name, id, 8)
		o := providers.Outgoing{Body: body, ID: id, Type: "push", Timestamp: t0, URL: hookURL, ContentType: contentTypeFor(tg.name)}
		var h http.Header
		var err error
		body, h, err = tg.p.SignBody(o) // Linear, Mailgun: the signed data lives in the body
		if err != nil {
			continue // a preset that cannot sign (none today) still gets the other seeds
		}
		// The seeds must reach the verified path, in every worker: the
		// seed verifies, and its secret is the same in every process.
		if _, err := tg.p.Verify(verify.Request{Method: http.MethodPost, URL: hookURL, Header: h, Body: body}, t0); err != nil {
			f.Fatalf("%s: the seed does not verify: %v", tg.name, err)
		}
		if fuzzSecret(f, tg.name, "receiver") != tg.secret {
			f.Logf("%s: no deterministic secret; its seed verifies only in the process that signed it", tg.name)
		}
		f.Add(post, uint8(0), "", headerBlock(h), body)
	}
	f.Add(get, uint8(0), "challenge=abc", "", []byte(nil))
	f.Add(get, uint8(0), "hub.mode=subscribe&hub.challenge=1&hub.verify_token=fuzz-token", "", []byte(nil))
	if i := slices.IndexFunc(targets, func(tg *presetReceiver) bool { return tg.name == "okta" }); i >= 0 {
		f.Add(get, uint8(0), "", "Authorization: "+targets[i].secret+"\nX-Okta-Verification-Challenge: xyz\n", []byte(nil))
	}
	f.Add(post, uint8(2), "", "Content-Type: application/json\nStripe-Signature: t=1700000000,v1=00\n", []byte(`{"id":"evt_1"}`))
	f.Add(post, uint8(0x80), "bodySHA256=00", "Content-Type: application/x-www-form-urlencoded\nX-Twilio-Signature: AAAA\nHost: example.com:443\n", []byte("a=1&a=2&%zz"))
	f.Add(uint8(2), uint8(0), "", "Webhook-Id: x\nWebhook-Signature: v1,\nWebhook-Timestamp: 1700000000\n", []byte("{}"))

	f.Fuzz(func(t *testing.T, methodIdx, enc uint8, query, block string, body []byte) {
		method := fuzzMethods[int(methodIdx)%len(fuzzMethods)]
		coding := fuzzEncodings[int(enc&0x7f)%len(fuzzEncodings)]
		header, host := parseHeaderBlock(block)
		if coding.value != "" {
			header.Set("Content-Encoding", coding.value)
		}
		query = queryChars(query)
		inRequest := block + "\x00" + query + "\x00" + string(body)
		for _, tg := range targets {
			req := httptest.NewRequest(method, "/hook", bytes.NewReader(body))
			if query != "" {
				req.URL.RawQuery = query
				req.RequestURI = "/hook?" + query
			}
			if host != "" {
				req.Host = host
			}
			if enc&0x80 != 0 {
				req.ContentLength = -1
			}
			req.Header = header.Clone()
			// As if over TLS: shared-token presets refuse plain HTTP
			// first, and this fuzzes what comes after that check.
			req.TLS = &tls.ConnectionState{HandshakeComplete: true}
			w := testkit.Serve(tg.recv, req)
			code, got := w.Code, w.Body.String()
			where := func() string {
				return fmt.Sprintf("%s: %s ?%q Content-Encoding %q, header %q, %d-byte body: status %d, body %q",
					tg.name, method, query, coding.value, header, len(body), code, got)
			}
			switch {
			case code < 200 || code > 599:
				t.Fatalf("%s: not an HTTP status", where())
			case code >= 300 && code < 400:
				t.Fatalf("%s: 3xx is a failed delivery to every sender (A21)", where())
			case code == http.StatusNotFound || code == http.StatusGone:
				t.Fatalf("%s: 404/410 make senders disable the endpoint (R3)", where())
			case code >= 500 && (code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == ""):
				t.Fatalf("%s: a 5xx must be 503 with Retry-After (A5, R3)", where())
			}
			postLike := method == http.MethodPost
			if !postLike && (method != http.MethodGet || !tg.get) {
				if code != http.StatusMethodNotAllowed || !strings.Contains(w.Header().Get("Allow"), http.MethodPost) {
					t.Fatalf("%s: want 405 with Allow: POST", where())
				}
			}
			if postLike && coding.compressed && code != http.StatusUnsupportedMediaType {
				t.Fatalf("%s: a compressed body must be refused with 415 (plan test 15)", where())
			}
			dup := w.Header().Get(hookguard.DuplicateHeader) != ""
			if code < 300 && postLike {
				vr := verify.Request{Method: method, URL: "https://" + req.Host + req.RequestURI, Header: header, Body: body}
				if _, err := tg.twin.Verify(vr, t0); err == nil {
					t.Fatalf("%s: accepted, and a preset holding another secret accepts it too: acceptance does not depend on the secret", where())
				}
			}
			if code >= 400 || dup {
				if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") || strings.Contains(got, "\r") {
					t.Fatalf("%s: a rejection or duplicate answer must be one line", where())
				}
			}
			if !strings.Contains(inRequest, tg.secret) && (strings.Contains(got, tg.secret) || strings.Contains(fmt.Sprint(w.Header()), tg.secret)) {
				t.Fatalf("%s: the answer holds the secret (A6)", where())
			}
		}
	})
}
