package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// inspectorClient talks to a serve started by startServe: webhooks to
// base (--addr), the page and its API to ui (--ui-addr).
type inspectorClient struct {
	t        *testing.T
	base, ui string
	c        *http.Client
}

func newInspectorClient(t *testing.T, srv *server) *inspectorClient {
	return &inspectorClient{t: t, base: "http://" + srv.addr, ui: "http://" + srv.uiAddr, c: &http.Client{Timeout: 10 * time.Second}}
}

func (ic *inspectorClient) do(method, path string, header http.Header, body []byte) (int, []byte) {
	ic.t.Helper()
	req, err := http.NewRequest(method, ic.ui+path, bytes.NewReader(body))
	if err != nil {
		ic.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := ic.c.Do(req)
	if err != nil {
		ic.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (ic *inspectorClient) state() stateJSON {
	ic.t.Helper()
	code, b := ic.do(http.MethodGet, "/inspector/api/state", nil, nil)
	if code != http.StatusOK {
		ic.t.Fatalf("GET state = %d %s", code, b)
	}
	var s stateJSON
	if err := json.Unmarshal(b, &s); err != nil {
		ic.t.Fatal(err)
	}
	return s
}

// post sends a Stripe event signed with testSecret; tampered alters the
// body after signing.
func (ic *inspectorClient) post(id string, tampered bool) int {
	ic.t.Helper()
	p, err := providers.New("stripe", testSecret)
	if err != nil {
		ic.t.Fatal(err)
	}
	o, err := signOutgoing(p, providers.Outgoing{Body: []byte(`{"id":"` + id + `","object":"event","type":"invoice.paid"}`), URL: ic.base + "/webhooks/stripe"})
	if err != nil {
		ic.t.Fatal(err)
	}
	if tampered {
		o.Body = tamper(o.Body)
	}
	res, err := send(context.Background(), ic.c, o)
	if err != nil {
		ic.t.Fatal(err)
	}
	return res.Status
}

func outcomes(s stateJSON) []string {
	var out []string
	for _, d := range s.Deliveries {
		out = append(out, d.Outcome)
	}
	return out
}

func TestInspectorShowsDeliveriesAndReplays(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+otherSecret, "--secret", "stripe="+testSecret)
	ic := newInspectorClient(t, srv)
	if got := ic.post("evt_insp_1", false); got != http.StatusOK {
		t.Fatalf("valid = %d", got)
	}
	if got := ic.post("evt_insp_1", false); got != http.StatusOK {
		t.Fatalf("duplicate = %d", got)
	}
	if got := ic.post("evt_insp_2", true); got != http.StatusUnauthorized {
		t.Fatalf("tampered = %d", got)
	}
	var s stateJSON
	waitUntil(t, func() bool {
		s = ic.state()
		return len(s.Deliveries) == 3 && s.Deliveries[2].Result == "handled"
	})
	if got, want := outcomes(s), []string{"rejected", "duplicate", "accepted"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes newest first = %v; want %v", got, want)
	}
	acc, dup, rej := s.Deliveries[2], s.Deliveries[1], s.Deliveries[0]
	if acc.Seq != 1 || acc.Provider != "stripe" || acc.ID != "evt_insp_1" || acc.Type != "invoice.paid" ||
		acc.Status != 200 || acc.Secret != 1 || acc.Attempts != 1 || acc.AckMS <= 0 {
		t.Errorf("accepted row = %+v", acc)
	}
	if dup.Secret != 1 || dup.Result != "" || dup.Status != 200 {
		t.Errorf("duplicate row = %+v", dup)
	}
	if rej.Reason != "signature_mismatch" || rej.Status != 401 || rej.Secret != -1 || !strings.Contains(rej.Detail, "no v1 signature matches") {
		t.Errorf("rejected row = %+v", rej)
	}
	var a, d, r int
	for _, m := range s.Chart {
		a, d, r = a+m.Accepted, d+m.Duplicate, r+m.Rejected
	}
	if len(s.Chart) != inspectorMinutes || a != 1 || d != 1 || r != 1 {
		t.Errorf("chart: %d minutes, %d/%d/%d; want %d minutes, 1 accepted, 1 duplicate, 1 rejected", len(s.Chart), a, d, r, inspectorMinutes)
	}

	// The detail view masks the signature and pretty-prints the body.
	code, raw := ic.do(http.MethodGet, "/inspector/api/deliveries/1", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("detail = %d %s", code, raw)
	}
	var det detailJSON
	if err := json.Unmarshal(raw, &det); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "v1=") || strings.Contains(string(raw), "t=") {
		t.Errorf("detail leaks the Stripe-Signature value: %s", raw)
	}
	var sig string
	for _, h := range det.Headers {
		if h[0] == "Stripe-Signature" {
			sig = h[1]
		}
		if h[0] == inspectorSeqHeader {
			t.Errorf("detail shows the inspector's own header")
		}
	}
	if !strings.Contains(sig, "masked") {
		t.Errorf("Stripe-Signature shown as %q; want it masked", sig)
	}
	if want := "{\n  \"id\": \"evt_insp_1\",\n  \"object\": \"event\","; !strings.HasPrefix(det.Body, want) {
		t.Errorf("body = %q; want it indented, starting %q", det.Body, want)
	}
	if !det.Replayable || det.Method != http.MethodPost || det.Path != "/webhooks/stripe" {
		t.Errorf("detail = %+v", det)
	}

	// Replay needs the custom header; then it goes to the receiver
	// again, as a duplicate.
	if code, b := ic.do(http.MethodPost, "/inspector/api/deliveries/1/replay", nil, nil); code != http.StatusForbidden {
		t.Errorf("replay without the header = %d %s; want 403", code, b)
	}
	code, raw = ic.do(http.MethodPost, "/inspector/api/deliveries/1/replay", http.Header{"X-Hookguard-Inspector": {"replay"}}, nil)
	if code != http.StatusOK || !strings.Contains(string(raw), `"seq":4`) {
		t.Fatalf("replay = %d %s; want 200 and seq 4", code, raw)
	}
	s = ic.state()
	if s.Deliveries[0].Seq != 4 || s.Deliveries[0].Outcome != "duplicate" || s.Deliveries[0].ReplayOf != 1 || s.Deliveries[0].Secret != 1 {
		t.Errorf("after replay, newest = %+v; want #4, a duplicate replaying #1", s.Deliveries[0])
	}
	if code, _ := ic.do(http.MethodPost, "/inspector/api/deliveries/99/replay", http.Header{"X-Hookguard-Inspector": {"replay"}}, nil); code != http.StatusNotFound {
		t.Errorf("replay of an unknown delivery = %d; want 404", code)
	}
	// Polling with the current version gets 204.
	if code, _ := ic.do(http.MethodGet, "/inspector/api/state?v="+strconv.FormatUint(s.Version, 10), nil, nil); code != http.StatusNoContent {
		t.Errorf("poll with the current version = %d; want 204", code)
	}
	// The page renders the rows and escapes what senders control.
	code, page := ic.do(http.MethodGet, "/", nil, nil)
	if code != http.StatusOK || !strings.Contains(string(page), `data-seq="4"`) || !strings.Contains(string(page), "evt_insp_1") {
		t.Errorf("page = %d, rows missing", code)
	}
}

func TestInspectorEscapesSenderData(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret)
	ic := newInspectorClient(t, srv)
	if got := ic.post(`<img src=x onerror=alert(1)>`, false); got != http.StatusOK {
		t.Fatalf("valid = %d", got)
	}
	_, page := ic.do(http.MethodGet, "/", nil, nil)
	if bytes.Contains(page, []byte("<img src=x")) || !bytes.Contains(page, []byte("&lt;img src=x")) {
		t.Errorf("the event ID is not escaped in the page")
	}
}

func TestServeMetricsAndNoUI(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--no-ui", "--secret", "stripe="+testSecret)
	ic := newInspectorClient(t, srv)
	if got := ic.post("evt_metrics_1", false); got != http.StatusOK {
		t.Fatalf("valid = %d", got)
	}
	ic.post("evt_metrics_2", true)
	if code, _ := ic.do(http.MethodGet, "/", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET / with --no-ui = %d; want 404", code)
	}
	if code, _ := ic.do(http.MethodGet, "/inspector/api/state", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET /inspector/api/state with --no-ui = %d; want 404", code)
	}
	code, body := ic.do(http.MethodGet, "/metrics", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{
		`hookguard_requests_total{hookguard_outcome="accepted",hookguard_provider="stripe",hookguard_reason="",http_response_status_code="200"`,
		`hookguard_requests_total{hookguard_outcome="rejected",hookguard_provider="stripe",hookguard_reason="signature_mismatch",http_response_status_code="401"`,
		`hookguard_secret_matches_total{hookguard_provider="stripe",hookguard_secret_index="0"`,
		`hookguard_ack_duration_seconds_bucket{`,
		`hookguard_queue_depth{hookguard_provider="stripe"`,
		`service_name="hookguard"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// newTestInspector returns an inspector with a ring of n in front of h.
func newTestInspector(n, bodyCap int, h http.Handler) (*inspector, http.Handler) {
	in := newInspector([]string{"X-Custom-Sig"})
	in.ring = make([]*delivery, n)
	in.bodyCap = bodyCap
	mux := http.NewServeMux()
	mux.Handle("/webhooks/{provider}", in.wrap(h))
	in.routes(mux, []string{"test"})
	return in, mux
}

func TestInspectorRingIsBounded(t *testing.T) {
	in, h := newTestInspector(3, 1024, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i := range 5 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/webhooks/test", strings.NewReader(`{"n":`+strconv.Itoa(i)+`}`)))
	}
	var seqs []uint64
	for _, d := range in.state().Deliveries {
		seqs = append(seqs, d.Seq)
	}
	if !reflect.DeepEqual(seqs, []uint64{5, 4, 3}) {
		t.Errorf("held %v; want the newest 3, newest first", seqs)
	}
	if _, ok := in.detail(2); ok {
		t.Error("detail of an evicted delivery found")
	}
	if _, err := in.replay(context.Background(), 1); !errors.Is(err, errGone) {
		t.Errorf("replay of an evicted delivery = %v; want errGone", err)
	}
}

func TestInspectorBodyCap(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 100)
	var got []byte
	in, h := newTestInspector(4, 16, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/webhooks/test", bytes.NewReader(big)))
	if !bytes.Equal(got, big) {
		t.Fatalf("the receiver read %d bytes; want all %d", len(got), len(big))
	}
	d, ok := in.detail(1)
	if !ok || len(d.Body) != 16 || d.Replayable || !strings.Contains(d.BodyNote, "first 16 of 100 bytes") {
		t.Errorf("detail = %+v; want 16 bytes kept, not replayable", d)
	}
	if _, err := in.replay(context.Background(), 1); !errors.Is(err, errTooLarge) {
		t.Errorf("replay of a truncated body = %v; want errTooLarge", err)
	}
}

func TestInspectorMasksCredentials(t *testing.T) {
	in := newInspector([]string{"X-Custom-Sig"})
	for name, want := range map[string]bool{
		"Stripe-Signature": true, "X-Hub-Signature-256": true, "X-Shopify-Hmac-Sha256": true,
		"X-Gitlab-Token": true, "Authorization": true, "Cookie": true, "X-Custom-Sig": true, "x-custom-sig": true,
		"X-Api-Key": true, "Content-Type": false, "X-Github-Event": false, "Webhook-Id": false,
	} {
		if got := in.secretHeader(name); got != want {
			t.Errorf("secretHeader(%q) = %v; want %v", name, got, want)
		}
	}
	if m := mask("v1=abcdef"); strings.Contains(m, "abc") {
		t.Errorf("mask leaks: %q", m)
	}
}

// combineHooks must call both sides of every field, including fields
// added to hookguard.Hooks later.
func TestCombineHooksCoversEveryField(t *testing.T) {
	var a, b hookguard.Hooks
	calls := map[string]int{}
	for _, hv := range []*hookguard.Hooks{&a, &b} {
		v := reflect.ValueOf(hv).Elem()
		for i := range v.NumField() {
			f := v.Field(i)
			name := v.Type().Field(i).Name
			f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value {
				calls[name]++
				return nil
			}))
		}
	}
	c := reflect.ValueOf(combineHooks(a, b))
	for i := range c.NumField() {
		f := c.Field(i)
		args := make([]reflect.Value, f.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(f.Type().In(j))
		}
		f.Call(args)
		if name := c.Type().Field(i).Name; calls[name] != 2 {
			t.Errorf("combined %s called the hooks %d times; want 2", name, calls[name])
		}
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The worker may finish an event before the receiver reports its answer:
// the handler's result must survive the late answer.
func TestInspectorKeepsAnEarlyHandlerResult(t *testing.T) {
	in := newInspector(nil)
	hooks := in.hooks()
	h := in.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks.OnHandled(hookguard.Event{Provider: "test", Header: r.Header}, 1, nil, 0)
		hooks.OnAnswered(r.Context(), hookguard.Answer{Provider: "test", ID: "e1", Outcome: hookguard.OutcomeAccepted, Status: 200})
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/webhooks/test", strings.NewReader("{}")))
	d := in.state().Deliveries[0]
	if d.Outcome != hookguard.OutcomeAccepted || d.Result != "handled" || d.Attempts != 1 || d.ID != "e1" {
		t.Errorf("delivery = %+v; want accepted and handled at attempt 1", d)
	}
}

// Whatever the body and the cap, the receiver behind the inspector reads
// exactly the bytes sent, and the detail view keeps at most the cap and
// renders without failing.
func FuzzInspectorCapture(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"a"}`), uint8(64))
	f.Add([]byte(`{"id":`), uint8(3))
	f.Add([]byte("payload=%7B%22a%22%3A1%7D"), uint8(0))
	f.Add([]byte{0xff, 0xfe, 0x00, '{'}, uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, capacity uint8) {
		var got []byte
		in, h := newTestInspector(2, int(capacity), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.ReadAll(r.Body)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/webhooks/test", bytes.NewReader(body)))
		if !bytes.Equal(got, body) {
			t.Fatalf("the receiver read %q; want %q", got, body)
		}
		d, ok := in.detail(1)
		if !ok {
			t.Fatal("delivery 1 not held")
		}
		if d.Replayable != (len(body) <= int(capacity)) {
			t.Errorf("replayable = %v for %d bytes under a cap of %d", d.Replayable, len(body), capacity)
		}
		if len(body) <= int(capacity) && len(body) > 0 && d.Body == "" {
			t.Errorf("a kept body renders empty")
		}
	})
}
