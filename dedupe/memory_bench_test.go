package dedupe_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard/dedupe"
)

// benchKeys is the number of distinct keys the benchmarks cycle through;
// the stores hold half of them, so in steady state every Reserve of a new
// key evicts the oldest record, as in a full production store.
const benchKeys = 1 << 18

var benchKeySet = func() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = eventKey(uint64(i))
	}
	return keys
}()

// newBenchStore returns a store with room for maxEntries records that has
// already been filled with every key once, so that its ring and index have
// reached their steady-state size.
func newBenchStore(b *testing.B, maxEntries int) *dedupe.Memory {
	b.Helper()
	m := newMemory(b, dedupe.WithMaxEntries(maxEntries))
	for _, k := range benchKeySet {
		if _, err := m.Reserve(context.Background(), k, "warm-up", time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

// BenchmarkMemoryReserve measures Reserve from one goroutine: "new" takes a
// key that is not held (the store is full, so it evicts one), "duplicate"
// finds a held key.
func BenchmarkMemoryReserve(b *testing.B) {
	ctx := context.Background()
	b.Run("new", func(b *testing.B) {
		m := newBenchStore(b, benchKeys/2)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if st, err := m.Reserve(ctx, benchKeySet[i&(benchKeys-1)], "token", time.Hour); err != nil || st != dedupe.Reserved {
				b.Fatalf("Reserve = %v, %v", st, err)
			}
			i++
		}
	})
	b.Run("duplicate", func(b *testing.B) {
		m := newBenchStore(b, 2*benchKeys) // holds every key
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if st, err := m.Reserve(ctx, benchKeySet[i&(benchKeys-1)], "other", time.Hour); err != nil || st != dedupe.Pending {
				b.Fatalf("Reserve = %v, %v", st, err)
			}
			i++
		}
	})
}

// BenchmarkMemoryReserveParallel measures Reserve of distinct new keys from
// GOMAXPROCS goroutines; each goroutine walks its own part of the key set.
func BenchmarkMemoryReserveParallel(b *testing.B) {
	ctx := context.Background()
	m := newBenchStore(b, benchKeys/2)
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1) * 7919 * 64 // far apart starting points
		for pb.Next() {
			if _, err := m.Reserve(ctx, benchKeySet[i&(benchKeys-1)], "token", time.Hour); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkMemoryReserveCommit measures the successful path of one
// delivery: Reserve a new key, then Commit it.
func BenchmarkMemoryReserveCommit(b *testing.B) {
	ctx := context.Background()
	m := newBenchStore(b, benchKeys/2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := benchKeySet[i&(benchKeys-1)]
		if st, err := m.Reserve(ctx, key, "token", time.Minute); err != nil || st != dedupe.Reserved {
			b.Fatalf("Reserve = %v, %v", st, err)
		}
		if err := m.Commit(ctx, key, "token", 72*time.Hour); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMemoryBytesPerID reports the heap held per stored ID (B/id) for
// 1,000,000 IDs of 35 bytes (the keys are built in the measured span; the
// store keeps only their hashes).
func BenchmarkMemoryBytesPerID(b *testing.B) {
	var perID float64
	for b.Loop() {
		perID, _ = measureBytesPerID(b, 1_000_000)
	}
	b.ReportMetric(perID, "B/id")
}

// BenchmarkMemoryOnce measures the same delivery as
// BenchmarkMemoryReserveCommit through Once: one locked round.
func BenchmarkMemoryOnce(b *testing.B) {
	ctx := context.Background()
	m := newBenchStore(b, benchKeys/2)
	b.ReportAllocs()
	i := 0
	var keys [1]string
	for b.Loop() {
		keys[0] = benchKeySet[i&(benchKeys-1)]
		if st, err := m.Once(ctx, keys[:], 72*time.Hour, func() error { return nil }); err != nil || st != dedupe.Reserved {
			b.Fatalf("Once = %v, %v", st, err)
		}
		i++
	}
}
