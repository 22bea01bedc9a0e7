package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newMemory returns dedupe.NewMemory(opts...) and stops the test if it
// fails.
func newMemory(tb testing.TB, opts ...dedupe.MemoryOption) *dedupe.Memory {
	tb.Helper()
	m, err := dedupe.NewMemory(opts...)
	require.NoError(tb, err, "NewMemory")
	return m
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

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

func TestMemoryConformance(t *testing.T) {
	clk := newFakeClock()
	dedupetest.Run(t, func(t *testing.T) dedupe.Store {
		return newMemory(t, dedupe.WithClock(clk.Now))
	}, dedupetest.WithAdvance(clk.Advance))
}

func TestMemoryConformanceSmall(t *testing.T) {
	// One shard with little room: the kit's keys still fit, so the
	// contract holds unchanged with eviction code on the path.
	clk := newFakeClock()
	dedupetest.Run(t, func(t *testing.T) dedupe.Store {
		return newMemory(t, dedupe.WithClock(clk.Now), dedupe.WithShards(1), dedupe.WithMaxEntries(32))
	}, dedupetest.WithAdvance(clk.Advance))
}

func TestMemoryConformanceRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real TTLs")
	}
	dedupetest.Run(t, func(t *testing.T) dedupe.Store {
		return newMemory(t)
	}, dedupetest.WithShortTTL(50*time.Millisecond))
}

// op is one step of a scripted test; it expects either a status or an error.
type op struct {
	kind    string // "reserve", "commit", "release", "advance"
	key     string
	token   string
	ttl     time.Duration
	want    dedupe.Status
	wantErr error
}

func runOps(t *testing.T, m *dedupe.Memory, clk *fakeClock, ops []op) {
	t.Helper()
	ctx := context.Background()
	for i, o := range ops {
		switch o.kind {
		case "reserve":
			got, err := m.Reserve(ctx, o.key, o.token, o.ttl)
			require.NoError(t, err, "step %d: Reserve(%q, %q)", i, o.key, o.token)
			require.Equal(t, o.want, got, "step %d: Reserve(%q, %q)", i, o.key, o.token)
		case "commit":
			// errors.Is with a nil wantErr holds only for a nil error.
			require.ErrorIs(t, m.Commit(ctx, o.key, o.token, o.ttl), o.wantErr, "step %d: Commit(%q, %q)", i, o.key, o.token)
		case "release":
			require.NoError(t, m.Release(ctx, o.key, o.token), "step %d: Release(%q, %q)", i, o.key, o.token)
		case "advance":
			clk.Advance(o.ttl)
		default:
			require.FailNow(t, "unknown op", "step %d: unknown op %q", i, o.kind)
		}
	}
}

func reserveOp(key string, want dedupe.Status) op {
	return op{kind: "reserve", key: key, token: "tok-" + key, ttl: time.Minute, want: want}
}

func TestMemoryEviction(t *testing.T) {
	min := time.Minute
	tests := []struct {
		name          string
		max           int
		ops           []op
		wantLen       int
		wantEvictions uint64
		wantExpired   uint64
	}{
		{
			name: "oldest evicted first",
			max:  3,
			ops: []op{
				reserveOp("a", dedupe.Reserved), reserveOp("b", dedupe.Reserved), reserveOp("c", dedupe.Reserved),
				reserveOp("d", dedupe.Reserved), // evicts a
				{kind: "reserve", key: "b", token: "x", ttl: min, want: dedupe.Pending},
				{kind: "reserve", key: "c", token: "x", ttl: min, want: dedupe.Pending},
				{kind: "reserve", key: "d", token: "x", ttl: min, want: dedupe.Pending},
				{kind: "reserve", key: "a", token: "x", ttl: min, want: dedupe.Reserved}, // a was forgotten; evicts b
				{kind: "reserve", key: "b", token: "y", ttl: min, want: dedupe.Reserved}, // evicts c
			},
			wantLen: 3, wantEvictions: 3,
		},
		{
			name: "commit does not refresh the order",
			max:  2,
			ops: []op{
				reserveOp("a", dedupe.Reserved), reserveOp("b", dedupe.Reserved),
				{kind: "commit", key: "a", token: "tok-a", ttl: time.Hour},
				reserveOp("c", dedupe.Reserved), // evicts a, the oldest reservation, though seen
				{kind: "reserve", key: "a", token: "x", ttl: min, want: dedupe.Reserved},
			},
			wantLen: 2, wantEvictions: 2,
		},
		{
			name: "released keys free room",
			max:  2,
			ops: []op{
				reserveOp("a", dedupe.Reserved), reserveOp("b", dedupe.Reserved),
				{kind: "release", key: "a", token: "tok-a"},
				reserveOp("c", dedupe.Reserved), // room after the release: b stays
				{kind: "reserve", key: "b", token: "x", ttl: min, want: dedupe.Pending},
			},
			wantLen: 2, wantEvictions: 0,
		},
		{
			name: "re-reserved key moves to the back",
			max:  2,
			ops: []op{
				reserveOp("a", dedupe.Reserved), reserveOp("b", dedupe.Reserved),
				{kind: "release", key: "a", token: "tok-a"},
				{kind: "reserve", key: "a", token: "x", ttl: min, want: dedupe.Reserved},
				reserveOp("c", dedupe.Reserved), // evicts b, now the oldest; a's old place is stale
				{kind: "reserve", key: "a", token: "y", ttl: min, want: dedupe.Pending},
				{kind: "reserve", key: "b", token: "y", ttl: min, want: dedupe.Reserved}, // evicts a
			},
			wantLen: 2, wantEvictions: 2,
		},
		{
			name: "expired records make room without counting as evictions",
			max:  2,
			ops: []op{
				{kind: "reserve", key: "a", token: "t", ttl: time.Second, want: dedupe.Reserved},
				{kind: "reserve", key: "b", token: "t", ttl: time.Hour, want: dedupe.Reserved},
				{kind: "advance", ttl: 2 * time.Second},
				reserveOp("c", dedupe.Reserved),
				{kind: "reserve", key: "b", token: "x", ttl: min, want: dedupe.Pending},
			},
			wantLen: 2, wantEvictions: 0, wantExpired: 1,
		},
		{
			name: "expired record reserved again in place",
			max:  1,
			ops: []op{
				{kind: "reserve", key: "a", token: "t", ttl: time.Second, want: dedupe.Reserved},
				{kind: "advance", ttl: time.Second},
				{kind: "reserve", key: "a", token: "u", ttl: min, want: dedupe.Reserved},
				{kind: "commit", key: "a", token: "t", ttl: min, wantErr: dedupe.ErrNotOwner},
				{kind: "commit", key: "a", token: "u", ttl: min},
			},
			wantLen: 1, wantEvictions: 0, wantExpired: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			m := newMemory(t, dedupe.WithShards(1), dedupe.WithMaxEntries(tc.max), dedupe.WithClock(clk.Now))
			runOps(t, m, clk, tc.ops)
			assert.Equal(t, tc.wantLen, m.Len(), "Len()")
			st := m.Stats()
			assert.Equal(t, tc.wantEvictions, st.Evictions, "Stats().Evictions in %+v", st)
			assert.Equal(t, tc.wantExpired, st.Expirations, "Stats().Expirations in %+v", st)
		})
	}
}

func TestMemoryBounded(t *testing.T) {
	tests := []struct {
		max, shards int
	}{
		{1, 64}, {7, 64}, {100, 1}, {100, 8}, {1000, 64}, {5000, 3},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(fmt.Sprintf("max=%d/shards=%d", tc.max, tc.shards), func(t *testing.T) {
			m := newMemory(t, dedupe.WithMaxEntries(tc.max), dedupe.WithShards(tc.shards))
			n := 10 * tc.max
			for i := range n {
				key := fmt.Sprintf("k%d", i)
				st, err := m.Reserve(ctx, key, "t", time.Hour)
				require.NoError(t, err, "Reserve(%q)", key)
				require.Equal(t, dedupe.Reserved, st, "Reserve(%q)", key)
				if i%3 == 0 {
					require.NoError(t, m.Commit(ctx, key, "t", time.Hour), "Commit(%q)", key)
				}
				require.LessOrEqual(t, m.Stats().Entries, tc.max, "after %d inserts the store holds more entries than the bound", i+1)
			}
			st := m.Stats()
			assert.Equal(t, n, st.Entries+int(st.Evictions), "Stats() = %+v: entries + evictions must equal the inserts", st)
			// The newest key is always kept.
			last := fmt.Sprintf("k%d", n-1)
			s, _ := m.Reserve(ctx, last, "other", time.Hour)
			assert.NotEqual(t, dedupe.Reserved, s, "newest key %q was evicted: Reserve must return pending or seen", last)
		})
	}
}

// TestMemoryChurnBounded releases and re-reserves the same keys many times:
// the stale items this leaves in the ring must be compacted away, and the
// records stay correct while that happens.
func TestMemoryChurnBounded(t *testing.T) {
	ctx := context.Background()
	m := newMemory(t, dedupe.WithShards(1), dedupe.WithMaxEntries(64))
	keys := make([]string, 16)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	for round := range 10000 {
		for i, k := range keys {
			tok := fmt.Sprintf("t%d", round)
			st, err := m.Reserve(ctx, k, tok, time.Hour)
			require.NoError(t, err, "round %d: Reserve(%q)", round, k)
			require.Equal(t, dedupe.Reserved, st, "round %d: Reserve(%q)", round, k)
			if i%2 == 0 {
				require.NoError(t, m.Commit(ctx, k, tok, time.Hour), "round %d: Commit(%q)", round, k)
			}
			require.NoError(t, m.Release(ctx, k, tok), "round %d: Release(%q)", round, k)
		}
	}
	st := m.Stats()
	require.Zero(t, st.Entries, "Stats() = %+v after releasing everything: want no entries", st)
	require.Zero(t, st.Evictions, "Stats() = %+v after releasing everything: want no evictions", st)
	// Refill past the bound: eviction walks the ring in order, so the
	// first 64 keys are the ones evicted.
	for i := range 128 {
		k := fmt.Sprintf("fill%d", i)
		st, _ := m.Reserve(ctx, k, "t", time.Hour)
		require.Equal(t, dedupe.Reserved, st, "Reserve(%q)", k)
	}
	for i := 64; i < 128; i++ {
		k := fmt.Sprintf("fill%d", i)
		st, _ := m.Reserve(ctx, k, "other", time.Hour)
		require.Equal(t, dedupe.Pending, st, "Reserve(%q): only the 64 oldest keys may be evicted", k)
	}
	st = m.Stats()
	require.Equal(t, uint64(64), st.Evictions, "Stats() = %+v: want 64 evictions", st)
	require.Equal(t, 64, st.Entries, "Stats() = %+v: want 64 entries", st)
}

func TestMemoryLenAndStats(t *testing.T) {
	clk := newFakeClock()
	ctx := context.Background()
	m := newMemory(t, dedupe.WithClock(clk.Now))
	for i := range 10 {
		ttl := time.Hour
		if i < 4 {
			ttl = time.Second
		}
		_, err := m.Reserve(ctx, fmt.Sprintf("k%d", i), "t", ttl)
		require.NoError(t, err)
	}
	require.Equal(t, 10, m.Len(), "Len()")
	clk.Advance(2 * time.Second)
	require.Equal(t, 6, m.Len(), "Len() after 4 TTLs ended")
	st := m.Stats()
	require.Equal(t, 10, st.Entries, "Stats() = %+v: want 10 entries held (expired ones not dropped yet)", st)
	require.Zero(t, st.Evictions, "Stats() = %+v: want no evictions", st)
}

func TestMemoryHugeTTL(t *testing.T) {
	ctx := context.Background()
	m := newMemory(t)
	st, err := m.Reserve(ctx, "k", "t", time.Duration(1<<63-1))
	require.NoError(t, err, "Reserve with the largest TTL")
	require.Equal(t, dedupe.Reserved, st, "Reserve with the largest TTL")
	st, _ = m.Reserve(ctx, "k", "u", time.Minute)
	require.Equal(t, dedupe.Pending, st, "a record with the largest TTL must not overflow into the past")
}

// TestMemoryStress runs many goroutines over a shared key space with
// commits, releases and evictions happening, and checks the invariants that
// hold whatever the interleaving: at any time a key is held by at most one
// token, and without eviction or expiry every key is reserved exactly once.
func TestMemoryStress(t *testing.T) {
	const (
		workers = 16
		keys    = 2000
	)
	ctx := context.Background()
	m := newMemory(t, dedupe.WithShards(8))
	var (
		reserved [keys]atomic.Int32
		wg       sync.WaitGroup
		start    = make(chan struct{})
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := rand.New(rand.NewPCG(uint64(w), 1))
			tok := fmt.Sprintf("w%d", w)
			for _, i := range r.Perm(keys) {
				key := fmt.Sprintf("key-%d", i)
				// In a worker goroutine: assert, never require.
				st, err := m.Reserve(ctx, key, tok, time.Hour)
				if !assert.NoError(t, err, "Reserve(%q)", key) {
					return
				}
				if st == dedupe.Reserved {
					assert.Equal(t, int32(1), reserved[i].Add(1), "key %q reserved more than once", key)
					assert.NoError(t, m.Commit(ctx, key, tok, time.Hour), "Commit(%q) by its owner", key)
				}
				// Another worker's token never releases or commits it.
				assert.NoError(t, m.Release(ctx, key, tok+"-other"), "Release(%q) by a stranger", key)
				assert.ErrorIs(t, m.Commit(ctx, key, tok+"-other", time.Hour), dedupe.ErrNotOwner, "Commit(%q) by a stranger", key)
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range reserved {
		require.Equal(t, int32(1), reserved[i].Load(), "key-%d must be reserved exactly once", i)
	}
	require.Equal(t, keys, m.Len(), "Len()")
}

// TestMemoryStressEviction races reservations, releases and evictions on a
// small store and checks the bound and that each winner is alone.
func TestMemoryStressEviction(t *testing.T) {
	const workers, maxEntries = 8, 64
	ctx := context.Background()
	m := newMemory(t, dedupe.WithShards(4), dedupe.WithMaxEntries(maxEntries))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 2))
			tok := fmt.Sprintf("w%d", w)
			for range 5000 {
				key := fmt.Sprintf("k%d", r.IntN(4*maxEntries))
				// In a worker goroutine: assert, never require.
				st, err := m.Reserve(ctx, key, tok, time.Hour)
				if !assert.NoError(t, err, "Reserve(%q)", key) {
					return
				}
				if st != dedupe.Reserved {
					continue
				}
				switch r.IntN(3) {
				case 0:
					err = m.Release(ctx, key, tok)
				case 1:
					// Eviction may have taken it meanwhile; both outcomes are fine.
					if err = m.Commit(ctx, key, tok, time.Hour); errors.Is(err, dedupe.ErrNotOwner) {
						err = nil
					}
				}
				assert.NoError(t, err, "Release or Commit(%q) by its owner", key)
				assert.LessOrEqual(t, m.Stats().Entries, maxEntries, "the store holds more entries than its bound")
			}
		}()
	}
	wg.Wait()
}

// FuzzMemory runs a script of operations decoded from the input against the
// store and against a plain map model of the contract, and fails on any
// difference. The store is large enough that nothing is evicted.
func FuzzMemory(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, script []byte) { runScript(t, script, 0) })
}

// FuzzMemoryEvicting runs scripts like [FuzzMemory] on a store with room for
// three records, so eviction and ring compaction happen all the time. The
// store may then forget a record the model holds, but it must never report
// a record the model does not hold, and never exceed its bound.
func FuzzMemoryEvicting(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, script []byte) { runScript(t, script, 3) })
}

func addSeeds(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 1, 2, 0, 0, 0, 1, 0})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0, 1, 0, 4, 0, 0, 2, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 2, 1, 0, 0, 5, 0, 0, 6, 0, 0, 7, 0, 0, 0, 1})
}

// runScript decodes script into operations, three bytes each, and checks
// the store against a model. maxEntries 0 means a store that never evicts.
func runScript(t *testing.T, script []byte, maxEntries int) {
	type rec struct {
		token   string
		expires time.Duration
		seen    bool
	}
	clk := newFakeClock()
	var now time.Duration
	opts := []dedupe.MemoryOption{dedupe.WithClock(clk.Now), dedupe.WithShards(2)}
	if maxEntries > 0 {
		opts = []dedupe.MemoryOption{dedupe.WithClock(clk.Now), dedupe.WithShards(1), dedupe.WithMaxEntries(maxEntries)}
	}
	evicting := maxEntries > 0
	m := newMemory(t, opts...)
	model := map[string]rec{}
	ctx := context.Background()
	keys := []string{"a", "b", "c", "stripe:evt_1", "d", "e", "f", "g"}
	tokens := []string{"t0", "t1", "t2"}
	ttls := []time.Duration{time.Second, 2 * time.Second, time.Minute}
	for len(script) >= 3 {
		opc, x, y := script[0]%5, script[1], script[2]
		script = script[3:]
		key, token, ttl := keys[int(x)%len(keys)], tokens[int(y)%len(tokens)], ttls[int(x/8)%len(ttls)]
		r, held := model[key]
		held = held && r.expires > now
		switch opc {
		case 0:
			got, err := m.Reserve(ctx, key, token, ttl)
			want := dedupe.Reserved
			if held && r.seen {
				want = dedupe.Seen
			} else if held {
				want = dedupe.Pending
			}
			if evicting && got == dedupe.Reserved {
				want = got // forgotten by eviction
			}
			require.NoError(t, err, "Reserve(%q, %q, %v)", key, token, ttl)
			require.Equal(t, want, got, "Reserve(%q, %q, %v)", key, token, ttl)
			if got == dedupe.Reserved {
				model[key] = rec{token: token, expires: now + ttl}
			}
		case 1:
			err := m.Commit(ctx, key, token, ttl)
			var want error
			if !held || r.token != token {
				want = dedupe.ErrNotOwner
			}
			if evicting && errors.Is(err, dedupe.ErrNotOwner) {
				want = err
			}
			// errors.Is with a nil want holds only for a nil error.
			require.ErrorIs(t, err, want, "Commit(%q, %q, %v)", key, token, ttl)
			if err == nil {
				model[key] = rec{token: token, expires: now + ttl, seen: true}
			} else if held && r.token == token {
				delete(model, key) // evicted
			}
		case 2:
			require.NoError(t, m.Release(ctx, key, token), "Release(%q, %q)", key, token)
			if _, ok := model[key]; ok && r.token == token {
				delete(model, key)
			}
		default:
			d := time.Duration(y) * 100 * time.Millisecond
			clk.Advance(d)
			now += d
		}
		if evicting {
			require.LessOrEqual(t, m.Stats().Entries, maxEntries, "the store holds more records than its bound")
		}
	}
	live := 0
	for _, r := range model {
		if r.expires > now {
			live++
		}
	}
	if evicting {
		require.LessOrEqual(t, m.Len(), live, "Len() must not exceed the model's live records")
	} else {
		require.Equal(t, live, m.Len(), "Len() must equal the model's live records")
	}
}

// TestMemoryBytesPerID measures the heap a Memory holds for 1,000,000 event
// IDs of a realistic length. The keys are built inside the measured span,
// as a receiver builds them per request, so a store that kept them would
// be charged for them; this one keeps only their hashes. Goal: at most
// 2*len(key)+64 bytes per ID.
func TestMemoryBytesPerID(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 1,000,000 IDs")
	}
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	const n = 1_000_000
	perID, keyLen := measureBytesPerID(t, n)
	goal := float64(2*keyLen + 64)
	t.Logf("%d IDs of %d bytes: %.1f bytes/ID; the store keeps no key bytes (goal %.0f)", n, keyLen, perID, goal)
	assert.LessOrEqual(t, perID, goal, "memory store bytes per ID")
}

// eventKey returns a realistic scoped Stripe event key for i, 35 bytes long,
// such as "stripe:evt_1NqX3f2eZvKYlo2CjZ1b2c3d". Its bytes are freshly
// allocated.
func eventKey(i uint64) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 0, 35)
	b = append(b, "stripe:evt_1"...)
	x := i*0x9E3779B97F4A7C15 + 0x1234567
	for range 23 {
		b = append(b, alphabet[x%62])
		x = x/62 ^ (x << 29) ^ i
	}
	return string(b)
}

// measureBytesPerID fills a store with n distinct keys and returns the heap
// growth per key, and the key length.
func measureBytesPerID(tb testing.TB, n int) (perID float64, keyLen int) {
	tb.Helper()
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := newMemory(tb)
	for i := range n {
		key := eventKey(uint64(i))
		keyLen = len(key)
		if _, err := m.Reserve(ctx, key, "delivery-token", 72*time.Hour); err != nil {
			panic(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if m.Stats().Entries != n || m.Stats().Evictions != 0 {
		panic(fmt.Sprintf("store holds %+v, want %d entries and no evictions", m.Stats(), n))
	}
	runtime.KeepAlive(m)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n), keyLen
}
