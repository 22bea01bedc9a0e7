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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		require.Failf(t, "timed out", "waiting for %s", what)
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
				require.NoError(t, err)
				defer shutdown(t, r)
				d := sign(t, p, "evt_redeliver", eventBody("evt_redeliver"))

				code, dup := serveDelivery(t, r, d)
				require.Equal(t, http.StatusOK, code, "first delivery")
				require.False(t, dup, "first delivery: want 200 accepted, not a duplicate")
				dl := wait(t, f.dead, "the dead letter")
				assert.NotEmpty(t, dl.DedupeKeys, "dead letter carries no DedupeKeys")
				f.fixed.Store(true)
				code, dup = serveDelivery(t, r, d)
				require.Equal(t, http.StatusOK, code, "redelivery after the dead letter")
				require.False(t, dup, "redelivery after the dead letter: want 200 accepted, not a duplicate")
				e := wait(t, f.handled, "the redelivered event")
				assert.Equal(t, dl.ID, e.ID, "handled event")
				code, dup = serveDelivery(t, r, d)
				require.Equal(t, http.StatusOK, code, "copy after the event was handled")
				require.True(t, dup, "copy after the event was handled: want 200 duplicate")
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
	require.NoError(t, err)
	defer shutdown(t, r)
	d := sign(t, p, "evt_keep", eventBody("evt_keep"))
	code, dup := serveDelivery(t, r, d)
	require.Equal(t, http.StatusOK, code, "first delivery")
	require.False(t, dup, "first delivery: duplicate")
	dl := wait(t, f.dead, "the dead letter")
	assert.Nil(t, dl.DedupeKeys, "DedupeKeys, want nil when the records are kept")
	f.fixed.Store(true)
	code, dup = serveDelivery(t, r, d)
	require.Equal(t, http.StatusOK, code, "redelivery")
	require.True(t, dup, "redelivery: want 200 duplicate")
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
	require.NoError(t, err)
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
		code, dup := send(id)
		assert.Equal(t, http.StatusOK, code, "copy of %s", id)
		assert.True(t, dup, "copy of %s: want 200 duplicate", id)
	}
	close(block)
	wait(t, handled, "evt_running handled")
	wait(t, handled, "evt_queued handled")
	// Handled.
	code, dup := send("evt_queued")
	assert.Equal(t, http.StatusOK, code, "copy of a handled event")
	assert.True(t, dup, "copy of a handled event: want 200 duplicate")
	// Dead-lettered: taken in and handled again.
	send("evt_dead")
	wait(t, dead, "evt_dead dead-lettered")
	code, dup = send("evt_dead")
	assert.Equal(t, http.StatusOK, code, "copy of a dead letter")
	assert.False(t, dup, "copy of a dead letter: want 200 accepted, not a duplicate")
	wait(t, dead, "evt_dead dead-lettered again")
	for id, want := range map[string]int64{"evt_running": 1, "evt_queued": 1, "evt_dead": 2} {
		assert.Equal(t, want, count(id), "%s handled", id)
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
		require.NoError(t, json.Unmarshal(b, &e))
		require.NoError(t, q.recv().Forget(context.Background(), e))
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
			require.NoError(t, err)
			d := sign(t, p, "evt_own", eventBody("evt_own"))
			code, dup := serveDelivery(t, r, d)
			require.Equal(t, http.StatusOK, code, "first delivery")
			require.False(t, dup, "first delivery: duplicate")
			code, dup = serveDelivery(t, r, d)
			require.True(t, dup, "copy while stored: status %d, want duplicate", code)
			q.giveUp(t)
			code, dup = serveDelivery(t, r, d)
			require.Equal(t, http.StatusOK, code, "copy after Forget")
			require.False(t, dup, "copy after Forget: want 200 accepted, not a duplicate")
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
	require.NoError(t, err)
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
		code, dup := serveDelivery(t, r, d)
		require.Equal(t, http.StatusOK, code, "redelivery %d", i)
		require.False(t, dup, "redelivery %d: want 200 accepted, not a duplicate", i)
		wait(t, f.handled, "the redelivered event")
	}
}
