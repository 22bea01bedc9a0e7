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
)

// newProvider returns name's preset with a fresh test secret.
func newProvider(t *testing.T, name string) providers.Provider {
	t.Helper()
	secret, err := testsecret.For(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.New(name, secret)
	if err != nil {
		t.Fatal(err)
	}
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
			if _, err := check(p, valid, clock.Now()); err != nil {
				t.Fatalf("valid request: %v", err)
			}
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
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
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
				if !ok {
					t.Errorf("%s: Verify = %v; want one of %v", c.name, err, c.want)
				}
			}
			if !p.Info().Timestamped {
				req := webhooktest.NewRequest(t, p, b, ct, webhooktest.WithClock(clock.Now), webhooktest.WithTimestampOffset(-time.Hour))
				if _, err := check(p, req, clock.Now()); err != nil {
					t.Errorf("%s signs no timestamp, yet an old request fails: %v", name, err)
				}
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
				if res.Status != 200 || !strings.Contains(string(f.Body), string(res.Body)) || len(res.Body) < 20 || res.Handled != nil || len(rec.Handled()) != 0 {
					t.Errorf("handshake answered %d %q, %d events; want 200 with the challenge and none", res.Status, res.Body, len(rec.Handled()))
				}
				return
			}
			res := rec.Do(t, recv, req)
			if res.Status != http.StatusOK || res.Handled == nil {
				t.Fatalf("answered %d %q, dead letter %v; want 200 and a handled event", res.Status, res.Body, res.DeadLetter)
			}
			ev := *res.Handled
			if ev.Provider != f.Provider || !p.Info().SignedInBody && !bytes.Equal(ev.Body, f.Body) {
				t.Errorf("event body or provider differs from the fixture")
			}
			if f.Type != "" && ev.Type != f.Type {
				t.Errorf("event type = %q; want the sidecar's %q", ev.Type, f.Type)
			}
			if ev.Type == "" || ev.ID == "" && core[f.Provider] {
				t.Errorf("event has type %q and ID %q; want both", ev.Type, ev.ID)
			}
			for k := range f.Header {
				if ev.Header.Get(k) != f.Header.Get(k) {
					t.Errorf("header %s = %q; want the sidecar's %q", k, ev.Header.Get(k), f.Header.Get(k))
				}
			}
			var v any
			if err := ev.Decode(&v); err != nil && !errors.Is(err, hookguard.ErrNoPayload) || err == nil && v == nil {
				t.Errorf("Decode = %v, %v", err, v)
			}
			if !core[f.Provider] {
				// Presets added later may derive the ID from a
				// signed token that changes with every signing.
				return
			}
			// The same event again is a duplicate and hands nothing on.
			again := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, f.Name, webhooktest.WithID(ev.ID)))
			if again.Status != http.StatusOK || !again.Duplicate || again.Handled != nil || len(rec.Handled()) != 1 {
				t.Errorf("second copy answered %d duplicate=%v, handled %v", again.Status, again.Duplicate, rec.Handled())
			}
		})
	}
}

func TestLookupFixture(t *testing.T) {
	f, err := webhooktest.LookupFixture("stripe/charge.refunded")
	if err != nil {
		t.Fatal(err)
	}
	if f.Provider != "stripe" || f.Event != "charge.refunded" || f.Description == "" || f.ContentType != "application/json" {
		t.Errorf("fixture = %+v", f)
	}
	f.Body[0] = 'X' // a copy: the index must not change
	if g := webhooktest.MustFixture(t, "stripe/charge.refunded"); g.Body[0] != '{' {
		t.Error("LookupFixture returned the shared body")
	}
	if _, err := webhooktest.LookupFixture("stripe/nope"); !errors.Is(err, webhooktest.ErrUnknownFixture) {
		t.Errorf("unknown fixture: %v", err)
	}
	form := webhooktest.MustFixture(t, "github/push-form")
	if form.ContentType != "application/x-www-form-urlencoded" || form.Type != "push" {
		t.Errorf("github/push-form = %+v", form)
	}
	if n := len(webhooktest.AllFixtures()); n < 3*6 {
		t.Errorf("AllFixtures = %d", n)
	}
}

func TestNewRequestDefaults(t *testing.T) {
	p := newProvider(t, "github")
	at := time.Unix(1716480205, 0)
	req := webhooktest.FixtureRequest(t, p, "github/ping", webhooktest.WithTime(at),
		webhooktest.WithID("72d3162e-cc78-11e3-81ab-4c9367dc0958"), webhooktest.WithHeader("X-Trace", "1"))
	if req.Method != http.MethodPost || req.URL.String() != "https://example.com/webhooks/github" || req.Host != "example.com" {
		t.Errorf("request %s %s host %s", req.Method, req.URL, req.Host)
	}
	for k, want := range map[string]string{
		"X-GitHub-Event": "ping", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"X-Github-Hook-Id": "478215903", "X-Trace": "1", "Content-Type": "application/json",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q; want %q", k, got, want)
		}
	}
	req = webhooktest.FixtureRequest(t, p, "github/push", webhooktest.WithType("issues"), webhooktest.WithContentType("application/json; charset=utf-8"), webhooktest.WithURL("http://localhost:8080/hooks"))
	if req.Header.Get("X-GitHub-Event") != "issues" || req.URL.String() != "http://localhost:8080/hooks" {
		t.Errorf("options ignored: %v %s", req.Header, req.URL)
	}
	if _, err := webhooktest.Sign(p, []byte(`{}`), webhooktest.WithURL("not a url")); err == nil {
		t.Error("Sign accepted a relative URL")
	}
}

func TestClock(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := webhooktest.NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatal("Now")
	}
	if got := c.Advance(90 * time.Second); !got.Equal(t0.Add(90*time.Second)) || !c.Now().Equal(got) {
		t.Errorf("Advance = %v", got)
	}
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
	if got := c.Now().Sub(t0); got != 800*time.Second {
		t.Errorf("after 800 concurrent advances of 1s: %v", got)
	}
}

// TestClockDrivesReceiver: a request signed at the clock's time verifies;
// once the clock moved past the tolerance, the same request is stale.
func TestClockDrivesReceiver(t *testing.T) {
	clock := webhooktest.NewClock(time.Unix(1716480205, 0))
	p := newProvider(t, "stripe")
	rec, recv := newReceiver(t, p, accept, hookguard.WithClock(clock.Now))
	old := webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithClock(clock.Now))
	clock.Advance(6 * time.Minute)
	if res := rec.Do(t, recv, old); res.Status != http.StatusUnauthorized || !errors.Is(res.Err, verify.ErrTimestampTooOld) {
		t.Errorf("request 6 minutes old answered %d (%v); want 401 and ErrTimestampTooOld", res.Status, res.Err)
	}
	fresh := webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithClock(clock.Now))
	if res := rec.Do(t, recv, fresh); res.Status != http.StatusOK || res.Handled == nil || !res.Handled.ReceivedAt.Equal(clock.Now()) {
		t.Errorf("fresh request answered %d, handled %v", res.Status, res.Handled)
	}
}

func TestCannotTamper(t *testing.T) {
	if !slices.Contains(providers.Names(), "gitlab") {
		t.Skip("no gitlab preset")
	}
	p := newProvider(t, "gitlab")
	if _, err := webhooktest.Sign(p, []byte(`{"object_kind":"push"}`), webhooktest.WithFlippedByte()); !errors.Is(err, webhooktest.ErrCannotTamper) {
		t.Errorf("gitlab WithFlippedByte = %v; want ErrCannotTamper: GitLab presents a token and signs no body", err)
	}
	// Its token can be altered instead.
	req, err := webhooktest.Sign(p, []byte(`{"object_kind":"push"}`), webhooktest.WithFlippedSignature())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := check(p, req, time.Now()); err == nil {
		t.Error("gitlab accepted an altered token")
	}
}
