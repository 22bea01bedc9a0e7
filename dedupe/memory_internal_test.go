package dedupe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// newTestMemory returns NewMemory(opts...) and stops the test if it fails.
func newTestMemory(tb testing.TB, opts ...MemoryOption) *Memory {
	tb.Helper()
	m, err := NewMemory(opts...)
	if err != nil {
		tb.Fatalf("NewMemory: %v", err)
	}
	return m
}

// checkShard verifies the invariants that tie a shard's ring and index
// together: every record has exactly one slot pointing at it, every slot
// points at a record with its fingerprint, and live counts the records.
func checkShard(t *testing.T, s *shard) {
	t.Helper()
	if s.n > len(s.recs) || (len(s.recs) != 0 && len(s.slots) != 2*len(s.recs)) {
		t.Fatalf("ring has %d items in %d places and %d slots", s.n, len(s.recs), len(s.slots))
	}
	records := 0
	pointed := make(map[int]bool)
	for i, v := range s.slots {
		if v == 0 {
			continue
		}
		ri := int(uint32(v)) - 1
		if pointed[ri] {
			t.Fatalf("two slots point at ring index %d", ri)
		}
		pointed[ri] = true
		r := s.recs[ri]
		if r.h2 == 0 || uint64(r.fp()) != v>>32 {
			t.Fatalf("slot %d points at ring index %d holding %+v", i, ri, r)
		}
		if got := s.slotOf(r.fp(), ri); got != i {
			t.Fatalf("record at ring index %d is at slot %d but found at slot %d", ri, i, got)
		}
	}
	for i := range s.n {
		ri := s.ringIndex(i)
		if s.recs[ri].h2 == 0 {
			continue
		}
		records++
		if !pointed[ri] {
			t.Fatalf("record %+v at ring index %d has no slot", s.recs[ri], ri)
		}
	}
	for i := s.n; i < len(s.recs); i++ {
		if s.recs[s.ringIndex(i)].h2 != 0 {
			t.Fatalf("record outside the ring at ring index %d", s.ringIndex(i))
		}
	}
	if records != s.live || records != len(pointed) || s.live > s.max {
		t.Fatalf("%d records, %d slots, live %d, max %d", records, len(pointed), s.live, s.max)
	}
}

func TestShardInvariants(t *testing.T) {
	ctx := context.Background()
	var now time.Duration
	clock := func() time.Time { return time.Unix(0, 0).Add(now) }
	m := newTestMemory(t, WithShards(2), WithMaxEntries(200), WithClock(clock))
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 50_000 {
		key := fmt.Sprintf("k%d", r.IntN(600))
		tok := fmt.Sprintf("t%d", r.IntN(3))
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			if _, err := m.Reserve(ctx, key, tok, time.Duration(1+r.IntN(5))*time.Second); err != nil {
				t.Fatal(err)
			}
		case 4, 5:
			_ = m.Commit(ctx, key, tok, time.Duration(1+r.IntN(5))*time.Second)
		case 6, 7, 8:
			if err := m.Release(ctx, key, tok); err != nil {
				t.Fatal(err)
			}
		default:
			now += time.Duration(r.IntN(500)) * time.Millisecond
		}
		if step%97 == 0 {
			for i := range m.shards {
				checkShard(t, &m.shards[i])
			}
		}
	}
}

// TestShardShrinks fills a shard, lets every record expire and keeps
// reserving a few keys: the lazy expiry drains the ring, which must then
// give its memory back while the store keeps working.
func TestShardShrinks(t *testing.T) {
	ctx := context.Background()
	var now time.Duration
	clock := func() time.Time { return time.Unix(0, 0).Add(now) }
	m := newTestMemory(t, WithShards(1), WithClock(clock))
	s := &m.shards[0]
	for i := range 10_000 {
		if _, err := m.Reserve(ctx, fmt.Sprintf("burst%d", i), "t", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	peak := len(s.recs)
	now += time.Hour
	for i := range 10_000 {
		key := fmt.Sprintf("quiet%d", i%4)
		if st, err := m.Reserve(ctx, key, "t", time.Second); err != nil || (i >= 4 && st != Pending) {
			t.Fatalf("Reserve(%q) = %v, %v", key, st, err)
		}
	}
	checkShard(t, s)
	if len(s.recs) > minShrink || peak < 10_000 {
		t.Fatalf("ring holds %d places after draining from a peak of %d, want at most %d", len(s.recs), peak, minShrink)
	}
	if got := m.Len(); got != 4 {
		t.Fatalf("Len() = %d, want 4", got)
	}
}
