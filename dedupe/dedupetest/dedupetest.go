package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/dedupe"
)

// Option configures [Run].
type Option func(*config)

type config struct {
	advance    func(time.Duration)
	shortTTL   time.Duration
	goroutines int
	wait       time.Duration
	err        error // the first invalid option, reported by Run
}

// invalidOption records the first invalid option's error.
func (c *config) invalidOption(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("dedupetest: invalid option: "+format, args...)
	}
}

// WithAdvance tells Run that the stores newStore returns read a fake clock,
// and gives the function that moves that clock forward by d. Run then
// expires records by calling advance instead of waiting in real time. The
// function must move the clock of every store newStore returns (sharing one
// fake clock between them is the simplest way).
func WithAdvance(advance func(d time.Duration)) Option {
	return func(c *config) { c.advance = advance }
}

// WithShortTTL sets the TTL that Run expects to end during a subtest
// (default 100ms). Without [WithAdvance] Run waits for it in real time, so
// pick the shortest TTL the store keeps precisely; Redis, for example,
// handles milliseconds. d <= 0 fails the test when Run starts.
func WithShortTTL(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.invalidOption("WithShortTTL(%v): the TTL must be positive", d)
			return
		}
		c.shortTTL = d
	}
}

// WithGoroutines sets how many goroutines race for one key in the
// contention subtests (default 32). n < 2 fails the test when Run starts.
func WithGoroutines(n int) Option {
	return func(c *config) {
		if n < 2 {
			c.invalidOption("WithGoroutines(%d): at least 2 goroutines must race for a key", n)
			return
		}
		c.goroutines = n
	}
}

// WithExpiryTimeout bounds how long Run waits in real time for a record with
// the short TTL to expire before it reports a failure (default 50 times the
// short TTL, at least 5s). d <= 0 fails the test when Run starts.
func WithExpiryTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.invalidOption("WithExpiryTimeout(%v): the timeout must be positive", d)
			return
		}
		c.wait = d
	}
}

// longTTL is a TTL that never ends during a run.
const longTTL = time.Hour

// Run tests that the stores made by newStore behave as a [dedupe.Store]
// must. It runs one subtest per behaviour and calls newStore once per
// subtest, so records never leak between subtests; newStore may register
// cleanups with t.Cleanup. Subtests do not run in parallel with each other.
//
// The behaviours are: Reserve is atomic under contention; Reserve after
// Commit reports Seen; only the owner's token commits or releases; a released
// key can be reserved again; pending and seen records expire after their TTL
// and an expired owner can neither commit nor release the new holder's
// record; Commit replaces the reservation TTL; keys are independent; a done
// context is reported and changes nothing; empty keys, empty tokens and
// non-positive TTLs are refused with [dedupe.ErrEmptyKey],
// [dedupe.ErrEmptyToken] and [dedupe.ErrInvalidTTL].
//
// Without [WithAdvance], the expiry subtests wait in real time for the short
// TTL, polling the store until a deadline.
func Run(t *testing.T, newStore func(t *testing.T) dedupe.Store, opts ...Option) {
	t.Helper()
	c := config{shortTTL: 100 * time.Millisecond, goroutines: 32}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.err != nil {
		t.Fatalf("%v", c.err)
	}
	if c.wait == 0 {
		c.wait = max(50*c.shortTTL, 5*time.Second)
	}
	r := &runner{cfg: c, newStore: newStore}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, dedupe.Store)
	}{
		{"ReserveFreeKey", r.reserveFreeKey},
		{"ReserveContention", r.reserveContention},
		{"ReserveContentionManyKeys", r.reserveContentionManyKeys},
		{"ReserveAfterCommit", r.reserveAfterCommit},
		{"CommitTwiceByOwner", r.commitTwiceByOwner},
		{"CommitByOtherToken", r.commitByOtherToken},
		{"CommitUnreservedKey", r.commitUnreservedKey},
		{"ReleaseByOtherToken", r.releaseByOtherToken},
		{"ReleasePendingThenReserve", r.releasePendingThenReserve},
		{"ReleaseSeenThenReserve", r.releaseSeenThenReserve},
		{"ReleaseUnreservedKey", r.releaseUnreservedKey},
		{"ForgetPendingAndSeen", r.forgetPendingAndSeen},
		{"ForgetUnknownKey", r.forgetUnknownKey},
		{"PendingExpires", r.pendingExpires},
		{"SeenExpires", r.seenExpires},
		{"ExpiredOwnerCannotCommitOrRelease", r.expiredOwner},
		{"CommitReplacesTTL", r.commitReplacesTTL},
		{"KeysIndependent", r.keysIndependent},
		{"ContextDone", r.contextDone},
		{"InvalidArguments", r.invalidArguments},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tc.fn(t, s)
		})
	}
}

type runner struct {
	cfg      config
	newStore func(t *testing.T) dedupe.Store
}

// reserve calls Reserve and fails the test on an error or another status.
func reserve(t *testing.T, s dedupe.Store, key, token string, ttl time.Duration, want dedupe.Status) {
	t.Helper()
	got, err := s.Reserve(t.Context(), key, token, ttl)
	if err != nil {
		t.Fatalf("Reserve(%q, %q, %v): unexpected error: %v", key, token, ttl, err)
	}
	if got != want {
		t.Fatalf("Reserve(%q, %q, %v) = %v, want %v", key, token, ttl, got, want)
	}
}

func commit(t *testing.T, s dedupe.Store, key, token string, ttl time.Duration, want error) {
	t.Helper()
	err := s.Commit(t.Context(), key, token, ttl)
	if !errors.Is(err, want) || (want == nil && err != nil) {
		t.Fatalf("Commit(%q, %q, %v) = %v, want %v", key, token, ttl, err, want)
	}
}

func release(t *testing.T, s dedupe.Store, key, token string) {
	t.Helper()
	if err := s.Release(t.Context(), key, token); err != nil {
		t.Fatalf("Release(%q, %q) = %v, want nil", key, token, err)
	}
}

// expire waits until the record of key, made with the short TTL, has ended:
// with a fake clock it advances it; otherwise it polls Reserve with a probe
// token until the key is free, then releases the probe's reservation.
func (r *runner) expire(t *testing.T, s dedupe.Store, key string) {
	t.Helper()
	if r.cfg.advance != nil {
		r.cfg.advance(r.cfg.shortTTL + time.Millisecond)
		return
	}
	const probe = "dedupetest-expiry-probe"
	deadline := time.Now().Add(r.cfg.wait)
	poll := max(r.cfg.shortTTL/10, time.Millisecond)
	for {
		st, err := s.Reserve(t.Context(), key, probe, longTTL)
		if err != nil {
			t.Fatalf("Reserve(%q) while waiting for expiry: %v", key, err)
		}
		if st == dedupe.Reserved {
			release(t, s, key, probe)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %q with TTL %v still %v after %v: records must expire after their TTL", key, r.cfg.shortTTL, st, r.cfg.wait)
		}
		time.Sleep(poll) // waiting for real time to pass, not for another goroutine
	}
}

func (r *runner) reserveFreeKey(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	reserve(t, s, "k", "b", longTTL, dedupe.Pending)
	// The holder's own second Reserve does not re-acquire the key either.
	reserve(t, s, "k", "a", longTTL, dedupe.Pending)
}

// race makes n goroutines call Reserve on key at once and returns how many
// got each status.
func (r *runner) race(t *testing.T, s dedupe.Store, key string) map[dedupe.Status]int {
	t.Helper()
	n := r.cfg.goroutines
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		mu     sync.Mutex
		counts = make(map[dedupe.Status]int)
		errs   []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, err := s.Reserve(t.Context(), key, fmt.Sprintf("token-%d", i), longTTL)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			counts[st]++
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Reserve(%q): %v", key, err)
	}
	return counts
}

func (r *runner) reserveContention(t *testing.T, s dedupe.Store) {
	counts := r.race(t, s, "contended")
	n := r.cfg.goroutines
	if counts[dedupe.Reserved] != 1 || counts[dedupe.Pending] != n-1 {
		t.Fatalf("%d concurrent Reserve calls on one key gave %v; want exactly 1 reserved and %d pending", n, counts, n-1)
	}
}

func (r *runner) reserveContentionManyKeys(t *testing.T, s dedupe.Store) {
	for k := range 20 {
		key := fmt.Sprintf("contended-%d", k)
		counts := r.race(t, s, key)
		if counts[dedupe.Reserved] != 1 {
			t.Fatalf("concurrent Reserve calls on %q gave %v; want exactly 1 reserved", key, counts)
		}
	}
}

func (r *runner) reserveAfterCommit(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	commit(t, s, "k", "a", longTTL, nil)
	reserve(t, s, "k", "b", longTTL, dedupe.Seen)
	reserve(t, s, "k", "a", longTTL, dedupe.Seen)
}

func (r *runner) commitTwiceByOwner(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	commit(t, s, "k", "a", longTTL, nil)
	commit(t, s, "k", "a", longTTL, nil)
	reserve(t, s, "k", "b", longTTL, dedupe.Seen)
}

func (r *runner) commitByOtherToken(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	commit(t, s, "k", "b", longTTL, dedupe.ErrNotOwner)
	// The failed Commit left the reservation pending for its owner.
	reserve(t, s, "k", "c", longTTL, dedupe.Pending)
	commit(t, s, "k", "a", longTTL, nil)
	reserve(t, s, "k", "c", longTTL, dedupe.Seen)
}

func (r *runner) commitUnreservedKey(t *testing.T, s dedupe.Store) {
	commit(t, s, "never-reserved", "a", longTTL, dedupe.ErrNotOwner)
	reserve(t, s, "never-reserved", "b", longTTL, dedupe.Reserved)
}

func (r *runner) releaseByOtherToken(t *testing.T, s dedupe.Store) {
	reserve(t, s, "pending", "a", longTTL, dedupe.Reserved)
	release(t, s, "pending", "b")
	reserve(t, s, "pending", "c", longTTL, dedupe.Pending)

	reserve(t, s, "seen", "a", longTTL, dedupe.Reserved)
	commit(t, s, "seen", "a", longTTL, nil)
	release(t, s, "seen", "b")
	reserve(t, s, "seen", "c", longTTL, dedupe.Seen)
}

func (r *runner) releasePendingThenReserve(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	release(t, s, "k", "a")
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved)
	// The first owner lost the key: it can no longer commit or release it.
	commit(t, s, "k", "a", longTTL, dedupe.ErrNotOwner)
	release(t, s, "k", "a")
	reserve(t, s, "k", "c", longTTL, dedupe.Pending)
	commit(t, s, "k", "b", longTTL, nil)
}

func (r *runner) releaseSeenThenReserve(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	commit(t, s, "k", "a", longTTL, nil)
	release(t, s, "k", "a")
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved)
}

func (r *runner) releaseUnreservedKey(t *testing.T, s dedupe.Store) {
	release(t, s, "never-reserved", "a")
	reserve(t, s, "never-reserved", "b", longTTL, dedupe.Reserved)
}

func forget(t *testing.T, s dedupe.Store, key string) {
	t.Helper()
	if err := s.Forget(t.Context(), key); err != nil {
		t.Fatalf("Forget(%q) = %v, want nil", key, err)
	}
}

// forgetPendingAndSeen: Forget frees a key whoever holds it, pending or
// seen, and leaves other keys alone.
func (r *runner) forgetPendingAndSeen(t *testing.T, s dedupe.Store) {
	reserve(t, s, "pending", "a", longTTL, dedupe.Reserved)
	reserve(t, s, "seen", "a", longTTL, dedupe.Reserved)
	commit(t, s, "seen", "a", longTTL, nil)
	reserve(t, s, "other", "a", longTTL, dedupe.Reserved)
	commit(t, s, "other", "a", longTTL, nil)
	forget(t, s, "pending")
	forget(t, s, "seen")
	reserve(t, s, "pending", "b", longTTL, dedupe.Reserved)
	reserve(t, s, "seen", "b", longTTL, dedupe.Reserved)
	reserve(t, s, "other", "b", longTTL, dedupe.Seen)
	// The old holder no longer owns the key it lost.
	commit(t, s, "pending", "a", longTTL, dedupe.ErrNotOwner)
	reserve(t, s, "pending", "c", longTTL, dedupe.Pending)
}

// forgetUnknownKey: forgetting a key with no record is not an error and
// does not block the key.
func (r *runner) forgetUnknownKey(t *testing.T, s dedupe.Store) {
	forget(t, s, "never-reserved")
	reserve(t, s, "never-reserved", "a", longTTL, dedupe.Reserved)
}

func (r *runner) pendingExpires(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", r.cfg.shortTTL, dedupe.Reserved)
	reserve(t, s, "k", "b", longTTL, dedupe.Pending)
	r.expire(t, s, "k")
	reserve(t, s, "k", "c", longTTL, dedupe.Reserved)
}

func (r *runner) seenExpires(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved)
	commit(t, s, "k", "a", r.cfg.shortTTL, nil)
	reserve(t, s, "k", "b", longTTL, dedupe.Seen)
	r.expire(t, s, "k")
	reserve(t, s, "k", "c", longTTL, dedupe.Reserved)
}

func (r *runner) expiredOwner(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "slow", r.cfg.shortTTL, dedupe.Reserved)
	r.expire(t, s, "k")
	// Expired and not taken over: the slow owner holds nothing.
	commit(t, s, "k", "slow", longTTL, dedupe.ErrNotOwner)
	reserve(t, s, "k", "fast", longTTL, dedupe.Reserved)
	// Taken over: the slow owner can neither confirm nor drop it.
	commit(t, s, "k", "slow", longTTL, dedupe.ErrNotOwner)
	release(t, s, "k", "slow")
	reserve(t, s, "k", "other", longTTL, dedupe.Pending)
	commit(t, s, "k", "fast", longTTL, nil)
	reserve(t, s, "k", "other", longTTL, dedupe.Seen)
}

func (r *runner) commitReplacesTTL(t *testing.T, s dedupe.Store) {
	// "kept" is reserved before "marker" with the same short TTL, so once
	// the marker's reservation has expired, kept's has too.
	reserve(t, s, "kept", "a", r.cfg.shortTTL, dedupe.Reserved)
	reserve(t, s, "marker", "a", r.cfg.shortTTL, dedupe.Reserved)
	commit(t, s, "kept", "a", longTTL, nil)
	r.expire(t, s, "marker")
	reserve(t, s, "kept", "b", longTTL, dedupe.Seen)
}

func (r *runner) keysIndependent(t *testing.T, s dedupe.Store) {
	// Keys that are prefixes of each other or differ in one byte.
	keys := []string{"a", "ab", "b", "stripe:evt_1", "stripe:evt_1 ", "github:evt_1", "\x00", "ü"}
	for _, k := range keys {
		reserve(t, s, k, "t1", longTTL, dedupe.Reserved)
	}
	commit(t, s, "a", "t1", longTTL, nil)
	release(t, s, "b", "t1")
	reserve(t, s, "a", "t2", longTTL, dedupe.Seen)
	reserve(t, s, "ab", "t2", longTTL, dedupe.Pending)
	reserve(t, s, "b", "t2", longTTL, dedupe.Reserved)
	for _, k := range keys[3:] {
		reserve(t, s, k, "t2", longTTL, dedupe.Pending)
	}
}

func (r *runner) contextDone(t *testing.T, s dedupe.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if st, err := s.Reserve(ctx, "k", "a", longTTL); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve with a cancelled context = %v, %v; want an error matching context.Canceled", st, err)
	}
	// The cancelled call reserved nothing.
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved)
	if err := s.Commit(ctx, "k", "b", longTTL); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	if err := s.Release(ctx, "k", "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Release with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	if err := s.Forget(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Forget with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	// Neither cancelled call committed or released the reservation.
	reserve(t, s, "k", "c", longTTL, dedupe.Pending)

	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := s.Reserve(dctx, "k2", "a", longTTL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Reserve with an expired deadline = %v; want an error matching context.DeadlineExceeded", err)
	}
}

func (r *runner) invalidArguments(t *testing.T, s dedupe.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"Reserve empty key", func() error { _, err := s.Reserve(ctx, "", "a", longTTL); return err }, dedupe.ErrEmptyKey},
		{"Reserve empty token", func() error { _, err := s.Reserve(ctx, "k", "", longTTL); return err }, dedupe.ErrEmptyToken},
		{"Reserve zero TTL", func() error { _, err := s.Reserve(ctx, "k", "a", 0); return err }, dedupe.ErrInvalidTTL},
		{"Reserve negative TTL", func() error { _, err := s.Reserve(ctx, "k", "a", -time.Second); return err }, dedupe.ErrInvalidTTL},
		{"Commit empty key", func() error { return s.Commit(ctx, "", "a", longTTL) }, dedupe.ErrEmptyKey},
		{"Commit empty token", func() error { return s.Commit(ctx, "k", "", longTTL) }, dedupe.ErrEmptyToken},
		{"Commit zero TTL", func() error { return s.Commit(ctx, "k", "a", 0) }, dedupe.ErrInvalidTTL},
		{"Release empty key", func() error { return s.Release(ctx, "", "a") }, dedupe.ErrEmptyKey},
		{"Release empty token", func() error { return s.Release(ctx, "k", "") }, dedupe.ErrEmptyToken},
		{"Forget empty key", func() error { return s.Forget(ctx, "") }, dedupe.ErrEmptyKey},
	} {
		if err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s = %v; want an error matching %v", tc.name, err, tc.want)
		}
	}
	// None of the refused calls touched the key.
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved)
}
