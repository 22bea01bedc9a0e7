package dedupe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newTestMemory returns NewMemory(opts...) and stops the test if it fails.
func newTestMemory(tb testing.TB, opts ...MemoryOption) *Memory {
	tb.Helper()
	m, err := NewMemory(opts...)
	require.NoError(tb, err, "NewMemory")
	return m
}

// checkShard verifies the invariants that tie a shard's ring and index
// together: every record has exactly one slot pointing at it, every slot
// points at a record with its fingerprint, and live counts the records.
func checkShard(t *testing.T, s *shard) {
	t.Helper()
	require.LessOrEqual(t, s.n, len(s.recs), "ring has more items than places")
	if len(s.recs) != 0 {
		require.Equal(t, 2*len(s.recs), len(s.slots), "ring has %d items in %d places: slots", s.n, len(s.recs))
	}
	records := 0
	pointed := make(map[int]bool)
	for i, v := range s.slots {
		if v == 0 {
			continue
		}
		ri := int(uint32(v)) - 1
		require.False(t, pointed[ri], "two slots point at ring index %d", ri)
		pointed[ri] = true
		r := s.recs[ri]
		require.True(t, r.h2 != 0 && uint64(r.fp()) == v>>32, "slot %d points at ring index %d holding %+v", i, ri, r)
		require.Equal(t, i, s.slotOf(r.fp(), ri), "record at ring index %d: slotOf finds another slot than the one it is at", ri)
	}
	for i := range s.n {
		ri := s.ringIndex(i)
		if s.recs[ri].h2 == 0 {
			continue
		}
		records++
		require.True(t, pointed[ri], "record %+v at ring index %d has no slot", s.recs[ri], ri)
	}
	for i := s.n; i < len(s.recs); i++ {
		require.Zero(t, s.recs[s.ringIndex(i)].h2, "record outside the ring at ring index %d", s.ringIndex(i))
	}
	require.Equal(t, s.live, records, "records held vs the live count")
	require.Equal(t, len(pointed), records, "records held vs slots used")
	require.LessOrEqual(t, s.live, s.max, "live records vs the shard's bound")
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
			_, err := m.Reserve(ctx, key, tok, time.Duration(1+r.IntN(5))*time.Second)
			require.NoError(t, err)
		case 4, 5:
			_ = m.Commit(ctx, key, tok, time.Duration(1+r.IntN(5))*time.Second)
		case 6, 7, 8:
			require.NoError(t, m.Release(ctx, key, tok))
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
		_, err := m.Reserve(ctx, fmt.Sprintf("burst%d", i), "t", time.Minute)
		require.NoError(t, err)
	}
	peak := len(s.recs)
	now += time.Hour
	for i := range 10_000 {
		key := fmt.Sprintf("quiet%d", i%4)
		st, err := m.Reserve(ctx, key, "t", time.Second)
		require.NoError(t, err, "Reserve(%q)", key)
		if i >= 4 {
			require.Equal(t, Pending, st, "Reserve(%q)", key)
		}
	}
	checkShard(t, s)
	require.GreaterOrEqual(t, peak, 10_000, "ring peak")
	require.LessOrEqual(t, len(s.recs), minShrink, "ring places after draining from a peak of %d", peak)
	require.Equal(t, 4, m.Len(), "Len()")
}
