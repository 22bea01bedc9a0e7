package rediskit_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
)

var errBug = errors.New("handler bug")

// fixable fails permanently until fixed, then counts what it handles.
type fixable struct {
	fixed   atomic.Bool
	handled chan string
}

func (f *fixable) HandleEvent(_ context.Context, e hookguard.Event) error {
	if !f.fixed.Load() {
		return hookguard.Permanent(errBug)
	}
	f.handled <- e.ID
	return nil
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func isDuplicate(code int, h http.Header) bool {
	return code == http.StatusOK && h.Get(hookguard.DuplicateHeader) == "true"
}

// TestRedeliveryAfterDeadLetter: on the one-round-trip path (the queue's
// own store), a dead letter releases the event's dedupe records in Redis
// in the script that moves it, so that the sender's redelivery after the
// fix is handled; with WithKeepDedupeOnDeadLetter it stays a duplicate.
// With another store (here the receiver's in-memory one), the keys reach
// the dead-letter hook, which releases them with Receiver.Forget.
func TestRedeliveryAfterDeadLetter(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name      string
		ownStore  bool // WithStore(q.Store()): the atomic path
		keep      bool
		forget    bool // the dead-letter hook calls Receiver.Forget
		wantAgain bool // the redelivery is handled
	}{
		{name: "queue store", ownStore: true, wantAgain: true},
		{name: "queue store, keep", ownStore: true, keep: true},
		{name: "memory store, Forget in hook", forget: true, wantAgain: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fixable{handled: make(chan string, 4)}
			dead := make(chan hookguard.Event, 4)
			var recv atomic.Pointer[hookguard.Receiver]
			q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1),
				rediskit.WithDeadLetter(func(e hookguard.Event, _ error) {
					if tc.forget {
						if err := recv.Load().Forget(context.Background(), e); err != nil {
							t.Errorf("Forget: %v", err)
						}
					}
					dead <- e
				}))
			opts := []hookguard.Option{hookguard.WithQueue(q), hookguard.WithAckTimeout(10 * time.Second)}
			if tc.ownStore {
				opts = append(opts, hookguard.WithStore(q.Store()))
			}
			if tc.keep {
				opts = append(opts, hookguard.WithKeepDedupeOnDeadLetter())
			}
			r, err := hookguard.New(idVerifier{}, nil, opts...)
			if err != nil {
				t.Fatal(err)
			}
			recv.Store(r)

			if w := post(r, "evt_1"); w.Code != http.StatusOK || isDuplicate(w.Code, w.Header()) {
				t.Fatalf("first delivery = %d %q; want 200 accepted", w.Code, w.Body)
			}
			e := waitFor(t, dead, "the dead letter")
			if tc.keep != (len(e.DedupeKeys) == 0) {
				t.Errorf("dead letter DedupeKeys = %q (keep=%v)", e.DedupeKeys, tc.keep)
			}
			if tc.ownStore {
				n, err := srv.Client().Exists(t.Context(), q.Store().Key("test::id:evt_1")).Result()
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int64{true: 1, false: 0}[tc.keep]; n != want {
					t.Errorf("dedupe record in Redis after the dead letter: EXISTS = %d, want %d", n, want)
				}
			}
			f.fixed.Store(true)
			w := post(r, "evt_1")
			if tc.wantAgain {
				if w.Code != http.StatusOK || isDuplicate(w.Code, w.Header()) {
					t.Fatalf("redelivery = %d %q; want 200 accepted", w.Code, w.Body)
				}
				if id := waitFor(t, f.handled, "the redelivered event"); id != "evt_1" {
					t.Fatalf("handled %q", id)
				}
				if w := post(r, "evt_1"); !isDuplicate(w.Code, w.Header()) {
					t.Fatalf("copy after it was handled = %d %q; want 200 duplicate", w.Code, w.Body)
				}
				return
			}
			if !isDuplicate(w.Code, w.Header()) {
				t.Fatalf("redelivery with kept records = %d %q; want 200 duplicate", w.Code, w.Body)
			}
		})
	}
}
