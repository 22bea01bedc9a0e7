package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// testReceiver runs a hookguard receiver for provider behind an httptest
// server and returns its URL, the secret, and the recorder of its events.
// Its handler accepts every event, on the receiver's own queue.
func testReceiver(t *testing.T, provider string) (url, secret string, rec *webhooktest.Recorder) {
	t.Helper()
	secret, err := testsecret.For(provider)
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.New(provider, secret)
	if err != nil {
		t.Fatal(err)
	}
	rec = webhooktest.NewRecorder()
	srv := httptest.NewServer(nil)
	accept := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	recv, err := hookguard.New(p, accept, rec.Options(hookguard.WithPublicURL(srv.URL))...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = recv
	t.Cleanup(func() { _ = recv.Shutdown(context.Background()) }) // after srv.Close: cleanups run last first
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/" + provider, secret, rec
}

func TestSendList(t *testing.T) {
	got := runCmd(t, "", "send", "--list")
	if got.code != 0 {
		t.Fatalf("send --list = %d: %s", got.code, got.stderr)
	}
	lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
	all := webhooktest.AllFixtures()
	if len(lines) != len(all) {
		t.Fatalf("send --list printed %d lines for %d fixtures", len(lines), len(all))
	}
	for i, f := range all {
		fields := strings.Fields(lines[i])
		if len(fields) < 2 || fields[0] != f.Name || !strings.Contains(lines[i], f.Description) {
			t.Errorf("line %d = %q; want %s and its description", i+1, lines[i], f.Name)
		}
		want := f.Description // the line ends with the reference, or without one with the description
		if f.Reference != "" {
			want = f.Reference
		}
		if !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q; want it to end with %q", i+1, lines[i], want)
		}
	}
}

// TestSendCopies sends 20 Stripe events, a quarter of them duplicates:
// the fresh ones get distinct IDs written into the body and are handled;
// the duplicates are answered as such.
func TestSendCopies(t *testing.T) {
	url, secret, rec := testReceiver(t, "stripe")
	got := runCmd(t, "", "send", "--provider", "stripe", "--secret", secret, "--fixture", "stripe/charge.refunded",
		"--count", "20", "--concurrency", "4", "--duplicates", "0.25", url)
	if got.code != 0 {
		t.Fatalf("send = %d\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	for _, want := range []string{"200            15", "200 duplicate  5", "latency p50 ", "p99 ", "15 fresh, 5 duplicate"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, got.stdout)
		}
	}
	ids := map[string]bool{}
	for _, e := range rec.WaitHandled(t, 15) {
		if e.Type != "charge.refunded" || !strings.HasPrefix(e.ID, "evt_") {
			t.Errorf("event %q %q", e.ID, e.Type)
		}
		ids[e.ID] = true
	}
	if len(ids) != 15 || ids["evt_3PKb7cLkdIwHu7ix1Vn4Hs8Q"] {
		t.Errorf("%d distinct IDs (want 15 fresh ones): %v", len(ids), ids)
	}
}

// TestSendHeaderIDs: Standard Webhooks carries the ID in a header; Slack
// in the body's event_id. Both get a fresh one per copy.
func TestSendFreshIDs(t *testing.T) {
	for _, tc := range []struct{ provider, fixture string }{
		{"standardwebhooks", "standardwebhooks/invoice.paid"},
		{"slack", "event_callback.app_mention"},
		{"svix", ""},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			url, secret, rec := testReceiver(t, tc.provider)
			args := []string{"send", "--provider", tc.provider, "--secret", secret, "--count", "3", url}
			if tc.fixture != "" {
				args = append(args[:1], append([]string{"--fixture", tc.fixture}, args[1:]...)...)
			}
			got := runCmd(t, "", args...)
			if got.code != 0 || !strings.Contains(got.stdout, "200  3") {
				t.Fatalf("send = %d\n%s\n%s", got.code, got.stdout, got.stderr)
			}
			ids := map[string]bool{}
			for _, e := range rec.WaitHandled(t, 3) {
				ids[e.ID] = true
			}
			if len(ids) != 3 {
				t.Errorf("IDs %v; want 3 distinct", ids)
			}
		})
	}
}

// TestSendReplayableNote: GitHub signs neither the ID nor a timestamp, so
// copies are content duplicates, and send says so.
func TestSendReplayableNote(t *testing.T) {
	url, secret, rec := testReceiver(t, "github")
	got := runCmd(t, "", "send", "--provider", "github", "--secret", secret, "--fixture", "github/push-form", "--count", "3", url)
	if got.code != 0 || !strings.Contains(got.stderr, "signs neither the event ID nor a timestamp") {
		t.Fatalf("send = %d\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	if !strings.Contains(got.stdout, "200            1") || !strings.Contains(got.stdout, "200 duplicate  2") {
		t.Errorf("want 1 handled and 2 content duplicates:\n%s", got.stdout)
	}
	if e := rec.WaitHandled(t, 1)[0]; e.Type != "push" || !strings.HasPrefix(string(e.Body), "payload=") {
		t.Errorf("event %q body %.20q", e.Type, e.Body)
	}
}

func TestSendTamper(t *testing.T) {
	url, secret, rec := testReceiver(t, "stripe")
	for _, kind := range []string{"signature", "body", "timestamp", "secret", "missing-signature"} {
		t.Run(kind, func(t *testing.T) {
			got := runCmd(t, "", "send", "--provider", "stripe", "--secret", secret, "--tamper", kind, url)
			want := "401"
			if kind == "missing-signature" {
				want = "400"
			}
			if got.code != exitFail || !strings.Contains(got.stdout, "  "+want+"  1") || !strings.Contains(got.stdout, "answer: ") {
				t.Errorf("send --tamper %s = %d; want 1 and a %s\n%s\n%s", kind, got.code, want, got.stdout, got.stderr)
			}
		})
	}
	if n := len(rec.Handled()) + len(rec.DeadLetters()); n != 0 {
		t.Errorf("%d tampered events were accepted", n) // a rejected request is never enqueued
	}
	got := runCmd(t, "", "send", "--provider", "stripe", "--secret", secret, url)
	if got.code != 0 {
		t.Errorf("untampered send = %d\n%s", got.code, got.stdout)
	}
	rec.WaitHandled(t, 1)
}

// TestSendNoRedirect: a 3xx is the answer; the Location is not followed.
func TestSendNoRedirect(t *testing.T) {
	var followed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	got := runCmd(t, "", "send", "--provider", "github", "--secret", "s", "--count", "2", srv.URL+"/hook")
	if got.code != exitFail || !strings.Contains(got.stdout, "307  2") || followed.Load() != 0 {
		t.Errorf("send to a redirect = %d, followed %d times\n%s", got.code, followed.Load(), got.stdout)
	}
}

func TestSendConnectionError(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	got := runCmd(t, "", "send", "--provider", "github", "--secret", "s", url)
	if got.code != exitFail || !strings.Contains(got.stdout, "error: ") {
		t.Errorf("send to a closed port = %d\n%s", got.code, got.stdout)
	}
}

func TestSendUsage(t *testing.T) {
	body := writeFile(t, "event.json", `{"id":"evt_1","type":"x"}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "stripe", "--secret", "s"}, "exactly one URL"},
		{[]string{"--provider", "stripe", "--secret", "s", "ftp://x"}, "not an absolute"},
		{[]string{"--secret", "s", "http://x"}, "--provider is required"},
		{[]string{"--provider", "stripe", "http://x"}, "--secret is required"},
		{[]string{"--provider", "stripe", "--secret", "s", "--count", "0", "http://x"}, "--count 0"},
		{[]string{"--provider", "stripe", "--secret", "s", "--count", "100001", "http://x"}, "--count 100001"},
		{[]string{"--provider", "stripe", "--secret", "s", "--concurrency", "65", "http://x"}, "--concurrency 65"},
		{[]string{"--provider", "stripe", "--secret", "s", "--duplicates", "1", "http://x"}, "--duplicates 1"},
		{[]string{"--provider", "stripe", "--secret", "s", "--tamper", "nope", "http://x"}, "unknown tamper kind"},
		{[]string{"--provider", "github", "--secret", "s", "--tamper", "timestamp", "http://x"}, "signs no timestamp"},
		{[]string{"--provider", "stripe", "--secret", "s", "--fixture", "github/push", "http://x"}, "--provider github"},
		{[]string{"--provider", "stripe", "--secret", "s", "--fixture", "stripe/nope", "http://x"}, "unknown fixture"},
		{[]string{"--provider", "stripe", "--secret", "s", "--fixture", "stripe/charge.refunded", "--body", body, "http://x"}, "not both"},
		{[]string{"--provider", "nope", "--secret", "s", "http://x"}, "unknown provider"},
		{[]string{"--list", "http://x"}, "--list takes no URL"},
	} {
		got := runCmd(t, "", append([]string{"send"}, tc.args...)...)
		if got.code != exitUsage || !strings.Contains(got.stderr, tc.want) {
			t.Errorf("send %v = %d, stderr %q; want %d and %q", tc.args, got.code, got.stderr, exitUsage, tc.want)
		}
		if strings.Contains(got.stderr, "whsec_") {
			t.Errorf("stderr echoes a secret: %s", got.stderr)
		}
	}
	if got := runCmd(t, "", "send", "-h"); got.code != 0 || !strings.Contains(got.stdout, "--duplicates") || !strings.Contains(got.stdout, "missing-signature") {
		t.Errorf("send -h = %d\n%s", got.code, got.stdout)
	}
}

// TestSendBody sends a file body with a header-carried type.
func TestSendBody(t *testing.T) {
	url, secret, rec := testReceiver(t, "shopify")
	body := writeFile(t, "order.json", `{"id":820982911946154508,"email":"jon@example.com"}`)
	got := runCmd(t, "", "send", "--provider", "shopify", "--secret", secret, "--body", body, "--event", "orders/paid", url)
	if got.code != 0 {
		t.Fatalf("send --body = %d\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	if e := rec.WaitHandled(t, 1)[0]; e.Type != "orders/paid" {
		t.Errorf("handled a %q event; want orders/paid", e.Type)
	}
}

// TestSendArrayBodyIDs: HubSpot sends a JSON array and reads the first
// event's numeric eventId; each copy gets a fresh number there.
func TestSendArrayBodyIDs(t *testing.T) {
	if !slices.Contains(providers.Names(), "hubspot") {
		t.Skip("no hubspot preset")
	}
	url, secret, rec := testReceiver(t, "hubspot")
	body := writeFile(t, "events.json", `[{"eventId":1784202310,"subscriptionId":2481043,"portalId":62515,"appId":1160452,"occurredAt":1716480205000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeFlag":"CREATED","changeSource":"CRM"}]`)
	got := runCmd(t, "", "send", "--provider", "hubspot", "--secret", secret, "--body", body, "--count", "3", url)
	if got.code != 0 {
		t.Fatalf("send = %d\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	ids := map[string]bool{}
	for _, e := range rec.WaitHandled(t, 3) {
		if len(e.ID) != len("1784202310") || e.ID == "1784202310" {
			t.Errorf("event ID %q; want a fresh 10-digit number", e.ID)
		}
		ids[e.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("IDs %v; want 3 distinct", ids)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	for _, tt := range []struct {
		in   []time.Duration
		p    int
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{ms(7)}, 99, ms(7)},
		{[]time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{hundred, 50, ms(50)},
		{hundred, 99, ms(99)},
		{hundred[:10], 99, ms(10)},
	} {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(%d values, %d) = %v; want %v", len(tt.in), tt.p, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	if got := printable([]byte("ok\x1b[2J\xff"), 512); got != `ok\x1b[2J\xff` {
		t.Errorf("printable = %q", got)
	}
	if got := printable([]byte(strings.Repeat("a", 600)), 512); len(got) != 515 || !strings.HasSuffix(got, "...") {
		t.Errorf("printable of 600 bytes = %d bytes", len(got))
	}
}
