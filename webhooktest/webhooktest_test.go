package webhooktest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
)

// newProvider returns name's preset with a fresh test secret.
func newProvider(t *testing.T, name string) providers.Provider {
	t.Helper()
	secret, err := providers.TestSecret(name)
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
			valid := webhooktest.NewRequest(t, p, b, ct, webhooktest.WithClock(clock), webhooktest.WithID("id-0001"))
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
				req, err := webhooktest.Sign(p, b, ct, webhooktest.WithClock(clock), c.opt)
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
				req := webhooktest.NewRequest(t, p, b, ct, webhooktest.WithClock(clock), webhooktest.WithTimestampOffset(-time.Hour))
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
			rec := webhooktest.NewRecorder()
			recv, err := hookguard.New(p, nil, hookguard.WithQueue(rec))
			if err != nil {
				t.Fatal(err)
			}
			req := webhooktest.FixtureRequest(t, p, f.Name)
			if f.Provider == "slack" && strings.Contains(string(f.Body), `"url_verification"`) {
				res := webhooktest.Do(t, recv, req)
				if res.Status != 200 || !strings.Contains(string(f.Body), string(res.Body)) || len(res.Body) < 20 || rec.Len() != 0 {
					t.Errorf("handshake answered %d %q, %d events; want 200 with the challenge and none", res.Status, res.Body, rec.Len())
				}
				return
			}
			res := rec.Do(t, recv, req)
			if res.Status != http.StatusOK || len(res.Events) != 1 {
				t.Fatalf("answered %d %q with %d events; want 200 and 1", res.Status, res.Body, len(res.Events))
			}
			ev := res.Events[0]
			if _, signsInBody := p.(providers.BodySigner); ev.Provider != f.Provider || !signsInBody && !bytes.Equal(ev.Body, f.Body) {
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
			if again.Status != http.StatusOK || !again.Duplicate || len(again.Events) != 0 {
				t.Errorf("second copy answered %d duplicate=%v with %d events", again.Status, again.Duplicate, len(again.Events))
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
	rec := webhooktest.NewRecorder()
	recv, err := hookguard.New(p, nil, hookguard.WithQueue(rec), hookguard.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	old := webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithClock(clock))
	clock.Advance(6 * time.Minute)
	if res := webhooktest.Do(t, recv, old); res.Status != http.StatusUnauthorized {
		t.Errorf("request 6 minutes old answered %d; want 401", res.Status)
	}
	fresh := webhooktest.FixtureRequest(t, p, "stripe/charge.refunded", webhooktest.WithClock(clock))
	if res := rec.Do(t, recv, fresh); res.Status != http.StatusOK || len(res.Events) != 1 || !res.Events[0].ReceivedAt.Equal(clock.Now()) {
		t.Errorf("fresh request answered %d with %d events", res.Status, len(res.Events))
	}
}

// TestRecorderAsHandler runs the Recorder behind the receiver's own
// MemoryQueue: events arrive after the answer and Wait waits for them.
func TestRecorderAsHandler(t *testing.T) {
	p := newProvider(t, "standardwebhooks")
	var mu sync.Mutex
	var seen []string
	app := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, e.ID)
		return nil
	})
	rec := webhooktest.NewRecorder(webhooktest.Then(app), webhooktest.WaitTimeout(10*time.Second))
	recv, err := hookguard.New(p, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = recv.Shutdown(context.Background()) })
	for i, name := range []string{"standardwebhooks/invoice.paid", "standardwebhooks/invoice.payment_failed", "standardwebhooks/subscription.canceled"} {
		res := webhooktest.Do(t, recv, webhooktest.FixtureRequest(t, p, name, webhooktest.WithID("msg_"+string(rune('a'+i)))))
		if res.Status != http.StatusOK {
			t.Fatalf("%s answered %d", name, res.Status)
		}
	}
	evs := rec.Wait(t, 3, 10*time.Second)
	types := map[string]bool{}
	for _, e := range evs {
		types[e.Type] = true
	}
	if len(types) != 3 || !types["invoice.paid"] || !types["subscription.canceled"] {
		t.Errorf("recorded types %v", types)
	}
	mu.Lock()
	if len(seen) != 3 {
		t.Errorf("the application handler saw %d events", len(seen))
	}
	mu.Unlock()

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "standardwebhooks/invoice.paid", webhooktest.WithID("msg_d")))
	if len(res.Events) != 1 || res.Events[0].ID != "msg_d" {
		t.Errorf("Do through the MemoryQueue returned %d events", len(res.Events))
	}
}

func TestRecorderHandlerError(t *testing.T) {
	boom := errors.New("boom")
	rec := webhooktest.NewRecorder(webhooktest.Then(hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return boom })))
	if err := rec.HandleEvent(context.Background(), hookguard.Event{ID: "1"}); !errors.Is(err, boom) {
		t.Errorf("HandleEvent = %v", err)
	}
	if err := rec.Enqueue(context.Background(), hookguard.Event{ID: "1"}); !errors.Is(err, boom) {
		t.Errorf("Enqueue = %v", err)
	}
	if rec.Len() != 0 {
		t.Errorf("recorded %d events of a failing handler", rec.Len())
	}
	// Through a receiver: the failing handler makes the answer 503, and
	// the event is not marked seen, so the retry goes through later.
	p := newProvider(t, "stripe")
	recv, err := hookguard.New(p, nil, hookguard.WithQueue(rec))
	if err != nil {
		t.Fatal(err)
	}
	if res := webhooktest.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/charge.refunded")); res.Status != http.StatusServiceUnavailable {
		t.Errorf("failing handler answered %d; want 503", res.Status)
	}
}

func TestRecorderWaitContext(t *testing.T) {
	rec := webhooktest.NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := rec.WaitContext(ctx, 2)
		done <- err
	}()
	_ = rec.Enqueue(context.Background(), hookguard.Event{ID: "1"})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WaitContext = %v; want context.Canceled", err)
	}
	_ = rec.HandleEvent(context.Background(), hookguard.Event{ID: "2"})
	evs, err := rec.WaitContext(context.Background(), 2)
	if err != nil || len(evs) != 2 || evs[0].ID != "1" || evs[1].ID != "2" {
		t.Errorf("WaitContext = %v, %v", evs, err)
	}
	rec.Reset()
	if rec.Len() != 0 || len(rec.Events()) != 0 {
		t.Error("Reset kept events")
	}
}

func TestRecorderFull(t *testing.T) {
	rec := webhooktest.NewRecorder()
	for i := 0; i < webhooktest.MaxRecorded; i++ {
		if err := rec.Enqueue(context.Background(), hookguard.Event{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Enqueue(context.Background(), hookguard.Event{}); !errors.Is(err, webhooktest.ErrRecorderFull) {
		t.Errorf("Enqueue past the cap = %v", err)
	}
	if err := rec.HandleEvent(context.Background(), hookguard.Event{}); !errors.Is(err, webhooktest.ErrRecorderFull) || !hookguard.IsPermanent(err) {
		t.Errorf("HandleEvent past the cap = %v; want a permanent ErrRecorderFull", err)
	}
}

// fakeTB records failures instead of stopping a test, to test the helpers'
// failure paths.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failed = append(f.failed, format)
	f.mu.Unlock()
}
func (f *fakeTB) Fatal(args ...any) { f.Fatalf("fatal") }

func TestRecorderFailures(t *testing.T) {
	tb := &fakeTB{TB: t}
	rec := webhooktest.NewRecorder(webhooktest.WaitTimeout(10 * time.Millisecond))
	if evs := rec.Wait(tb, 1, 10*time.Millisecond); len(evs) != 0 || len(tb.failed) != 1 {
		t.Errorf("Wait for a missing event: %d events, %d failures", len(evs), len(tb.failed))
	}
	// A handler that answers 200 but records nothing makes Recorder.Do
	// fail the test instead of hanging.
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	req, _ := http.NewRequest(http.MethodPost, "http://example.com/", nil)
	if res := rec.Do(tb, ok, req); res.Status != 200 || len(tb.failed) != 2 {
		t.Errorf("Do with no event: %d, %d failures", res.Status, len(tb.failed))
	}
	webhooktest.MustFixture(tb, "nope/nope")
	if len(tb.failed) != 3 {
		t.Errorf("MustFixture of an unknown name did not fail the test")
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
