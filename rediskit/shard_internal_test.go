package rediskit

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHomeIsFNV1a pins the home of a dedupe key to FNV-1a (64 bits) of
// the key, modulo the shard count: records written by one version must be
// found by the next, so the function may never change unnoticed.
func TestHomeIsFNV1a(t *testing.T) {
	for _, n := range []int{2, 3, 7, 64} {
		l := newLayout("orders", n)
		for i := range 200 {
			key := fmt.Sprintf("stripe::id:evt_%d", i)
			h := fnv.New64a()
			_, _ = h.Write([]byte(key))
			assert.Equal(t, l.shards[h.Sum64()%uint64(n)], l.home(key), "key %q, %d shards", key, n)
		}
	}
	assert.Equal(t, "orders", newLayout("orders", 1).home("anything").Tag)
}

// TestPickAllocatesNothing: choosing an event's shard is on every
// delivery's path.
func TestPickAllocatesNothing(t *testing.T) {
	l := newLayout("orders", 3)
	keys := []string{"github::id:0d5c", "github::digest:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = l.pick(keys) }))
}
