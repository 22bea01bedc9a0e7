package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// Rules that several subtests check. A failure message names the subtest
// (the property under test), the rule that broke, and what the store did.
const (
	ruleFree         = "Reserve of a free key must reserve it"
	ruleOwnerCommits = "Commit by the token that holds the key must succeed"
	ruleAtomic       = "Reserve must be atomic: exactly one of many concurrent calls on a free key may win"
	ruleExpire       = "a record must expire after its TTL and free its key"
)

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
//
// Every failure message starts with the subtest's name, which names the
// behaviour, then the rule that broke and what the store did, for example
// "ReleaseByOtherToken: Release by a token that does not hold the key
// deleted the reservation: Reserve(...) = reserved, want pending". Run takes
// a *testing.T rather than a testing.TB because it runs each behaviour as a
// subtest with t.Run; it needs no assertion library, so it works in tests
// written with or without one.
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
				fatalf(t, "newStore returned nil", "Run needs a fresh, empty store for every subtest")
			}
			tc.fn(t, s)
		})
	}
}

type runner struct {
	cfg      config
	newStore func(t *testing.T) dedupe.Store
}

// property returns the name of the subtest t runs, which names the
// behaviour under test.
func property(t *testing.T) string {
	name := t.Name()
	return name[strings.LastIndexByte(name, '/')+1:]
}

// fatalf stops the subtest with a message that names the property under
// test, the rule that broke, and what the store did.
func fatalf(t *testing.T, rule, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s: %s: %s", property(t), rule, fmt.Sprintf(format, args...))
}

// errorf is fatalf that lets the subtest go on.
func errorf(t *testing.T, rule, format string, args ...any) {
	t.Helper()
	t.Errorf("%s: %s: %s", property(t), rule, fmt.Sprintf(format, args...))
}

// reserve calls Reserve and fails the test, naming rule, on an error or
// another status.
func reserve(t *testing.T, s dedupe.Store, key, token string, ttl time.Duration, want dedupe.Status, rule string) {
	t.Helper()
	got, err := s.Reserve(t.Context(), key, token, ttl)
	if err != nil {
		fatalf(t, rule, "Reserve(%q, %q, %v): unexpected error: %v", key, token, ttl, err)
	}
	if got != want {
		fatalf(t, rule, "Reserve(%q, %q, %v) = %v, want %v", key, token, ttl, got, want)
	}
}

// commit calls Commit and fails the test, naming rule, unless the error
// matches want (nil: no error).
func commit(t *testing.T, s dedupe.Store, key, token string, ttl time.Duration, want error, rule string) {
	t.Helper()
	err := s.Commit(t.Context(), key, token, ttl)
	if !errors.Is(err, want) || (want == nil && err != nil) {
		fatalf(t, rule, "Commit(%q, %q, %v) = %v, want %v", key, token, ttl, err, want)
	}
}

// release calls Release and fails the test, naming rule, on an error.
func release(t *testing.T, s dedupe.Store, key, token, rule string) {
	t.Helper()
	if err := s.Release(t.Context(), key, token); err != nil {
		fatalf(t, rule, "Release(%q, %q) = %v, want nil", key, token, err)
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
			fatalf(t, ruleExpire, "Reserve(%q) while waiting for expiry: %v", key, err)
		}
		if st == dedupe.Reserved {
			release(t, s, key, probe, "the owner's Release must succeed")
			return
		}
		if time.Now().After(deadline) {
			fatalf(t, ruleExpire, "record %q with TTL %v still %v after %v", key, r.cfg.shortTTL, st, r.cfg.wait)
		}
		time.Sleep(poll) // waiting for real time to pass, not for another goroutine
	}
}

func (r *runner) reserveFreeKey(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	reserve(t, s, "k", "b", longTTL, dedupe.Pending, "Reserve of a key another token holds must answer Pending")
	// The holder's own second Reserve does not re-acquire the key either.
	reserve(t, s, "k", "a", longTTL, dedupe.Pending, "the holder's own second Reserve must answer Pending, not reserve the key again")
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
		fatalf(t, "concurrent Reserve calls must not fail", "concurrent Reserve(%q): %v", key, err)
	}
	return counts
}

func (r *runner) reserveContention(t *testing.T, s dedupe.Store) {
	counts := r.race(t, s, "contended")
	n := r.cfg.goroutines
	if counts[dedupe.Reserved] != 1 || counts[dedupe.Pending] != n-1 {
		fatalf(t, ruleAtomic, "%d concurrent Reserve calls on one key gave %v; want exactly 1 reserved and %d pending", n, counts, n-1)
	}
}

func (r *runner) reserveContentionManyKeys(t *testing.T, s dedupe.Store) {
	for k := range 20 {
		key := fmt.Sprintf("contended-%d", k)
		counts := r.race(t, s, key)
		if counts[dedupe.Reserved] != 1 {
			fatalf(t, ruleAtomic, "concurrent Reserve calls on %q gave %v; want exactly 1 reserved", key, counts)
		}
	}
}

func (r *runner) reserveAfterCommit(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "k", "a", longTTL, nil, ruleOwnerCommits)
	reserve(t, s, "k", "b", longTTL, dedupe.Seen, "Reserve of a committed key must answer Seen")
	reserve(t, s, "k", "a", longTTL, dedupe.Seen, "Reserve of a committed key must answer Seen, even to the token that committed it")
}

func (r *runner) commitTwiceByOwner(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "k", "a", longTTL, nil, ruleOwnerCommits)
	commit(t, s, "k", "a", longTTL, nil, "a second Commit by the owner must succeed: a retried Commit is not an error")
	reserve(t, s, "k", "b", longTTL, dedupe.Seen, "a key committed twice must stay Seen")
}

func (r *runner) commitByOtherToken(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "k", "b", longTTL, dedupe.ErrNotOwner, "Commit by a token that does not hold the key must fail with ErrNotOwner")
	// The failed Commit left the reservation pending for its owner.
	reserve(t, s, "k", "c", longTTL, dedupe.Pending, "a refused Commit by another token must leave the reservation pending")
	commit(t, s, "k", "a", longTTL, nil, "the owner must still commit after another token's Commit was refused")
	reserve(t, s, "k", "c", longTTL, dedupe.Seen, "Reserve of a committed key must answer Seen")
}

func (r *runner) commitUnreservedKey(t *testing.T, s dedupe.Store) {
	commit(t, s, "never-reserved", "a", longTTL, dedupe.ErrNotOwner, "Commit of a key nobody reserved must fail with ErrNotOwner")
	reserve(t, s, "never-reserved", "b", longTTL, dedupe.Reserved, "a refused Commit of an unreserved key must not record it")
}

func (r *runner) releaseByOtherToken(t *testing.T, s dedupe.Store) {
	reserve(t, s, "pending", "a", longTTL, dedupe.Reserved, ruleFree)
	release(t, s, "pending", "b", "Release by a token that does not hold the key must be a no-op, not an error")
	reserve(t, s, "pending", "c", longTTL, dedupe.Pending, "Release by a token that does not hold the key deleted the reservation")

	reserve(t, s, "seen", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "seen", "a", longTTL, nil, ruleOwnerCommits)
	release(t, s, "seen", "b", "Release by a token that does not hold the key must be a no-op, not an error")
	reserve(t, s, "seen", "c", longTTL, dedupe.Seen, "Release by a token that does not hold the key deleted the committed record")
}

func (r *runner) releasePendingThenReserve(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	release(t, s, "k", "a", "the owner's Release must succeed")
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved, "a key released by its owner must be free to reserve again")
	// The first owner lost the key: it can no longer commit or release it.
	commit(t, s, "k", "a", longTTL, dedupe.ErrNotOwner, "the owner that released a key must no longer commit it")
	release(t, s, "k", "a", "Release by a former owner must be a no-op, not an error")
	reserve(t, s, "k", "c", longTTL, dedupe.Pending, "Release by a former owner deleted the new holder's reservation")
	commit(t, s, "k", "b", longTTL, nil, "the new holder must commit the key")
}

func (r *runner) releaseSeenThenReserve(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "k", "a", longTTL, nil, ruleOwnerCommits)
	release(t, s, "k", "a", "the owner's Release of a committed key must succeed")
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved, "a committed key released by its owner must be free to reserve again")
}

func (r *runner) releaseUnreservedKey(t *testing.T, s dedupe.Store) {
	release(t, s, "never-reserved", "a", "Release of a key nobody reserved must be a no-op, not an error")
	reserve(t, s, "never-reserved", "b", longTTL, dedupe.Reserved, "Release of an unreserved key must not record it")
}

func forget(t *testing.T, s dedupe.Store, key, rule string) {
	t.Helper()
	if err := s.Forget(t.Context(), key); err != nil {
		fatalf(t, rule, "Forget(%q) = %v, want nil", key, err)
	}
}

// forgetPendingAndSeen: Forget frees a key whoever holds it, pending or
// seen, and leaves other keys alone.
func (r *runner) forgetPendingAndSeen(t *testing.T, s dedupe.Store) {
	reserve(t, s, "pending", "a", longTTL, dedupe.Reserved, ruleFree)
	reserve(t, s, "seen", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "seen", "a", longTTL, nil, ruleOwnerCommits)
	reserve(t, s, "other", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "other", "a", longTTL, nil, ruleOwnerCommits)
	forget(t, s, "pending", "Forget of a pending key must succeed")
	forget(t, s, "seen", "Forget of a committed key must succeed")
	reserve(t, s, "pending", "b", longTTL, dedupe.Reserved, "Forget must free a pending key")
	reserve(t, s, "seen", "b", longTTL, dedupe.Reserved, "Forget must free a committed key")
	reserve(t, s, "other", "b", longTTL, dedupe.Seen, "Forget of one key must leave other keys alone")
	// The old holder no longer owns the key it lost.
	commit(t, s, "pending", "a", longTTL, dedupe.ErrNotOwner, "the holder of a forgotten key must no longer commit it")
	reserve(t, s, "pending", "c", longTTL, dedupe.Pending, "the former holder's refused Commit must leave the new reservation pending")
}

// forgetUnknownKey: forgetting a key with no record is not an error and
// does not block the key.
func (r *runner) forgetUnknownKey(t *testing.T, s dedupe.Store) {
	forget(t, s, "never-reserved", "Forget of a key with no record must be a no-op, not an error")
	reserve(t, s, "never-reserved", "a", longTTL, dedupe.Reserved, "Forget of a key with no record must not block the key")
}

func (r *runner) pendingExpires(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", r.cfg.shortTTL, dedupe.Reserved, ruleFree)
	reserve(t, s, "k", "b", longTTL, dedupe.Pending, "a reservation must hold its key until its TTL ends")
	r.expire(t, s, "k")
	reserve(t, s, "k", "c", longTTL, dedupe.Reserved, ruleExpire)
}

func (r *runner) seenExpires(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "a", longTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "k", "a", r.cfg.shortTTL, nil, ruleOwnerCommits)
	reserve(t, s, "k", "b", longTTL, dedupe.Seen, "a committed record must hold its key until its TTL ends")
	r.expire(t, s, "k")
	reserve(t, s, "k", "c", longTTL, dedupe.Reserved, ruleExpire)
}

func (r *runner) expiredOwner(t *testing.T, s dedupe.Store) {
	reserve(t, s, "k", "slow", r.cfg.shortTTL, dedupe.Reserved, ruleFree)
	r.expire(t, s, "k")
	// Expired and not taken over: the slow owner holds nothing.
	commit(t, s, "k", "slow", longTTL, dedupe.ErrNotOwner, "an owner whose reservation expired must no longer commit it")
	reserve(t, s, "k", "fast", longTTL, dedupe.Reserved, "an expired owner's refused Commit must not record the key")
	// Taken over: the slow owner can neither confirm nor drop it.
	commit(t, s, "k", "slow", longTTL, dedupe.ErrNotOwner, "an expired owner must not commit the new holder's reservation")
	release(t, s, "k", "slow", "Release by an expired owner must be a no-op, not an error")
	reserve(t, s, "k", "other", longTTL, dedupe.Pending, "Release by an expired owner deleted the new holder's reservation")
	commit(t, s, "k", "fast", longTTL, nil, "the new holder must commit the key")
	reserve(t, s, "k", "other", longTTL, dedupe.Seen, "Reserve of a committed key must answer Seen")
}

func (r *runner) commitReplacesTTL(t *testing.T, s dedupe.Store) {
	// "kept" is reserved before "marker" with the same short TTL, so once
	// the marker's reservation has expired, kept's has too.
	reserve(t, s, "kept", "a", r.cfg.shortTTL, dedupe.Reserved, ruleFree)
	reserve(t, s, "marker", "a", r.cfg.shortTTL, dedupe.Reserved, ruleFree)
	commit(t, s, "kept", "a", longTTL, nil, ruleOwnerCommits)
	r.expire(t, s, "marker")
	reserve(t, s, "kept", "b", longTTL, dedupe.Seen, "Commit must replace the reservation's TTL with its own: the record expired with the reservation's TTL")
}

func (r *runner) keysIndependent(t *testing.T, s dedupe.Store) {
	// Keys that are prefixes of each other or differ in one byte.
	keys := []string{"a", "ab", "b", "stripe:evt_1", "stripe:evt_1 ", "github:evt_1", "\x00", "ü"}
	const rule = "keys that are prefixes of each other or differ in one byte must be independent"
	for _, k := range keys {
		reserve(t, s, k, "t1", longTTL, dedupe.Reserved, rule)
	}
	commit(t, s, "a", "t1", longTTL, nil, ruleOwnerCommits)
	release(t, s, "b", "t1", "the owner's Release must succeed")
	reserve(t, s, "a", "t2", longTTL, dedupe.Seen, rule)
	reserve(t, s, "ab", "t2", longTTL, dedupe.Pending, rule)
	reserve(t, s, "b", "t2", longTTL, dedupe.Reserved, rule)
	for _, k := range keys[3:] {
		reserve(t, s, k, "t2", longTTL, dedupe.Pending, rule)
	}
}

func (r *runner) contextDone(t *testing.T, s dedupe.Store) {
	const (
		ruleErr  = "a call with a done context must fail with the context's error"
		ruleNoop = "a call with a done context must change nothing"
	)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if st, err := s.Reserve(ctx, "k", "a", longTTL); !errors.Is(err, context.Canceled) {
		fatalf(t, ruleErr, "Reserve with a cancelled context = %v, %v; want an error matching context.Canceled", st, err)
	}
	// The cancelled call reserved nothing.
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved, ruleNoop)
	if err := s.Commit(ctx, "k", "b", longTTL); !errors.Is(err, context.Canceled) {
		fatalf(t, ruleErr, "Commit with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	if err := s.Release(ctx, "k", "b"); !errors.Is(err, context.Canceled) {
		fatalf(t, ruleErr, "Release with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	if err := s.Forget(ctx, "k"); !errors.Is(err, context.Canceled) {
		fatalf(t, ruleErr, "Forget with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	// Neither cancelled call committed or released the reservation.
	reserve(t, s, "k", "c", longTTL, dedupe.Pending, ruleNoop)

	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := s.Reserve(dctx, "k2", "a", longTTL); !errors.Is(err, context.DeadlineExceeded) {
		fatalf(t, ruleErr, "Reserve with an expired deadline = %v; want an error matching context.DeadlineExceeded", err)
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
			errorf(t, "empty keys, empty tokens and non-positive TTLs must be refused with the matching error", "%s = %v; want an error matching %v", tc.name, err, tc.want)
		}
	}
	// None of the refused calls touched the key.
	reserve(t, s, "k", "b", longTTL, dedupe.Reserved, "a refused call must not record the key")
}
