package queuetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
)

// DeadLetterQueue is what [RunDeadLetters] tests: a [Queue] that takes a
// delivery's dedupe keys with its event, as [hookguard.AtomicQueue]'s
// EnqueueOnce does, and keeps the events it gives up on as dead letters
// to list, show, replay and drop, as rediskit.Queue and riverkit.Queue
// do.
type DeadLetterQueue interface {
	Queue
	// EnqueueOnce is [hookguard.AtomicQueue]'s: it stores e and records
	// keys as seen unless one of them is recorded already. When
	// e.DedupeKeys equals keys, the dead letter of e must release them.
	EnqueueOnce(ctx context.Context, e hookguard.Event, keys []string, ttl time.Duration) (dedupe.Status, error)
	// DeadLetters returns the dead letters f selects, oldest first, at
	// most f's limit; a filter that fails [hookguard.DeadLetterFilter]'s
	// Validate is an error wrapping [hookguard.ErrInvalidFilter].
	DeadLetters(ctx context.Context, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error)
	// DeadLetter returns the dead letter ref, or an error wrapping
	// [hookguard.ErrNoDeadLetter].
	DeadLetter(ctx context.Context, ref string) (hookguard.DeadLetter, error)
	// ReplayDeadLetter enqueues the dead letter's event again, unless
	// this dead letter was replayed before or one of the event's dedupe
	// keys is recorded ([dedupe.Seen]); it counts the replay.
	ReplayDeadLetter(ctx context.Context, ref string) (dedupe.Status, error)
	// DropDeadLetter deletes the dead letter ref.
	DropDeadLetter(ctx context.Context, ref string) error
}

// DeadLetterConfig is what a new queue of [RunDeadLetters] must be built
// with.
type DeadLetterConfig struct {
	// Handler is the handler the queue's workers must call.
	Handler hookguard.Handler
	// MaxAttempts is how many times the queue must try an event before
	// it gives up on it: keeps it as a dead letter, then calls
	// OnDeadLetter.
	MaxAttempts int
	// OnDeadLetter must be called once for every event the queue gives
	// up on, with the last error, after the dead letter is stored (a
	// listing right after the call shows it).
	OnDeadLetter func(e hookguard.Event, err error)
}

// RunDeadLetters tests that the dead-letter methods of the queues
// newQueue builds behave as hookguard's durable queues document them. It
// runs one subtest per behaviour; subtests do not run in parallel.
// newQueue must return a queue with an empty backend (no dead letters, no
// dedupe records) for each new subtest. Its retry backoff should be a few
// milliseconds. RunDeadLetters makes every dead letter through the queue
// itself: it enqueues events (with [DeadLetterQueue.EnqueueOnce] and the
// event's DedupeKeys, as a [hookguard.Receiver] does: two keys each, the
// ID's and the content digest's, as for a sender that signs no ID; or
// with Enqueue)
// whose handler fails, and waits for the dead-letter hook. It shuts down
// every queue it gets.
//
// The behaviours are: DeadLetters lists every dead letter, oldest first,
// with the event as it was taken in (provider, type, body, headers,
// DedupeKeys; Attempt is the attempts made), the last error's text, the
// attempts, the time it was given up (increasing, within the subtest) and
// no replays, and DeadLetter(ref) returns the same; each field of a
// [hookguard.DeadLetterFilter] selects exactly, alone and combined, down to
// the nanosecond of Since and Until, Limit keeps the oldest, and text no
// dead letter holds (a NUL byte) selects nothing without an error; a
// negative Limit is an error wrapping [hookguard.ErrInvalidFilter]; a
// reference that names no dead letter (empty, malformed, or dropped) is an
// error wrapping [hookguard.ErrNoDeadLetter] for DeadLetter,
// ReplayDeadLetter and DropDeadLetter; a replay returns [dedupe.Reserved],
// is handled once with the event's body and Attempt 1, and is counted in
// Replays, and a second replay returns [dedupe.Seen], is not counted and
// handles nothing, for an event with dedupe keys and for one without; the
// dead letter releases the event's keys, so the sender's redelivery is
// taken in, and a dead letter whose event was redelivered that way is not
// replayed; a replay that fails again is a new dead letter that releases
// the keys again, while the first stays replayed; a dropped dead letter is
// gone (shown, replayed and dropped again: ErrNoDeadLetter) and the others
// stay; ReplayDeadLetter after Shutdown fails with
// [hookguard.ErrShuttingDown].
//
// Options: [WithTimeout] bounds each wait for a dead letter or a handled
// replay; [WithGrace] is how long RunDeadLetters watches that a replay
// that must enqueue nothing is not handled (make it longer than the
// queue's poll interval); [WithEvents] is ignored.
//
// As with [Run], every failure message starts with the subtest's name,
// then the rule that broke and what the queue did, and RunDeadLetters
// needs no assertion library.
func RunDeadLetters(t *testing.T, newQueue func(t *testing.T, c DeadLetterConfig) DeadLetterQueue, opts ...Option) {
	t.Helper()
	c := config{wait: 20 * time.Second, grace: 300 * time.Millisecond, n: 100}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.err != nil {
		t.Fatalf("%v", c.err)
	}
	r := &dlRunner{cfg: c, newQueue: newQueue}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ListsOldestFirst", r.listsOldestFirst},
		{"FilterSelects", r.filterSelects},
		{"InvalidFilter", r.invalidFilter},
		{"UnknownRef", r.unknownRef},
		{"ReplayedOnce", r.replayedOnce},
		{"RedeliveredNotReplayed", r.redeliveredNotReplayed},
		{"ReplayFailsAgain", r.replayFailsAgain},
		{"DropRemoves", r.dropRemoves},
		{"ReplayAfterShutdown", r.replayAfterShutdown},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type dlRunner struct {
	cfg      config
	newQueue func(t *testing.T, c DeadLetterConfig) DeadLetterQueue
}

// dlEvent is an event the dead-letter subtests give up on, and the error
// text its handler fails with.
type dlEvent struct {
	provider, typ, id, err string
}

var dlEvents = []dlEvent{
	{"stripe", "invoice.paid", "evt_0", "db timeout"},
	{"github", "push", "evt_1", "bad payload"},
	{"stripe", "invoice.paid", "evt_2", "bad payload"},
	{"github", "issues", "evt_3", "db timeout"},
	{"stripe", "charge.failed", "evt_4", "db timeout"},
}

// errOther is the error of an event not in dlEvents.
const errOther = "queuetest: handler fails"

// dlSubtest is one subtest's queue and the record of its handler calls
// and dead letters.
type dlSubtest struct {
	t     *testing.T
	r     *dlRunner
	rec   *recorder
	q     DeadLetterQueue
	fixed atomic.Bool // once set, the handler succeeds
}

func (r *dlRunner) start(t *testing.T, maxAttempts int) *dlSubtest {
	t.Helper()
	s := &dlSubtest{t: t, r: r}
	s.rec = newRecorder(func(_ context.Context, e hookguard.Event) error {
		if s.fixed.Load() {
			return nil
		}
		for _, d := range dlEvents {
			if d.id == e.ID {
				return errors.New(d.err)
			}
		}
		return errors.New(errOther)
	})
	s.q = r.newQueue(t, DeadLetterConfig{Handler: s.rec.handler(), MaxAttempts: maxAttempts, OnDeadLetter: s.rec.deadLetter})
	if s.q == nil {
		fatalf(t, "newQueue returned nil", "RunDeadLetters needs a queue for every subtest")
	}
	q := s.q
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.wait)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	return s
}

// keys returns d's dedupe keys, distinct per subtest: backends may share
// one dedupe store between the queues of a test.
// keys returns d's dedupe keys as a receiver makes them for a sender
// whose scheme signs no ID or timestamp: one of the event ID and one of
// the digest of the signed content. Both must be recorded, and both
// released by a dead letter; a queue that spreads keys over shards must
// keep them consistent across shards.
func (s *dlSubtest) keys(d dlEvent) []string {
	sum := sha256.Sum256([]byte(d.provider + "\x00" + d.id + "\x00" + s.t.Name()))
	return []string{
		d.provider + "::id:" + d.id + "@" + s.t.Name(),
		d.provider + "::digest:" + hex.EncodeToString(sum[:]),
	}
}

// event returns d's event as a receiver takes it in, with its dedupe keys.
func (s *dlSubtest) event(d dlEvent) hookguard.Event {
	return hookguard.Event{
		Provider: d.provider, ID: d.id, Type: d.typ,
		ReceivedAt: time.Now().UTC(),
		Body:       []byte(`{"id":"` + d.id + `"}`),
		Header:     http.Header{"Content-Type": {"application/json"}},
		DedupeKeys: s.keys(d),
	}
}

// enqueueOnce enqueues d's event with its keys; the queue must take it in.
func (s *dlSubtest) enqueueOnce(d dlEvent, rule string) {
	s.t.Helper()
	e := s.event(d)
	ctx, cancel := context.WithTimeout(s.t.Context(), 5*time.Second)
	defer cancel()
	st, err := s.q.EnqueueOnce(ctx, e, e.DedupeKeys, time.Hour)
	if err != nil || st != dedupe.Reserved {
		fatalf(s.t, rule, "EnqueueOnce(%s) = %v, %v; want Reserved, nil", d.id, st, err)
	}
}

// deadCount is how often the dead-letter hook got id.
func (s *dlSubtest) deadCount(id string) int {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return len(s.rec.dead[id])
}

// waitDead waits until the dead-letter hook got id n times in all.
func (s *dlSubtest) waitDead(id string, n int) {
	s.t.Helper()
	s.rec.waitFor(s.t, s.r.cfg.wait, fmt.Sprintf("event %s, whose handler fails every attempt, did not reach the dead-letter hook (time %d)", id, n), func() bool {
		return len(s.rec.dead[id]) >= n
	})
}

// deadLetterAll enqueues the events one at a time, as a receiver does,
// and waits for each to be given up, so that they are given up in order.
func (s *dlSubtest) deadLetterAll(evs []dlEvent) {
	s.t.Helper()
	for _, d := range evs {
		n := s.deadCount(d.id)
		s.enqueueOnce(d, "EnqueueOnce of a new event must take it in")
		s.waitDead(d.id, n+1)
		// Distinct give-up times: a backend may keep them to the
		// millisecond (a Redis stream ID).
		time.Sleep(2 * time.Millisecond)
	}
}

// list returns what DeadLetters returns for f; an error stops the subtest.
func (s *dlSubtest) list(f hookguard.DeadLetterFilter) []hookguard.DeadLetter {
	s.t.Helper()
	ds, err := s.q.DeadLetters(s.t.Context(), f)
	if err != nil {
		fatalf(s.t, "DeadLetters with a valid filter must succeed", "DeadLetters(%+v) = %v", f, err)
	}
	return ds
}

// get returns DeadLetter(ref); an error stops the subtest.
func (s *dlSubtest) get(ref, rule string) hookguard.DeadLetter {
	s.t.Helper()
	d, err := s.q.DeadLetter(s.t.Context(), ref)
	if err != nil {
		fatalf(s.t, rule, "DeadLetter(%q) = %v", ref, err)
	}
	return d
}

// replay replays ref and checks the status it returns.
func (s *dlSubtest) replay(ref string, want dedupe.Status, rule string) {
	s.t.Helper()
	st, err := s.q.ReplayDeadLetter(s.t.Context(), ref)
	if err != nil || st != want {
		fatalf(s.t, rule, "ReplayDeadLetter(%q) = %v, %v; want %v, nil", ref, st, err, want)
	}
}

// handled returns the successful calls of the handler for id.
func (s *dlSubtest) handled(id string) []hookguard.Event {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	var out []hookguard.Event
	for _, c := range s.rec.calls[id] {
		if c.err == nil {
			out = append(out, c.ev)
		}
	}
	return out
}

// waitHandled waits until the handler succeeded for id n times in all.
func (s *dlSubtest) waitHandled(id string, n int, what string) {
	s.t.Helper()
	s.rec.waitFor(s.t, s.r.cfg.wait, what, func() bool { return s.rec.handled[id] >= n })
}

// settleHandled watches for the grace period that no event is handled
// beyond want (successful calls by event ID).
func (s *dlSubtest) settleHandled(want map[string]int, rule string) {
	s.t.Helper()
	time.Sleep(s.r.cfg.grace) // watching for handling that must not come
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	for id, n := range s.rec.handled {
		if n != want[id] {
			errorf(s.t, rule, "event %s handled %d times; want %d", id, n, want[id])
		}
	}
}

func ids(ds []hookguard.DeadLetter) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Event.ID)
	}
	return out
}

func (r *dlRunner) listsOldestFirst(t *testing.T) {
	s := r.start(t, 2)
	start := time.Now().Add(-time.Millisecond).Truncate(time.Millisecond)
	s.deadLetterAll(dlEvents)
	all := s.list(hookguard.DeadLetterFilter{})
	end := time.Now()
	want := []string{"evt_0", "evt_1", "evt_2", "evt_3", "evt_4"}
	if got := ids(all); !slices.Equal(got, want) {
		fatalf(t, "DeadLetters must list every dead letter, oldest first", "listed %v; want %v", got, want)
	}
	refs := map[string]bool{}
	for i, d := range all {
		w := dlEvents[i]
		ev := d.Event
		switch {
		case ev.Provider != w.provider || ev.Type != w.typ:
			errorf(t, "a dead letter must keep the event's provider and type", "%s: %q/%q; want %q/%q", w.id, ev.Provider, ev.Type, w.provider, w.typ)
		case string(ev.Body) != `{"id":"`+w.id+`"}`:
			errorf(t, "a dead letter must keep the event's body", "%s: body %q", w.id, ev.Body)
		case ev.Header.Get("Content-Type") != "application/json":
			errorf(t, "a dead letter must keep the event's headers", "%s: header %v", w.id, ev.Header)
		case !slices.Equal(ev.DedupeKeys, s.keys(w)):
			errorf(t, "a dead letter must keep the event's DedupeKeys", "%s: %q; want %q", w.id, ev.DedupeKeys, s.keys(w))
		case d.Err != w.err:
			errorf(t, "Err must be the text of the last attempt's error", "%s: %q; want %q", w.id, d.Err, w.err)
		case d.Attempts != 2 || ev.Attempt != 2:
			errorf(t, "Attempts and Event.Attempt must be the attempts made", "%s: Attempts %d, Event.Attempt %d; want 2 and 2 (MaxAttempts)", w.id, d.Attempts, ev.Attempt)
		case d.Replays != 0:
			errorf(t, "a dead letter never replayed must have Replays 0", "%s: Replays %d", w.id, d.Replays)
		case d.At.Before(start) || d.At.After(end):
			errorf(t, "At must be when the queue gave the event up", "%s: At %v; want within [%v, %v]", w.id, d.At, start, end)
		case i > 0 && !d.At.After(all[i-1].At):
			errorf(t, "dead letters given up in order must have increasing At", "%s: At %v, not after %s's %v", w.id, d.At, all[i-1].Event.ID, all[i-1].At)
		case d.Ref == "" || refs[d.Ref]:
			errorf(t, "each dead letter must have a reference of its own", "%s: Ref %q", w.id, d.Ref)
		}
		refs[d.Ref] = true
		if one := s.get(d.Ref, "DeadLetter must find a listed dead letter by its Ref"); !reflect.DeepEqual(one, d) {
			errorf(t, "DeadLetter(ref) must return the listed dead letter", "%s: DeadLetter(%q) = %+v; listed %+v", w.id, d.Ref, one, d)
		}
	}
}

func (r *dlRunner) filterSelects(t *testing.T) {
	s := r.start(t, 1)
	s.deadLetterAll(dlEvents)
	all := s.list(hookguard.DeadLetterFilter{})
	if len(all) != len(dlEvents) {
		fatalf(t, "DeadLetters must list every dead letter", "listed %v", ids(all))
	}
	for _, tc := range []struct {
		name string
		f    hookguard.DeadLetterFilter
		want []string
	}{
		{"provider", hookguard.DeadLetterFilter{Provider: "stripe"}, []string{"evt_0", "evt_2", "evt_4"}},
		{"type", hookguard.DeadLetterFilter{Type: "invoice.paid"}, []string{"evt_0", "evt_2"}},
		{"provider and type", hookguard.DeadLetterFilter{Provider: "github", Type: "push"}, []string{"evt_1"}},
		{"error text", hookguard.DeadLetterFilter{ErrContains: "timeout"}, []string{"evt_0", "evt_3", "evt_4"}},
		{"error text is case-sensitive", hookguard.DeadLetterFilter{ErrContains: "Timeout"}, []string{}},
		{"since", hookguard.DeadLetterFilter{Since: all[2].At}, []string{"evt_2", "evt_3", "evt_4"}},
		{"since, a nanosecond later", hookguard.DeadLetterFilter{Since: all[2].At.Add(time.Nanosecond)}, []string{"evt_3", "evt_4"}},
		{"until", hookguard.DeadLetterFilter{Until: all[2].At}, []string{"evt_0", "evt_1"}},
		{"until, a nanosecond later", hookguard.DeadLetterFilter{Until: all[2].At.Add(time.Nanosecond)}, []string{"evt_0", "evt_1", "evt_2"}},
		{"window", hookguard.DeadLetterFilter{Since: all[1].At, Until: all[4].At}, []string{"evt_1", "evt_2", "evt_3"}},
		{"until before all", hookguard.DeadLetterFilter{Until: all[0].At}, []string{}},
		{"limit", hookguard.DeadLetterFilter{Limit: 2}, []string{"evt_0", "evt_1"}},
		{"limit of a filter", hookguard.DeadLetterFilter{Provider: "stripe", Limit: 2}, []string{"evt_0", "evt_2"}},
		{"limit 1 finds the last", hookguard.DeadLetterFilter{Type: "charge.failed", Limit: 1}, []string{"evt_4"}},
		{"no such provider", hookguard.DeadLetterFilter{Provider: "shopify"}, []string{}},
		{"provider with a NUL byte", hookguard.DeadLetterFilter{Provider: "a\x00b"}, []string{}},
		{"error text with a NUL byte", hookguard.DeadLetterFilter{ErrContains: "a\x00b"}, []string{}},
	} {
		got, err := s.q.DeadLetters(t.Context(), tc.f)
		if err != nil {
			errorf(t, "DeadLetters with a valid filter must succeed", "filter %q: %v", tc.name, err)
			continue
		}
		if g := ids(got); !slices.Equal(g, tc.want) {
			errorf(t, "DeadLetters must return exactly what the filter selects, oldest first, at most its Limit", "filter %q: got %v; want %v", tc.name, g, tc.want)
		}
	}
}

func (r *dlRunner) invalidFilter(t *testing.T) {
	s := r.start(t, 1)
	for _, limit := range []int{-1, -100} {
		ds, err := s.q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{Limit: limit})
		if !errors.Is(err, hookguard.ErrInvalidFilter) {
			errorf(t, "a negative Limit must be an error wrapping hookguard.ErrInvalidFilter", "DeadLetters(Limit %d) = %d dead letters, %v", limit, len(ds), err)
		}
	}
}

// checkGone checks that ref names no dead letter for any of the methods
// that take one.
func (s *dlSubtest) checkGone(ref, rule string) {
	s.t.Helper()
	ctx := s.t.Context()
	if d, err := s.q.DeadLetter(ctx, ref); !errors.Is(err, hookguard.ErrNoDeadLetter) {
		errorf(s.t, rule, "DeadLetter(%q) = %s, %v; want an error wrapping hookguard.ErrNoDeadLetter", ref, d.Event.ID, err)
	}
	if st, err := s.q.ReplayDeadLetter(ctx, ref); !errors.Is(err, hookguard.ErrNoDeadLetter) {
		errorf(s.t, rule, "ReplayDeadLetter(%q) = %v, %v; want an error wrapping hookguard.ErrNoDeadLetter", ref, st, err)
	}
	if err := s.q.DropDeadLetter(ctx, ref); !errors.Is(err, hookguard.ErrNoDeadLetter) {
		errorf(s.t, rule, "DropDeadLetter(%q) = %v; want an error wrapping hookguard.ErrNoDeadLetter", ref, err)
	}
}

func (r *dlRunner) unknownRef(t *testing.T) {
	s := r.start(t, 1)
	for _, ref := range []string{"", "not-a-ref", "0", "1", "-1", "1-1"} {
		s.checkGone(ref, "a reference that names no dead letter must be an error wrapping hookguard.ErrNoDeadLetter")
	}
	if ds := s.list(hookguard.DeadLetterFilter{}); len(ds) != 0 {
		errorf(t, "a new queue must have no dead letters", "listed %v", ids(ds))
	}
}

func (r *dlRunner) replayedOnce(t *testing.T) {
	s := r.start(t, 1)
	s.deadLetterAll(dlEvents[:1])
	noKeys := hookguard.Event{Provider: "queuetest", ID: "nokeys", Type: "test.event", Body: []byte("b"), ReceivedAt: time.Now().UTC()}
	if err := s.q.Enqueue(t.Context(), noKeys); err != nil {
		fatalf(t, "Enqueue on a running queue must succeed", "Enqueue(nokeys) = %v", err)
	}
	s.waitDead("nokeys", 1)
	ds := s.list(hookguard.DeadLetterFilter{})
	if got := ids(ds); !slices.Equal(got, []string{"evt_0", "nokeys"}) {
		fatalf(t, "DeadLetters must list every dead letter, oldest first", "listed %v; want [evt_0 nokeys]", got)
	}
	s.fixed.Store(true)
	for _, d := range ds {
		id := d.Event.ID
		s.replay(d.Ref, dedupe.Reserved, "the first replay of a dead letter must enqueue its event (Reserved)")
		s.waitHandled(id, 1, "the replayed event "+id+" was not handled")
		h := s.handled(id)[0]
		if string(h.Body) != string(d.Event.Body) || h.Provider != d.Event.Provider || h.Type != d.Event.Type {
			errorf(t, "the replay must hand the handler the dead letter's event", "%s: handled %q/%q body %q; want %q/%q body %q", id, h.Provider, h.Type, h.Body, d.Event.Provider, d.Event.Type, d.Event.Body)
		}
		if h.Attempt != 1 {
			errorf(t, "a replay must start again at Attempt 1", "%s: replay handled with Attempt %d", id, h.Attempt)
		}
		if got := s.get(d.Ref, "a replayed dead letter must stay").Replays; got != 1 {
			errorf(t, "a replay that enqueued the event must be counted in Replays", "%s: Replays %d after one replay; want 1", id, got)
		}
		s.replay(d.Ref, dedupe.Seen, "a second replay of a dead letter must enqueue nothing (Seen)")
	}
	s.settleHandled(map[string]int{"evt_0": 1, "nokeys": 1}, "a second replay must not hand the event to the handler again")
	for _, d := range ds {
		if got := s.get(d.Ref, "a replayed dead letter must stay").Replays; got != 1 {
			errorf(t, "a replay that returned Seen must not be counted", "%s: Replays %d; want 1", d.Event.ID, got)
		}
	}
}

func (r *dlRunner) redeliveredNotReplayed(t *testing.T) {
	s := r.start(t, 1)
	d := dlEvents[0]
	s.deadLetterAll([]dlEvent{d})
	s.fixed.Store(true)
	s.enqueueOnce(d, "a dead letter must release the event's dedupe keys, so that the sender's redelivery is taken in")
	s.waitHandled(d.id, 1, "the redelivery after the dead letter was not handled")
	ds := s.list(hookguard.DeadLetterFilter{})
	if len(ds) != 1 {
		fatalf(t, "a handled redelivery must leave the one dead letter", "listed %v; want [%s]", ids(ds), d.id)
	}
	s.replay(ds[0].Ref, dedupe.Seen, "a dead letter whose event the sender redelivered since must not be replayed (Seen)")
	s.settleHandled(map[string]int{d.id: 1}, "a dead letter whose event the sender redelivered since must not be handled again by a replay")
	if got := s.get(ds[0].Ref, "the dead letter must stay").Replays; got != 0 {
		errorf(t, "a replay that returned Seen must not be counted", "Replays %d; want 0", got)
	}
}

func (r *dlRunner) replayFailsAgain(t *testing.T) {
	s := r.start(t, 1)
	d := dlEvents[0]
	s.deadLetterAll([]dlEvent{d})
	ds := s.list(hookguard.DeadLetterFilter{})
	if len(ds) != 1 {
		fatalf(t, "DeadLetters must list every dead letter", "listed %v; want [%s]", ids(ds), d.id)
	}
	first := ds[0].Ref
	s.replay(first, dedupe.Reserved, "the first replay of a dead letter must enqueue its event (Reserved)")
	s.waitDead(d.id, 2)
	ds = s.list(hookguard.DeadLetterFilter{})
	if got := ids(ds); !slices.Equal(got, []string{d.id, d.id}) || ds[0].Ref != first {
		fatalf(t, "a replay that fails again must be a new dead letter, after the first", "listed %v (first %q); want [%s %s] with %q first", got, ds[0].Ref, d.id, d.id, first)
	}
	if ds[0].Replays != 1 || ds[1].Replays != 0 {
		errorf(t, "the replayed dead letter must count the replay and the new one none", "Replays %d and %d; want 1 and 0", ds[0].Replays, ds[1].Replays)
	}
	if !slices.Equal(ds[1].Event.DedupeKeys, s.keys(d)) {
		errorf(t, "a replay must keep the event's DedupeKeys", "new dead letter has %q; want %q", ds[1].Event.DedupeKeys, s.keys(d))
	}
	s.enqueueOnce(d, "the replay's dead letter must release the event's dedupe keys again, so that the sender's redelivery is taken in")
	s.waitDead(d.id, 3)
	s.replay(first, dedupe.Seen, "a replayed dead letter must stay replayed when the replay failed again (Seen)")
}

func (r *dlRunner) dropRemoves(t *testing.T) {
	s := r.start(t, 1)
	s.deadLetterAll(dlEvents[:3])
	ds := s.list(hookguard.DeadLetterFilter{})
	if len(ds) != 3 {
		fatalf(t, "DeadLetters must list every dead letter", "listed %v", ids(ds))
	}
	s.fixed.Store(true)
	s.replay(ds[0].Ref, dedupe.Reserved, "the first replay of a dead letter must enqueue its event (Reserved)")
	s.waitHandled(ds[0].Event.ID, 1, "the replayed event was not handled")
	for _, d := range ds[:2] { // a replayed dead letter and one never replayed
		if err := s.q.DropDeadLetter(t.Context(), d.Ref); err != nil {
			fatalf(t, "DropDeadLetter of a dead letter must succeed", "DropDeadLetter(%q) (%s) = %v", d.Ref, d.Event.ID, err)
		}
		s.checkGone(d.Ref, "a dropped dead letter must be gone")
	}
	if got := ids(s.list(hookguard.DeadLetterFilter{})); !slices.Equal(got, []string{"evt_2"}) {
		errorf(t, "dropping dead letters must leave the others", "listed %v; want [evt_2]", got)
	}
}

func (r *dlRunner) replayAfterShutdown(t *testing.T) {
	s := r.start(t, 1)
	s.deadLetterAll(dlEvents[:1])
	ds := s.list(hookguard.DeadLetterFilter{})
	if len(ds) != 1 {
		fatalf(t, "DeadLetters must list every dead letter", "listed %v", ids(ds))
	}
	ctx, cancel := context.WithTimeout(t.Context(), r.cfg.wait)
	defer cancel()
	if err := s.q.Shutdown(ctx); err != nil {
		fatalf(t, "Shutdown of an idle queue must succeed", "Shutdown = %v; want nil", err)
	}
	if st, err := s.q.ReplayDeadLetter(t.Context(), ds[0].Ref); !errors.Is(err, hookguard.ErrShuttingDown) {
		errorf(t, "ReplayDeadLetter after Shutdown must fail with hookguard.ErrShuttingDown", "ReplayDeadLetter = %v, %v", st, err)
	}
}
