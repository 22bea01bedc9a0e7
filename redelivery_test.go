package hookguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
)

var errBug = errors.New("handler bug")

// fixable is a handler that fails permanently until fixed, then records
// what it handles.
type fixable struct {
	fixed   atomic.Bool
	handled chan hookguard.Event
	dead    chan hookguard.Event
}

func newFixable() *fixable {
	return &fixable{handled: make(chan hookguard.Event, 64), dead: make(chan hookguard.Event, 64)}
}

func (f *fixable) HandleEvent(_ context.Context, e hookguard.Event) error {
	if !f.fixed.Load() {
		return hookguard.Permanent(errBug)
	}
	f.handled <- e
	return nil
}

func (f *fixable) onDeadLetter(e hookguard.Event, err error) {
	if !errors.Is(err, errBug) {
		panic("unexpected dead-letter error: " + err.Error())
	}
	f.dead <- e
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func serveDelivery(t *testing.T, h http.Handler, d delivery) (status int, duplicate bool) {
	t.Helper()
	w := testkit.Serve(h, d.request())
	return w.Code, w.Header().Get(hookguard.DuplicateHeader) != ""
}

// TestRedeliveryAfterDeadLetter: the handler gives up on an event (dead
// letter); the sender's manual redelivery of the same event (same ID and
// body, as Stripe's "Resend" or GitHub's "Redeliver" send it) after the
// fix is handled, not answered as a duplicate; a third copy, after it was
// handled, is a duplicate again. Every preset of the pipeline tests (ID in
// the body, in a header, with and without a content digest), on the
// in-memory atomic path and on the reserve/commit path of another store.
func TestRedeliveryAfterDeadLetter(t *testing.T) {
	stores := []struct {
		name  string
		store func() dedupe.Store
	}{
		{"memory", nil},
		{"shared store", func() dedupe.Store { return testkit.NewFlakyStore() }},
	}
	for _, name := range pipelinePresets {
		for _, st := range stores {
			t.Run(name+"/"+st.name, func(t *testing.T) {
				p := newProvider(t, name)
				f := newFixable()
				opts := []hookguard.Option{hookguard.WithClock(clock),
					hookguard.WithDeadLetter(f.onDeadLetter)}
				if st.store != nil {
					opts = append(opts, hookguard.WithStore(st.store()))
				}
				r, err := hookguard.New(p, f, opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer shutdown(t, r)
				d := sign(t, p, "evt_redeliver", eventBody("evt_redeliver"))

				if code, dup := serveDelivery(t, r, d); code != http.StatusOK || dup {
					t.Fatalf("first delivery: %d duplicate=%v, want 200 accepted", code, dup)
				}
				dl := wait(t, f.dead, "the dead letter")
				if len(dl.DedupeKeys) == 0 {
					t.Errorf("dead letter carries no DedupeKeys")
				}
				f.fixed.Store(true)
				if code, dup := serveDelivery(t, r, d); code != http.StatusOK || dup {
					t.Fatalf("redelivery after the dead letter: %d duplicate=%v, want 200 accepted", code, dup)
				}
				if e := wait(t, f.handled, "the redelivered event"); e.ID != dl.ID {
					t.Errorf("handled %q, want %q", e.ID, dl.ID)
				}
				if code, dup := serveDelivery(t, r, d); code != http.StatusOK || !dup {
					t.Fatalf("copy after the event was handled: %d duplicate=%v, want 200 duplicate", code, dup)
				}
			})
		}
	}
}

// TestKeepDedupeOnDeadLetter: with the option, a dead letter keeps its
// records, and the redelivery is a duplicate.
func TestKeepDedupeOnDeadLetter(t *testing.T) {
	p := newProvider(t, "stripe")
	f := newFixable()
	r, err := hookguard.New(p, f, hookguard.WithClock(clock), hookguard.WithKeepDedupeOnDeadLetter(),
		hookguard.WithDeadLetter(f.onDeadLetter))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	d := sign(t, p, "evt_keep", eventBody("evt_keep"))
	if code, dup := serveDelivery(t, r, d); code != http.StatusOK || dup {
		t.Fatalf("first delivery: %d duplicate=%v", code, dup)
	}
	if dl := wait(t, f.dead, "the dead letter"); dl.DedupeKeys != nil {
		t.Errorf("DedupeKeys = %q, want nil when the records are kept", dl.DedupeKeys)
	}
	f.fixed.Store(true)
	if code, dup := serveDelivery(t, r, d); code != http.StatusOK || !dup {
		t.Fatalf("redelivery: %d duplicate=%v, want 200 duplicate", code, dup)
	}
}

// TestRedeliveryByState: what a copy of an event does while the first is
// queued, running, handled, or dead-lettered (the README's table).
func TestRedeliveryByState(t *testing.T) {
	p := newProvider(t, "stripe")
	block := make(chan struct{})
	running := make(chan string, 8)
	var calls sync.Map // ID -> *atomic.Int64
	h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		n, _ := calls.LoadOrStore(e.ID, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if e.ID == "evt_running" {
			running <- e.ID
			<-block
		}
		if e.ID == "evt_dead" {
			return hookguard.Permanent(errBug)
		}
		return nil
	})
	handled := make(chan string, 8)
	dead := make(chan string, 8)
	r, err := hookguard.New(p, h, hookguard.WithClock(clock),
		hookguard.WithHooks(hookguard.Hooks{OnHandled: func(e hookguard.Event, _ int, err error, _ time.Duration) {
			if err == nil {
				handled <- e.ID
			}
		}}),
		hookguard.WithWorkers(1),
		hookguard.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e.ID }))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	send := func(id string) (int, bool) {
		return serveDelivery(t, r, sign(t, p, id, eventBody(id)))
	}
	count := func(id string) int64 {
		n, ok := calls.Load(id)
		if !ok {
			return 0
		}
		return n.(*atomic.Int64).Load()
	}

	// Running: the only worker is inside the handler.
	send("evt_running")
	wait(t, running, "the running handler")
	// Queued: waits behind it.
	send("evt_queued")
	for _, id := range []string{"evt_running", "evt_queued"} {
		if code, dup := send(id); code != http.StatusOK || !dup {
			t.Errorf("copy of %s: %d duplicate=%v, want 200 duplicate", id, code, dup)
		}
	}
	close(block)
	wait(t, handled, "evt_running handled")
	wait(t, handled, "evt_queued handled")
	// Handled.
	if code, dup := send("evt_queued"); code != http.StatusOK || !dup {
		t.Errorf("copy of a handled event: %d duplicate=%v, want 200 duplicate", code, dup)
	}
	// Dead-lettered: taken in and handled again.
	send("evt_dead")
	wait(t, dead, "evt_dead dead-lettered")
	if code, dup := send("evt_dead"); code != http.StatusOK || dup {
		t.Errorf("copy of a dead letter: %d duplicate=%v, want 200 accepted", code, dup)
	}
	wait(t, dead, "evt_dead dead-lettered again")
	for id, want := range map[string]int64{"evt_running": 1, "evt_queued": 1, "evt_dead": 2} {
		if got := count(id); got != want {
			t.Errorf("%s handled %d times, want %d", id, got, want)
		}
	}
}

// jsonQueue is a queue of the user's own that stores events as JSON (as a
// database-backed queue would) and gives up on every one, calling the
// receiver's Forget from its dead-letter path.
type jsonQueue struct {
	recv   func() *hookguard.Receiver
	stored [][]byte
	mu     sync.Mutex
}

func (q *jsonQueue) Enqueue(_ context.Context, e hookguard.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	q.mu.Lock()
	q.stored = append(q.stored, b)
	q.mu.Unlock()
	return nil
}

// giveUp dead-letters every stored event.
func (q *jsonQueue) giveUp(t *testing.T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, b := range q.stored {
		var e hookguard.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if err := q.recv().Forget(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	q.stored = nil
}

// TestForgetFromOwnQueue: a queue of the user's own that stores events
// outside the process keeps DedupeKeys with them, and releases them with
// Receiver.Forget when it gives an event up.
func TestForgetFromOwnQueue(t *testing.T) {
	for _, name := range []string{"github", "stripe"} { // ID and digest; ID only
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			var r *hookguard.Receiver
			q := &jsonQueue{recv: func() *hookguard.Receiver { return r }}
			var err error
			r, err = hookguard.New(p, nil, hookguard.WithClock(clock), hookguard.WithQueue(q))
			if err != nil {
				t.Fatal(err)
			}
			d := sign(t, p, "evt_own", eventBody("evt_own"))
			if code, dup := serveDelivery(t, r, d); code != http.StatusOK || dup {
				t.Fatalf("first delivery: %d duplicate=%v", code, dup)
			}
			if code, dup := serveDelivery(t, r, d); !dup {
				t.Fatalf("copy while stored: %d duplicate=%v, want duplicate", code, dup)
			}
			q.giveUp(t)
			if code, dup := serveDelivery(t, r, d); code != http.StatusOK || dup {
				t.Fatalf("copy after Forget: %d duplicate=%v, want 200 accepted", code, dup)
			}
		})
	}
}

// TestDeadLetterBeforeCommit: a handler that gives up at once can
// dead-letter its event before the receiver commits the reservation (the
// reserve/enqueue/commit path of a shared store). The release wins: the
// redelivery is taken in, every time.
func TestDeadLetterBeforeCommit(t *testing.T) {
	p := newProvider(t, "stripe")
	store := testkit.NewFlakyStore()
	f := newFixable()
	r, err := hookguard.New(p, f, hookguard.WithClock(clock), hookguard.WithStore(store),
		hookguard.WithDeadLetter(f.onDeadLetter))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	n := 200
	if testing.Short() {
		n = 50
	}
	for i := range n {
		f.fixed.Store(false)
		id := fmt.Sprintf("evt_race_%d", i)
		d := sign(t, p, id, eventBody(id))
		serveDelivery(t, r, d)
		wait(t, f.dead, "the dead letter")
		f.fixed.Store(true)
		if code, dup := serveDelivery(t, r, d); code != http.StatusOK || dup {
			t.Fatalf("redelivery %d: %d duplicate=%v, want 200 accepted", i, code, dup)
		}
		wait(t, f.handled, "the redelivered event")
	}
}
