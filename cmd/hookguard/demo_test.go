package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
)

func TestDemo(t *testing.T) {
	got := runCmd(t, "", "demo")
	if got.code != 0 {
		t.Fatalf("demo = exit %d\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr)
	}
	n := 4 * len(providers.Names())
	if !strings.Contains(got.stdout, fmt.Sprintf("all %d cases matched", n)) {
		t.Errorf("demo stdout lacks \"all %d cases matched\":\n%s", n, got.stdout)
	}
	for _, name := range providers.Names() {
		for _, c := range []string{"valid", "duplicate", "tampered"} {
			if !strings.Contains(got.stdout, name) || !containsRow(got.stdout, name, c) {
				t.Errorf("demo has no %s %s row:\n%s", name, c, got.stdout)
			}
		}
		if !containsRow(got.stdout, name, "stale") && !containsRow(got.stdout, name, "replayed") {
			t.Errorf("demo has no stale or replayed row for %s", name)
		}
	}
	for _, name := range []string{"github", "shopify"} {
		if !containsRow(got.stdout, name, "replayed") {
			t.Errorf("demo: %s signs no timestamp, want a replayed row:\n%s", name, got.stdout)
		}
	}
}

func containsRow(out, provider, c string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[0] == provider && f[1] == c && f[len(f)-1] == "ok" {
			return true
		}
	}
	return false
}

func TestPrintDemoTable(t *testing.T) {
	ok := answer{status: http.StatusOK}
	rows := []demoRow{
		{provider: "p", name: "valid", want: ok, got: ok, wantHandled: 1, gotHandled: 1},
		{provider: "p", name: "duplicate", want: answer{200, true}, got: ok, wantHandled: 1, gotHandled: 1},
		{provider: "p", name: "tampered", want: answer{status: 401}, got: answer{status: 401}, wantHandled: 1, gotHandled: 2},
		{provider: "p", name: "stale", want: answer{status: 401}, wantHandled: 1, err: fmt.Errorf("connection refused")},
	}
	var buf bytes.Buffer
	if failed := printDemoTable(&buf, rows); failed != 3 {
		t.Errorf("printDemoTable failed = %d; want 3\n%s", failed, buf.String())
	}
	out := buf.String()
	for _, want := range []string{"200 duplicate", "MISMATCH", "2/1", "ERROR: connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !containsRow(out, "p", "valid") || containsRow(out, "p", "duplicate") {
		t.Errorf("table marks the wrong rows ok:\n%s", out)
	}
}

func TestHandledCounterWait(t *testing.T) {
	c := newHandledCounter()
	got := make(chan int, 1)
	go func() {
		n, _ := c.wait(context.Background(), "p", 2)
		got <- n
	}()
	c.add("p")
	c.add("q")
	c.add("p")
	if n := <-got; n != 2 {
		t.Errorf("wait for 2 = %d", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := c.wait(ctx, "q", 5); n != 1 || err == nil {
		t.Errorf("wait with a cancelled context = %d, %v; want 1 and an error", n, err)
	}
}

func TestDemoFixtures(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, name := range append(providers.Names(), "unknown") {
		body, _, _ := demoEvent(name, now)
		if !json.Valid(body) {
			t.Errorf("demoEvent(%s) body is not JSON: %s", name, body)
		}
		tb := tamper(body)
		if bytes.Equal(tb, body) || !json.Valid(tb) {
			t.Errorf("tamper(%s body) = %s; want a different, valid JSON body", name, tb)
		}
	}
	if got := tamper([]byte("a=b")); string(got) != "a=b " {
		t.Errorf("tamper(form) = %q", got)
	}
}
