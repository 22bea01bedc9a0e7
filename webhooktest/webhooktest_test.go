package webhooktest_test

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newProvider returns name's preset with a fresh test secret.
func newProvider(t *testing.T, name string) providers.Provider {
	t.Helper()
	secret, err := testsecret.For(name)
	require.NoError(t, err)
	p, err := providers.New(name, secret)
	require.NoError(t, err)
	return p
}

// body returns a body to sign for name, with the option setting its
// content type: its first fixture, or a generic event for presets without
// fixtures yet.
func body(name string) ([]byte, webhooktest.Option) {
	if fs := webhooktest.Fixtures(name); len(fs) > 0 {
		return fs[0].Body, webhooktest.WithContentType(fs[0].ContentType)
	}
	return []byte(`{"id":"evt_test_0001","type":"test.event","event_id":"Ev0TEST0001","created":1700000000}`), webhooktest.WithContentType("application/json")
}

// check verifies req with p at now, as a receiver would.
func check(p providers.Provider, req *http.Request, now time.Time) (verify.Delivery, error) {
	b := new(bytes.Buffer)
	_, _ = b.ReadFrom(req.Body)
	return p.Verify(verify.Request{Method: req.Method, URL: req.URL.String(), Header: req.Header, Body: b.Bytes()}, now)
}

// TestTamper checks, for every preset, that a request built by NewRequest
// verifies and that every tamper option makes it fail the way a receiver
// must see it fail.
func TestTamper(t *testing.T) {
	clock := webhooktest.NewClock(time.Unix(1716480205, 0))
	core := map[string]bool{"stripe": true, "github": true, "shopify": true, "slack": true, "standardwebhooks": true, "svix": true}
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			if !core[name] && len(webhooktest.Fixtures(name)) == 0 {
				t.Skipf("%s has no fixtures yet (TestFixtureIndex reports it); its body shape is unknown here", name)
			}
			p := newProvider(t, name)
			b, ct := body(name)
			valid := webhooktest.NewRequest(t, p, b, ct, webhooktest.WithClock(clock.Now), webhooktest.WithID("id-0001"))
			_, err := check(p, valid, clock.Now())
			require.NoError(t, err, "valid request")
			mismatch := []error{verify.ErrSignatureMismatch}
			if !core[name] {
				// A flipped character may also spoil the encoding of
				// a preset added later (an ECDSA DER signature).
				mismatch = append(mismatch, verify.ErrMalformedSignature)
			}
			cases := []struct {
				name string
				opt  webhooktest.Option
				want []error
			}{
				{"wrong secret", webhooktest.WithWrongSecret(), []error{verify.ErrSignatureMismatch}},
				{"flipped byte", webhooktest.WithFlippedByte(), []error{verify.ErrSignatureMismatch}},
				{"flipped signature", webhooktest.WithFlippedSignature(), mismatch},
				{"no signature", webhooktest.WithoutSignature(), []error{verify.ErrMissingSignature}},
			}
			if valid.Header.Get(p.Info().SignatureHeader) != "" {
				cases = append(cases, struct {
					name string
					opt  webhooktest.Option
					want []error
				}{"no signature header", webhooktest.WithoutHeader(p.Info().SignatureHeader), []error{verify.ErrMissingSignature}})
			}
			if p.Info().Timestamped {
				cases = append(cases, struct {
					name string
					opt  webhooktest.Option
					want []error
				}{"stale", webhooktest.WithTimestampOffset(-time.Hour), []error{verify.ErrTimestampTooOld}},
					struct {
						name string
						opt  webhooktest.Option
						want []error
					}{"future", webhooktest.WithTimestampOffset(time.Hour), []error{verify.ErrTimestampTooNew}})
			}
			for _, c := range cases {
				req, err := webhooktest.Sign(p, b, ct, webhooktest.WithClock(clock.Now), c.opt)
				if errors.Is(err, webhooktest.ErrCannotTamper) && !core[name] {
					// A token scheme signs no body; Mailgun's
					// signature is no header. Sign says so.
					t.Logf("%s: %v", c.name, err)
					continue
				}
				if !assert.NoError(t, err, "Sign with %s", c.name) {
					continue
				}
				_, err = check(p, req, clock.Now())
				if err != nil && !core[name] {
					// Presets added later answer in their own
					// words; rejected is what matters.
					continue
				}
				ok := false
				for _, w := range c.want {
					ok = ok || errors.Is(err, w)
				}
				assert.True(t, ok, "%s: Verify = %v; want one of %v", c.name, err, c.want)
			}
			if !p.Info().Timestamped {
				req := webhooktest.NewRequest(t, p, b, ct, webhooktest.WithClock(clock.Now), webhooktest.WithTimestampOffset(-time.Hour))
				_, err := check(p, req, clock.Now())
				assert.NoError(t, err, "%s signs no timestamp, yet an old request fails", name)
			}
		})
	}
}

// TestFixturesThroughReceiver sends every fixture, signed by its provider,
// to a hookguard receiver and checks the handled event.
func TestFixturesThroughReceiver(t *testing.T) {
	core := map[string]bool{"stripe": true, "github": true, "shopify": true, "slack": true, "standardwebhooks": true, "svix": true}
	for _, f := range webhooktest.AllFixtures() {
		t.Run(f.Name, func(t *testing.T) {
			p := newProvider(t, f.Provider)
			rec, recv := newReceiver(t, p, accept)
			req := webhooktest.FixtureRequest(t, p, f.Name)
			if f.Provider == "slack" && strings.Contains(string(f.Body), `"url_verification"`) {
				res := rec.Do(t, recv, req) // returns at once: a handshake hands nothing on
				assert.Equal(t, http.StatusOK, res.Status, "handshake status")
				assert.GreaterOrEqual(t, len(res.Body), 20, "handshake body %q: want the challenge", res.Body)
				assert.Contains(t, string(f.Body), string(res.Body), "handshake body must be the challenge from the request")
				assert.Nil(t, res.Handled, "a handshake hands no event on")
				assert.Empty(t, rec.Handled(), "a handshake hands no event on")
				return
			}
			res := rec.Do(t, recv, req)
			require.Equal(t, http.StatusOK, res.Status, "answered %q, dead letter %v", res.Body, res.DeadLetter)
			require.NotNil(t, res.Handled, "answered %q, dead letter %v; want a handled event", res.Body, res.DeadLetter)
			ev := *res.Handled
			assert.Equal(t, f.Provider, ev.Provider, "event provider")
			if !p.Info().SignedInBody {
				assert.Equal(t, f.Body, ev.Body, "event body differs from the fixture")
			}
			if f.Type != "" {
				assert.Equal(t, f.Type, ev.Type, "event type must be the sidecar's")
			}
			// Slack's form bodies (slash commands, interactive payloads)
			// carry neither an event ID nor a type: the preset dedupes
			// them by the signed request's digest (see providers.NewSlack).
			slackForm := f.Provider == "slack" && f.ContentType == "application/x-www-form-urlencoded"
			if slackForm {
				assert.Empty(t, ev.ID, "a Slack form body carries no event ID")
				assert.Empty(t, ev.Type, "a Slack form body carries no type")
			} else {
				assert.NotEmpty(t, ev.Type, "event type")
				if core[f.Provider] {
					assert.NotEmpty(t, ev.ID, "event ID")
				}
			}
			for k := range f.Header {
				assert.Equal(t, f.Header.Get(k), ev.Header.Get(k), "header %s must be the sidecar's", k)
			}
			var v any
			if err := ev.Decode(&v); err != nil {
				assert.ErrorIs(t, err, hookguard.ErrNoPayload, "Decode")
			} else {
				assert.NotNil(t, v, "Decode gave no value and no error")
			}
			if !core[f.Provider] || slackForm {
				// Presets added later may derive the ID from a
				// signed token that changes with every signing; a
				// Slack form body has no ID to send again.
				return
			}
			// The same event again is a duplicate and hands nothing on.
			again := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, f.Name, webhooktest.WithID(ev.ID)))
			assert.Equal(t, http.StatusOK, again.Status, "second copy: status")
			assert.True(t, again.Duplicate, "second copy must be a duplicate")
			assert.Nil(t, again.Handled, "second copy must hand nothing on")
			assert.Len(t, rec.Handled(), 1, "events handled after the second copy")
		})
	}
}

func TestLookupFixture(t *testing.T) {
	f, err := webhooktest.LookupFixture("stripe/charge.refunded")
	require.NoError(t, err)
	assert.Equal(t, "stripe", f.Provider, "fixture provider")
	assert.Equal(t, "charge.refunded", f.Event, "fixture event")
	assert.NotEmpty(t, f.Description, "fixture description")
	assert.Equal(t, "application/json", f.ContentType, "fixture content type")
	f.Body[0] = 'X' // a copy: the index must not change
	assert.Equal(t, byte('{'), webhooktest.MustFixture(t, "stripe/charge.refunded").Body[0], "LookupFixture returned the shared body")
	_, err = webhooktest.LookupFixture("stripe/nope")
	assert.ErrorIs(t, err, webhooktest.ErrUnknownFixture, "unknown fixture")
	form := webhooktest.MustFixture(t, "github/push-form")
	assert.Equal(t, "application/x-www-form-urlencoded", form.ContentType, "github/push-form content type")
	assert.Equal(t, "push", form.Type, "github/push-form type")
	assert.GreaterOrEqual(t, len(webhooktest.AllFixtures()), 3*6, "AllFixtures")
}

func TestNewRequestDefaults(t *testing.T) {
	p := newProvider(t, "github")
	at := time.Unix(1716480205, 0)
	req := webhooktest.FixtureRequest(t, p, "github/ping", webhooktest.WithTime(at),
		webhooktest.WithID("72d3162e-cc78-11e3-81ab-4c9367dc0958"), webhooktest.WithHeader("X-Trace", "1"))
	assert.Equal(t, http.MethodPost, req.Method, "method")
	assert.Equal(t, "https://example.com/webhooks/github", req.URL.String(), "URL")
	assert.Equal(t, "example.com", req.Host, "host")
	for k, want := range map[string]string{
		"X-GitHub-Event": "ping", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"X-Github-Hook-Id": "478215903", "X-Trace": "1", "Content-Type": "application/json",
	} {
		assert.Equal(t, want, req.Header.Get(k), "header %s", k)
	}
	req = webhooktest.FixtureRequest(t, p, "github/push", webhooktest.WithType("issues"), webhooktest.WithContentType("application/json; charset=utf-8"), webhooktest.WithURL("http://localhost:8080/hooks"))
	assert.Equal(t, "issues", req.Header.Get("X-GitHub-Event"), "WithType ignored")
	assert.Equal(t, "http://localhost:8080/hooks", req.URL.String(), "WithURL ignored")
	_, err := webhooktest.Sign(p, []byte(`{}`), webhooktest.WithURL("not a url"))
	assert.Error(t, err, "Sign accepted a relative URL")
}

func TestClock(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := webhooktest.NewClock(t0)
	require.True(t, c.Now().Equal(t0), "Now() = %v, want %v", c.Now(), t0)
	got := c.Advance(90 * time.Second)
	assert.True(t, got.Equal(t0.Add(90*time.Second)), "Advance = %v, want %v", got, t0.Add(90*time.Second))
	assert.True(t, c.Now().Equal(got), "Now() = %v after Advance returned %v", c.Now(), got)
	c.Set(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 800*time.Second, c.Now().Sub(t0), "after 800 concurrent advances of 1s")
}

// TestClockDrivesReceiver: a request signed at the clock's time verifies;
// once the clock moved past the tolerance, the same request is stale.
func TestClockDrivesReceiver(t *testing.T) {
	clock := webhooktest.NewClock(time.Unix(1716480205, 0))
	p := newProvider(t, "stripe")
	rec, recv := newReceiver(t, p, accept, hookguard.WithClock(clock.Now))
	old := webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithClock(clock.Now))
	clock.Advance(6 * time.Minute)
	res := rec.Do(t, recv, old)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "request 6 minutes old")
	assert.ErrorIs(t, res.Err, verify.ErrTimestampTooOld, "request 6 minutes old")
	fresh := webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithClock(clock.Now))
	res = rec.Do(t, recv, fresh)
	assert.Equal(t, http.StatusOK, res.Status, "fresh request")
	if assert.NotNil(t, res.Handled, "fresh request: handled event") {
		assert.True(t, res.Handled.ReceivedAt.Equal(clock.Now()), "ReceivedAt = %v, want the clock's %v", res.Handled.ReceivedAt, clock.Now())
	}
}

func TestCannotTamper(t *testing.T) {
	if !slices.Contains(providers.Names(), "gitlab") {
		t.Skip("no gitlab preset")
	}
	p := newProvider(t, "gitlab")
	_, err := webhooktest.Sign(p, []byte(`{"object_kind":"push"}`), webhooktest.WithFlippedByte())
	assert.ErrorIs(t, err, webhooktest.ErrCannotTamper, "gitlab WithFlippedByte: GitLab presents a token and signs no body")
	// Its token can be altered instead.
	req, err := webhooktest.Sign(p, []byte(`{"object_kind":"push"}`), webhooktest.WithFlippedSignature())
	require.NoError(t, err)
	_, err = check(p, req, time.Now())
	assert.Error(t, err, "gitlab accepted an altered token")
}
