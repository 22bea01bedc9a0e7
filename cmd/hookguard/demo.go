package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/sign"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
)

// demoTimeout bounds the whole demo: every request and the waits for the
// handlers to run.
const demoTimeout = 5 * time.Second

// runDemo implements "hookguard demo".
func runDemo(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("demo", "demo")
	fs.extra = func(w io.Writer) {
		fmt.Fprint(w, "demo starts a receiver on a free loopback port with a fresh secret per provider and,\nfor every provider, sends a valid event, the same event again, a tampered body and\na stale (or, for schemes that sign no timestamp, replayed) request over HTTPS,\nwith a throwaway CA and certificate made in memory for the run, which only its\nsender trusts. It prints what each answered and exits 0 only when every answer is\nthe expected one.\n")
	}
	if code, ok := fs.parse(e, args); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	rows, err := runDemoCases(ctx, e.stdout, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "hookguard demo: %v\n", err)
		return exitFail
	}
	failed := printDemoTable(e.stdout, rows)
	fmt.Fprint(e.stdout, demoLegend)
	if failed > 0 {
		fmt.Fprintf(e.stdout, "\n%d of %d cases did not match\n", failed, len(rows))
		return exitFail
	}
	fmt.Fprintf(e.stdout, "\nall %d cases matched\n", len(rows))
	return exitOK
}

// demoLegend explains the cases under the table.
const demoLegend = `
HANDLED    how many times the provider's handler has run so far, of how many it
           should have: 1/1 after the valid row, and still 1/1 after every other
           row, since none of them may reach the handler again
valid      a freshly signed event: accepted (200), handled once
duplicate  the same request again: answered 200 with Hookguard-Duplicate, not handled again
tampered   the same headers with an altered body: the signature fails (401)
stale      the same event signed an hour ago: outside the replay window (401)
replayed   for schemes that sign no timestamp (GitHub, Shopify): the captured request
           under a fresh delivery ID; dedupe on the signed content answers it as a
           duplicate and nothing is handled
`

// demoRow is one line of the demo table.
type demoRow struct {
	provider, name string
	want, got      answer
	wantHandled    int
	gotHandled     int
	err            error // the request could not be sent
}

func (r demoRow) ok() bool {
	return r.err == nil && r.want == r.got && r.wantHandled == r.gotHandled
}

// answer is what a receiver answered, as the demo compares it.
type answer struct {
	status    int
	duplicate bool
}

func (a answer) String() string {
	if a.status == 0 {
		return "-"
	}
	s := strconv.Itoa(a.status)
	if a.duplicate {
		s += " duplicate"
	}
	return s
}

// runDemoCases starts the receivers and a server, runs every case and
// shuts both down. It says where it listens on out; errors the receivers
// log go to logw.
func runDemoCases(ctx context.Context, out, logw io.Writer) ([]demoRow, error) {
	names := providers.Names()
	provs := make([]providers.Provider, 0, len(names))
	var rows []demoRow
	for _, name := range names {
		secret, err := testsecret.For(name)
		var p providers.Provider
		if err == nil {
			p, err = providers.New(name, secret)
		}
		if err != nil {
			rows = append(rows, demoRow{provider: name, name: "setup", err: err})
			continue
		}
		provs = append(provs, p)
	}
	handled := newHandledCounter()
	handler := hookguard.HandlerFunc(func(_ context.Context, ev hookguard.Event) error {
		handled.add(ev.Provider)
		return nil
	})
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelError}))
	// HTTPS, as in production, with a CA made for this run: the sender
	// trusts that CA alone, and nothing is written to disk.
	roots, cert, err := demoCertificate(time.Now())
	if err != nil {
		return nil, fmt.Errorf("demo certificate: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// Schemes that sign the URL (Twilio, Square, HubSpot) sign the
	// https:// URL demo sends to.
	set, err := newReceiverSet(provs, handler, logger, hookguard.WithLogger(logger), hookguard.WithPublicURL("https://"+ln.Addr().String()))
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := newHTTPServer(set, logger)
	srv.TLSConfig = serverTLSConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil })
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()

	client := newSendClient(demoTimeout, 4, &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots})
	base := "https://" + ln.Addr().String() + "/webhooks/"
	fmt.Fprintf(out, "Receiving on %s{provider} with a fresh secret per provider, over HTTPS with a throwaway CA.\n\n", base)
	for _, p := range provs {
		rows = append(rows, runProviderCases(ctx, client, base+p.Name(), p, handled)...)
	}
	client.CloseIdleConnections()

	// Stop taking requests, then drain the queues, so that the final counts
	// include any handler a wrong answer might have started late.
	sctx, cancel := context.WithTimeout(context.Background(), demoTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	if err := set.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("receiver shutdown: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return rows, err
	}
	// A row's count was read right after its answer; recheck the last row
	// of each provider now that nothing can run any more.
	for i := range rows {
		if i == len(rows)-1 || rows[i+1].provider != rows[i].provider {
			rows[i].gotHandled = handled.get(rows[i].provider)
		}
	}
	return rows, nil
}

// runProviderCases sends p's four cases to url and records each answer and
// the number of events handled after it.
func runProviderCases(ctx context.Context, client *http.Client, url string, p providers.Provider, handled *handledCounter) []demoRow {
	name := p.Name()
	now := time.Now()
	// The same spec, through the same code, as "hookguard send".
	spec := demoSpec(p, now, url)
	valid, err := buildOutgoing(p, spec)
	if err != nil {
		return []demoRow{{provider: name, name: "valid", err: err}}
	}

	// An altered body; for schemes that sign no body (a shared token),
	// an altered token.
	tamperedSpec := spec
	tamperedSpec.FlipBody = true
	tampered, err := buildOutgoing(p, tamperedSpec)
	if errors.Is(err, sign.ErrCannotTamper) {
		tamperedSpec.FlipBody, tamperedSpec.FlipSignature = false, true
		tampered, err = buildOutgoing(p, tamperedSpec)
	}
	tamperedErr := err

	third := demoRow{provider: name, name: "stale", want: answer{status: http.StatusUnauthorized}, wantHandled: 1}
	var thirdReq *outgoing
	if p.Info().Timestamped {
		// The same event, signed an hour ago: a captured request replayed
		// after the window closed.
		stale := spec
		sign.Timestamp.Apply(&stale, p)
		thirdReq, err = buildOutgoing(p, stale)
	} else {
		// No timestamp is signed, so a captured request stays valid; an
		// attacker resends it under a fresh delivery ID. Only content
		// dedupe catches it.
		third.name, third.want = "replayed", answer{status: http.StatusOK, duplicate: true}
		replay := spec
		replay.ID = ""
		thirdReq, err = buildOutgoing(p, replay)
	}
	if err != nil {
		third.err = err
	}

	cases := []struct {
		row demoRow
		req *outgoing
	}{
		{demoRow{provider: name, name: "valid", want: answer{status: http.StatusOK}, wantHandled: 1}, valid},
		{demoRow{provider: name, name: "duplicate", want: answer{status: http.StatusOK, duplicate: true}, wantHandled: 1}, valid},
		{demoRow{provider: name, name: "tampered", want: answer{status: http.StatusUnauthorized}, wantHandled: 1, err: tamperedErr}, tampered},
		{third, thirdReq},
	}
	rows := make([]demoRow, 0, len(cases))
	for _, c := range cases {
		row := c.row
		if row.err == nil {
			res, err := send(ctx, client, c.req)
			row.err = err
			row.got = answer{status: res.Status, duplicate: res.Header.Get(hookguard.DuplicateHeader) != ""}
			if row.name == "valid" && err == nil && res.Status/100 == 2 {
				// The handler runs after the answer: wait for it, bounded
				// by ctx.
				row.gotHandled, _ = handled.wait(ctx, name, row.wantHandled)
			} else {
				row.gotHandled = handled.get(name)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// printDemoTable prints rows and returns how many did not match.
func printDemoTable(w io.Writer, rows []demoRow) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tCASE\tWANT\tGOT\tHANDLED\tRESULT")
	failed := 0
	for _, r := range rows {
		result := "ok"
		if !r.ok() {
			failed++
			result = "MISMATCH"
			if r.err != nil {
				result = "ERROR: " + escapeControls(r.err.Error())
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\n", r.provider, r.name, r.want, r.got, r.gotHandled, r.wantHandled, result)
	}
	_ = tw.Flush()
	return failed
}

// demoSpec returns the delivery demo sends for p at now: the provider's
// first embedded fixture that p accepts as an event (not a handshake), or
// else [demoEvent]'s body.
func demoSpec(p providers.Provider, now time.Time, url string) sign.Spec {
	for _, f := range webhooktest.Fixtures(p.Name()) {
		s := sign.Spec{Body: f.Body, ID: "demo_" + p.Name() + "_0001", Type: f.Type, ContentType: f.ContentType, Header: f.Header, Time: now, URL: url}
		d, err := sign.Build(p, s)
		if err != nil {
			continue
		}
		got, err := p.Verify(verify.Request{Method: d.Method, URL: d.URL, Header: d.Header, Body: d.Body}, now)
		if err == nil && got.Reply == nil {
			return s
		}
	}
	body, id, typ := demoEvent(p.Name(), now)
	s := sign.Spec{Body: body, ID: id, Type: typ, Time: now, URL: url}
	if _, err := sign.Build(p, s); err != nil {
		// Schemes that sign form parameters (Twilio) refuse a JSON body.
		s.Body, s.ContentType = []byte("AccountSid=AC0000demo&CallSid=CA0000demo0001&CallStatus=ringing&From=%2B14155550100"), "application/x-www-form-urlencoded"
	}
	return s
}

// demoEvent returns a small realistic body for provider, with the ID and
// type to sign it with (for schemes that carry them in headers).
func demoEvent(provider string, now time.Time) (body []byte, id, typ string) {
	unix := strconv.FormatInt(now.Unix(), 10)
	switch provider {
	case "stripe":
		return []byte(`{"id":"evt_1DemoHookguard0001","object":"event","api_version":"2024-06-20","created":` + unix +
			`,"type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_3DemoHookguard0001","object":"payment_intent","amount":2000,"currency":"usd","status":"succeeded"}}}`), "", ""
	case "github":
		return []byte(`{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",` +
			`"repository":{"id":1296269,"full_name":"octocat/Hello-World"},"pusher":{"name":"octocat"},"sender":{"login":"octocat"}}`), "", "push"
	case "shopify":
		return []byte(`{"id":820982911946154508,"email":"jon@example.com","created_at":"` + now.UTC().Format(time.RFC3339) +
			`","total_price":"199.00","currency":"USD","line_items":[{"id":866550311766439020,"title":"IPod Nano - 8GB","quantity":1,"price":"199.00"}]}`), "", "orders/create"
	case "slack":
		return []byte(`{"token":"XXYYZZ","team_id":"T061EG9R6","api_app_id":"A0MDYCDME","type":"event_callback","event_id":"Ev0DEMOHOOKGUARD1","event_time":` + unix +
			`,"event":{"type":"app_mention","user":"U061F7AUR","text":"<@U0LAN0Z89> is it everything a river should be?","channel":"C0LAN2Q65","ts":"` + unix + `.000100"}}`), "", ""
	case "standardwebhooks", "svix":
		return []byte(`{"type":"invoice.paid","timestamp":"` + now.UTC().Format(time.RFC3339) +
			`","data":{"invoice_id":"in_demo_0001","amount_paid":4200,"currency":"usd"}}`), "msg_demo_" + provider + "_0001", "invoice.paid"
	}
	return []byte(`{"type":"demo.event","id":"demo_0001","created":` + unix + `}`), "demo_0001", "demo.event"
}

// tamper returns body with a field added before its final "}", as an
// attacker altering a captured JSON event would.
func tamper(body []byte) []byte {
	i := bytes.LastIndexByte(body, '}')
	if i < 0 {
		return append(bytes.Clone(body), " "...)
	}
	out := make([]byte, 0, len(body)+20)
	out = append(out, body[:i]...)
	out = append(out, `,"tampered":true`...)
	return append(out, body[i:]...)
}

// handledCounter counts handled events per provider and lets a caller wait
// for a count without sleeping. It is safe for concurrent use.
type handledCounter struct {
	mu      sync.Mutex
	n       map[string]int
	changed chan struct{} // closed and replaced on every add
}

func newHandledCounter() *handledCounter {
	return &handledCounter{n: make(map[string]int), changed: make(chan struct{})}
}

func (c *handledCounter) add(provider string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[provider]++
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *handledCounter) get(provider string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[provider]
}

// wait returns once provider's count reaches want, or with ctx's error
// when ctx ends first; it returns the count either way.
func (c *handledCounter) wait(ctx context.Context, provider string, want int) (int, error) {
	for {
		c.mu.Lock()
		n, ch := c.n[provider], c.changed
		c.mu.Unlock()
		if n >= want {
			return n, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
}
