package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// waitLine returns the next line w receives, failing the test after a
// generous bound.
func waitLine(t *testing.T, w *lineWriter) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no line on stdout")
		return ""
	}
}

func TestServe(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0",
		"--secret", "stripe="+testSecret, "--secret", "stripe="+otherSecret, "--secret", "github="+testSecret)
	addr, stdout, stderr := srv.addr, srv.stdout, srv.stderr
	client := &http.Client{Timeout: 10 * time.Second}
	ctx := context.Background()
	url := "http://" + addr + "/webhooks/stripe"

	// Signed with the rotation secret: the second --secret for stripe.
	p, err := providers.New("stripe", otherSecret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_serve_1","object":"event","type":"invoice.paid"}`)
	req, err := signOutgoing(p, providers.Outgoing{Body: body, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	res, err := send(ctx, client, req)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("POST a signed event = %d, %v (%s); want 200", res.Status, err, res.Body)
	}

	var line eventLine
	raw := waitLine(t, stdout)
	if err := json.Unmarshal([]byte(raw), &line); err != nil {
		t.Fatalf("stdout line %q is not JSON: %v", raw, err)
	}
	if line.Provider != "stripe" || line.ID != "evt_serve_1" || line.Type != "invoice.paid" || line.Attempt != 1 || line.ReceivedAt.IsZero() {
		t.Errorf("event line = %+v; want stripe evt_serve_1 invoice.paid attempt 1 with a received_at", line)
	}
	var fields map[string]any
	_ = json.Unmarshal([]byte(raw), &fields)
	for _, k := range []string{"provider", "id", "type", "attempt", "received_at"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("event line %s lacks %q", raw, k)
		}
	}

	tampered := req.clone()
	tampered.Body = tamper(req.Body)
	gh, err := providers.New("github", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	ghReq, err := signOutgoing(gh, providers.Outgoing{Body: []byte(`{"zen":"hi"}`), Type: "ping", URL: "http://" + addr + "/webhooks/github"})
	if err != nil {
		t.Fatal(err)
	}
	unknown := req.clone()
	unknown.URL = "http://" + addr + "/webhooks/paypal"
	get := req.clone()
	get.Method = http.MethodGet
	tests := []struct {
		name    string
		req     *outgoing
		status  int
		dupFlag bool
	}{
		{"duplicate", req, http.StatusOK, true},
		{"tampered", tampered, http.StatusUnauthorized, false},
		{"second provider", ghReq, http.StatusOK, false},
		{"unknown provider", unknown, http.StatusNotFound, false},
		{"GET", get, http.StatusMethodNotAllowed, false},
	}
	for _, tt := range tests {
		res, err := send(ctx, client, tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.Status != tt.status || (res.Header.Get(hookguard.DuplicateHeader) != "") != tt.dupFlag {
			t.Errorf("%s: status %d, duplicate header %q; want %d, duplicate %v", tt.name, res.Status, res.Header.Get(hookguard.DuplicateHeader), tt.status, tt.dupFlag)
		}
	}
	if raw := waitLine(t, stdout); !strings.Contains(raw, `"provider":"github"`) || !strings.Contains(raw, `"type":"ping"`) {
		t.Errorf("second event line = %s; want the github ping", raw)
	}

	if code := srv.stop(); code != 0 {
		t.Errorf("serve exit = %d after cancel; want 0\nstderr:\n%s", code, stderr)
	}
	logs := stderr.String()
	if want := "accepted=2 duplicate=1 rejected=1 handshake=0 handled=2 failed_attempts=0 dead_lettered=0"; !strings.Contains(logs, want) {
		t.Errorf("serve counters: stderr\n%s\nlacks %q", logs, want)
	}
	// One log line per request: four reached a receiver, two did not.
	if n := strings.Count(logs, `msg="hookguard: webhook"`); n != 4 {
		t.Errorf("stderr has %d receiver log lines; want 4:\n%s", n, logs)
	}
	if n := strings.Count(logs, `msg="hookguard: no receiver"`); n != 2 {
		t.Errorf("stderr has %d no-receiver log lines; want 2:\n%s", n, logs)
	}
	for _, s := range []string{testSecret, otherSecret, "v1="} {
		if strings.Contains(logs, s) {
			t.Errorf("stderr contains %q, a secret or signature", s)
		}
	}
}

func TestServeMaxBody(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "github="+testSecret, "--max-body", "64")
	addr := srv.addr
	gh, err := providers.New("github", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range []struct {
		size int
		want int
	}{{64, http.StatusOK}, {65, http.StatusRequestEntityTooLarge}} {
		// {"a":"xxx"}: 8 bytes of framing.
		body := []byte(`{"a":"` + strings.Repeat("x", tt.size-8) + `"}`)
		req, err := signOutgoing(gh, providers.Outgoing{Body: body, Type: "push", URL: "http://" + addr + "/webhooks/github"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := send(context.Background(), client, req)
		if err != nil || res.Status != tt.want {
			t.Errorf("POST %d bytes with --max-body 64 = %d, %v; want %d", len(body), res.Status, err, tt.want)
		}
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve exit = %d; want 0", code)
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := runCmd(t, "", "serve", "--addr", ln.Addr().String(), "--secret", "stripe="+testSecret)
	if got.code != 1 || !strings.Contains(got.stderr, "address already in use") {
		t.Errorf("serve on a taken port = exit %d, stderr %q; want 1 and the listen error", got.code, got.stderr)
	}
}

func TestParseProviderSecrets(t *testing.T) {
	secrets := func(args ...string) []providerSecret {
		var l secretList
		for _, a := range args {
			_ = secretFlag{&l, secretInline}.Set(a)
		}
		ps, err := l.perProvider(&env{})
		if err != nil {
			t.Fatalf("perProvider(%q): %v", args, err)
		}
		return ps
	}
	got, err := parseProviderSecrets(secrets("stripe=a", "GitHub=b", "stripe=c=d", " slack =e"))
	if err != nil {
		t.Fatal(err)
	}
	want := []providerSpec{{"stripe", []string{"a", "c=d"}}, {"github", []string{"b"}}, {"slack", []string{"e"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseProviderSecrets = %v; want %v", got, want)
	}
	for _, bad := range [][]string{nil, {"stripe"}, {"=abc"}, {"stripe="}, {"stripe=ok", "paypal=zzz"}} {
		var l secretList
		for _, a := range bad {
			_ = secretFlag{&l, secretInline}.Set(a)
		}
		ps, err := l.perProvider(&env{})
		if err == nil {
			_, err = parseProviderSecrets(ps)
		}
		if err == nil {
			t.Errorf("secrets %q = nil error; want one", bad)
			continue
		}
		if strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "zzz") {
			t.Errorf("secrets %q: error %q echoes a secret", bad, err)
		}
	}
}

func TestJSONLinesConcurrent(t *testing.T) {
	var buf syncBuffer
	j := &jsonLines{w: &buf}
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := 0; k < 50; k++ {
				if err := j.write(eventLine{Provider: "p", ID: strings.Repeat("i", 100), Attempt: k}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("got %d lines; want 400", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

func TestSendBoundsResponse(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 3*maxResponseBody))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	res, err := send(context.Background(), http.DefaultClient, &outgoing{Method: http.MethodPost, URL: "http://" + ln.Addr().String() + "/", Header: http.Header{}})
	if err != nil || res.Status != http.StatusOK || len(res.Body) != maxResponseBody {
		t.Errorf("send = %d, %d body bytes, %v; want 200 and %d bytes", res.Status, len(res.Body), err, maxResponseBody)
	}
}
