package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/providers"
)

// TestServeRedisSharesWork starts two serve processes on different ports
// with the same --redis, sends every event to both at once, and checks
// that each event is accepted by one, answered as a duplicate by the
// other, and printed (handled) exactly once across both; also with the
// queue over three shards (--shards 3).
func TestServeRedisSharesWork(t *testing.T) {
	for _, shards := range []string{"1", "3"} {
		t.Run("shards="+shards, func(t *testing.T) { testServeRedisSharesWork(t, shards) })
	}
}

func testServeRedisSharesWork(t *testing.T, shards string) {
	rs := redistest.Start(t)
	a := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--redis", rs.URL(), "--shards", shards)
	b := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--redis", rs.URL(), "--shards", shards)
	p, err := providers.New("stripe", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	const events = 20
	for i := range events {
		body := fmt.Appendf(nil, `{"id":"evt_redis_%d","object":"event","type":"invoice.paid"}`, i)
		var wg sync.WaitGroup
		var dup [2]bool
		for j, s := range []*server{a, b} {
			req, err := signOutgoing(p, providers.Outgoing{Body: body, URL: "http://" + s.addr + "/webhooks/stripe"})
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := send(context.Background(), client, req)
				if err != nil || res.Status != http.StatusOK {
					t.Errorf("event %d to server %d: %d, %v; want 200", i, j, res.Status, err)
					return
				}
				dup[j] = res.Header.Get("Hookguard-Duplicate") == "true"
			}()
		}
		wg.Wait()
		if dup[0] == dup[1] {
			t.Errorf("event %d: duplicate flags %v; want exactly one duplicate", i, dup)
		}
	}
	seen := map[string]int{}
	deadline := time.After(15 * time.Second)
	for len(seen) < events {
		var raw string
		select {
		case raw = <-a.stdout.lines:
		case raw = <-b.stdout.lines:
		case <-deadline:
			t.Fatalf("only %d of %d events printed", len(seen), events)
		}
		var l eventLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("stdout line %q: %v", raw, err)
		}
		seen[l.ID]++
	}
	select {
	case raw := <-a.stdout.lines:
		t.Errorf("extra line %s", raw)
	case raw := <-b.stdout.lines:
		t.Errorf("extra line %s", raw)
	case <-time.After(300 * time.Millisecond): // no event may be printed twice
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s printed %d times; want once", id, n)
		}
	}
	if code := a.stop(); code != 0 {
		t.Errorf("serve a exited %d; stderr:\n%s", code, a.stderr)
	}
	if code := b.stop(); code != 0 {
		t.Errorf("serve b exited %d; stderr:\n%s", code, b.stderr)
	}
}

func TestServeRedisBadURL(t *testing.T) {
	r := runCmd(t, "", "serve", "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--redis", "http://nope")
	if r.code == 0 {
		t.Fatalf("serve with a bad --redis URL exited 0")
	}
}

// TestServeRedisBadURLHidesPassword: go-redis quotes a malformed URL whole
// in its error; serve must not print the password in it.
func TestServeRedisBadURLHidesPassword(t *testing.T) {
	r := runCmd(t, "", "serve", "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--redis", "redis://u:s3cretpw@host:%zz/0")
	if r.code == 0 {
		t.Fatalf("serve with a malformed --redis URL exited 0")
	}
	if strings.Contains(r.stdout+r.stderr, "s3cretpw") {
		t.Fatalf("serve printed the URL's password:\n%s%s", r.stdout, r.stderr)
	}
}
