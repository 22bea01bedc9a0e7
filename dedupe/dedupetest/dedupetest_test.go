package dedupetest_test

import (
	"context"
	"github.com/hookguard/hookguard/internal/testkit"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapStore is a small reference Store, written independently of
// dedupe.Memory. Its bug field switches on one deliberate contract
// violation, to prove that Run catches it.
type mapStore struct {
	mu   sync.Mutex
	recs map[string]mapRec
	now  func() time.Time
	bug  string
}

type mapRec struct {
	token   string
	expires time.Time
	seen    bool
}

func newMapStore(now func() time.Time, bug string) *mapStore {
	return &mapStore{recs: map[string]mapRec{}, now: now, bug: bug}
}

func (s *mapStore) check(ctx context.Context, key, token string, ttl time.Duration, withTTL bool) error {
	if err := ctx.Err(); err != nil && s.bug != "ignore-ctx" {
		return err
	}
	switch {
	case key == "" && s.bug != "empty-key-ok":
		return dedupe.ErrEmptyKey
	case token == "":
		return dedupe.ErrEmptyToken
	case withTTL && ttl <= 0:
		return dedupe.ErrInvalidTTL
	}
	return nil
}

func (s *mapStore) held(key string) (mapRec, bool) {
	r, ok := s.recs[key]
	if s.bug == "no-expiry" {
		return r, ok
	}
	return r, ok && s.now().Before(r.expires)
}

func (s *mapStore) Reserve(ctx context.Context, key, token string, ttl time.Duration) (dedupe.Status, error) {
	if err := s.check(ctx, key, token, ttl, true); err != nil {
		return 0, err
	}
	s.mu.Lock()
	r, ok := s.held(key)
	if s.bug == "racy-reserve" {
		// Check and set in two critical sections: not atomic.
		s.mu.Unlock()
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	switch {
	case ok && r.seen:
		return dedupe.Seen, nil
	case ok:
		return dedupe.Pending, nil
	}
	s.recs[key] = mapRec{token: token, expires: s.now().Add(ttl)}
	return dedupe.Reserved, nil
}

func (s *mapStore) Commit(ctx context.Context, key, token string, ttl time.Duration) error {
	if err := s.check(ctx, key, token, ttl, true); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.held(key)
	if s.bug == "expired-owner-commits" {
		r, ok = s.recs[key]
	}
	if !ok || (r.token != token && s.bug != "commit-any-token") {
		return dedupe.ErrNotOwner
	}
	r.seen = true
	if s.bug != "commit-keeps-ttl" {
		r.expires = s.now().Add(ttl)
	}
	s.recs[key] = r
	return nil
}

func (s *mapStore) Forget(ctx context.Context, key string) error {
	if err := s.check(ctx, key, "x", 0, false); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[key]
	if ok && (s.bug != "forget-pending-only" || !r.seen) {
		delete(s.recs, key)
	}
	return nil
}

func (s *mapStore) Release(ctx context.Context, key, token string) error {
	if err := s.check(ctx, key, token, 0, false); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.recs[key]; ok && (r.token == token || s.bug == "release-any-token") {
		delete(s.recs, key)
	}
	return nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func runMapStore(t *testing.T, bug string) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	dedupetest.Run(t, func(*testing.T) dedupe.Store {
		return newMapStore(clk.Now, bug)
	}, dedupetest.WithAdvance(clk.Advance), dedupetest.WithGoroutines(8))
}

// TestRunReferenceStore checks that a correct store passes the kit, with a
// fake clock and in real time.
func TestRunReferenceStore(t *testing.T) {
	t.Run("FakeClock", func(t *testing.T) { runMapStore(t, "") })
	t.Run("RealTime", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for real TTLs")
		}
		dedupetest.Run(t, func(*testing.T) dedupe.Store {
			return newMapStore(time.Now, "")
		}, dedupetest.WithShortTTL(20*time.Millisecond))
	})
}

const bugEnv = "DEDUPETEST_BUG"

// TestBrokenStoreHelper runs the kit against a broken store; it does
// something only when TestRunCatchesBrokenStores starts it in a child
// process, because a failing kit fails the test that runs it.
func TestBrokenStoreHelper(t *testing.T) {
	bug := os.Getenv(bugEnv)
	if bug == "" {
		t.Skip("run by TestRunCatchesBrokenStores")
	}
	runMapStore(t, bug)
}

// TestRunCatchesBrokenStores runs the kit against stores that each break
// one rule, in a child process, and checks that the kit fails with the
// subtest that covers the rule.
func TestRunCatchesBrokenStores(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per broken store")
	}
	tests := []struct {
		bug      string
		subtests []string // each must be reported as failed
		messages []string // each must be in the output: the property, then the rule that broke
	}{
		{"racy-reserve", []string{"ReserveContention"}, []string{
			"ReserveContention: Reserve must be atomic: exactly one of many concurrent calls on a free key may win: ",
		}},
		{"release-any-token", []string{"ReleaseByOtherToken", "ExpiredOwnerCannotCommitOrRelease"}, []string{
			"ReleaseByOtherToken: Release by a token that does not hold the key deleted the reservation: ",
			"ExpiredOwnerCannotCommitOrRelease: Release by an expired owner deleted the new holder's reservation: ",
		}},
		{"commit-any-token", []string{"CommitByOtherToken"}, []string{
			"CommitByOtherToken: Commit by a token that does not hold the key must fail with ErrNotOwner: ",
		}},
		{"no-expiry", []string{"PendingExpires", "SeenExpires"}, []string{
			"PendingExpires: a record must expire after its TTL and free its key: ",
			"SeenExpires: a record must expire after its TTL and free its key: ",
		}},
		{"commit-keeps-ttl", []string{"CommitReplacesTTL", "SeenExpires"}, []string{
			"CommitReplacesTTL: Commit must replace the reservation's TTL with its own: ",
		}},
		{"expired-owner-commits", []string{"ExpiredOwnerCannotCommitOrRelease"}, []string{
			"ExpiredOwnerCannotCommitOrRelease: an owner whose reservation expired must no longer commit it: ",
		}},
		{"empty-key-ok", []string{"InvalidArguments"}, []string{
			"InvalidArguments: empty keys, empty tokens and non-positive TTLs must be refused with the matching error: Reserve empty key = ",
		}},
		{"ignore-ctx", []string{"ContextDone"}, []string{
			"ContextDone: a call with a done context must fail with the context's error: ",
		}},
		{"forget-pending-only", []string{"ForgetPendingAndSeen"}, []string{
			"ForgetPendingAndSeen: Forget must free a committed key: ",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.bug, func(t *testing.T) {
			out, err := testkit.RunChild("TestBrokenStoreHelper", bugEnv+"="+tc.bug)
			require.Error(t, err, "the kit passed a store with bug %q:\n%s", tc.bug, out)
			for _, name := range tc.subtests {
				assert.Contains(t, string(out), "--- FAIL: TestBrokenStoreHelper/"+name+" ", "bug %q: subtest %s did not fail", tc.bug, name)
			}
			for _, msg := range tc.messages {
				assert.Contains(t, string(out), msg, "bug %q: the failure does not name the property and the rule that broke", tc.bug)
			}
		})
	}
}
