package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/hookguard/hookguard/internal/redistest"
)

// TestMain fails the package's tests if any goroutine is still running
// after they finished: every goroutine must have an owner that stops it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRoundSpreadsShardsOverPrimaries runs the command's core for a tiny
// load on a real 3-primary cluster with 3 shards: every delivery must be
// accepted and handled, every shard must have taken some in (the stream
// lengths add up to the accepted deliveries), each shard's slot must lie
// in the range of the primary the cluster client sends its stream to, and
// each primary must serve exactly one shard and show, in its own INFO,
// CPU, command time and network traffic for the round.
func TestRoundSpreadsShardsOverPrimaries(t *testing.T) {
	redistest.Available(t)
	c := config{primaries: 3, shards: []int{3}, deliveries: 300, concurrency: 8, workers: 4, rounds: 1,
		size: 1 << 10, util: 0.7, catchup: 15 * time.Second, quiet: true}
	require.NoError(t, c.check())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := newBench(ctx, c)
	require.NoError(t, err)
	defer b.close()

	r, err := b.round(ctx, 3, c.deliveries)
	require.NoError(t, err)
	assert.EqualValues(t, c.deliveries, r.accepted, "accepted deliveries")
	assert.Zero(t, r.rejected, "rejected deliveries")
	assert.EqualValues(t, r.accepted, r.handled, "handled deliveries")

	require.Len(t, r.shards, 3)
	var taken int64
	for i, s := range r.shards {
		assert.Equal(t, i, s.Index, "shards in order")
		assert.Positive(t, s.deliveries, "shard %d took no delivery in", i)
		assert.Equal(t, b.cl.PrimaryOfSlot(s.Slot), s.primary, "shard %d: slot %d is served by the primary whose range holds it", i, s.Slot)
		taken += s.deliveries
	}
	assert.Equal(t, r.accepted, taken, "the shards' stream lengths add up to the accepted deliveries")

	require.Len(t, r.nodes, 3)
	for i, n := range r.nodes {
		assert.Equal(t, 1, n.shards, "primary %d serves one shard", i+1)
		assert.Positive(t, n.deliveries, "primary %d took deliveries in", i+1)
		assert.Positive(t, n.cpu, "primary %d: CPU in INFO cpu", i+1)
		assert.Positive(t, n.cmdUsec, "primary %d: command time in INFO commandstats", i+1)
		assert.Positive(t, n.netIn, "primary %d: bytes in", i+1)
		assert.Positive(t, n.roundTrips, "primary %d: round trips the queue sent", i+1)
		// Each delivery's 1 KiB body reaches the primary of its shard.
		assert.Greater(t, n.netIn, n.deliveries<<10, "primary %d: bytes in cover the bodies it took in", i+1)
	}
	assert.Positive(t, r.selfCPU, "receiver process CPU")
	assert.Greater(t, r.httpIn, r.accepted<<10, "HTTP bytes in cover the bodies")

	var out bytes.Buffer
	report(&out, c, b.cl, [][]result{{r}})
	assert.Contains(t, out.String(), "#### Where the shards live")
	assert.Contains(t, out.String(), "#### Projection")
	assert.Contains(t, out.String(), "| **shards=3 on 3 primaries** |", "the projection rests on the run with one shard per primary")
}

// TestProject checks the projection's arithmetic on given figures.
func TestProject(t *testing.T) {
	c := config{primaries: 3, util: 0.7}
	f := figures{shards: 3, redisCPU: 50, self: 100, netRedis: 3000, http: 1500, aof: 1200, busiestShare: 0.4}
	p := project(c, f)
	assert.InDelta(t, 14000, p.perPrimary, 1e-6, "0.7 core / 50 µs")
	assert.InDelta(t, 1.2, p.imbalance, 1e-9, "busiest share 0.4 of 3 primaries")
	// 10k/s: 10000*50*1.2/0.7e6 = 0.857 -> 1; 100k/s: 8.57 -> 9.
	assert.Equal(t, []int{1, 9}, p.primaries)
	assert.InDeltaSlice(t, []float64{10000 * 100 / 1e6 / 0.7, 100000 * 100 / 1e6 / 0.7}, p.receiverCore, 1e-9)
	assert.InDeltaSlice(t, []float64{0.24, 2.4}, p.redisGbit, 1e-9)
	assert.InDeltaSlice(t, []float64{12, 120}, p.aofMBs, 1e-9)

	// One shard on three primaries: the load sits on one, and the
	// imbalance is not counted against the primaries that have none.
	p = project(c, figures{shards: 1, redisCPU: 50, busiestShare: 0.9})
	assert.InDelta(t, 1, p.imbalance, 1e-9)
}

// TestMinusCountsSentCommandsOnly checks that the command time counts
// what the queue's client sent, scripts whole, and not the commands a
// script ran (Redis lists them too) nor this program's own.
func TestMinusCountsSentCommandsOnly(t *testing.T) {
	a := parseInfo("# CPU\r\nused_cpu_sys:1.000000\r\nused_cpu_user:2.000000\r\n" +
		"cmdstat_evalsha:calls=10,usec=1000,usec_per_call=100\r\ncmdstat_xadd:calls=10,usec=300\r\n" +
		"cmdstat_xack:calls=4,usec=40\r\ncmdstat_info:calls=1,usec=50\r\ntotal_net_input_bytes:100\r\ntotal_net_output_bytes:10\r\naof_current_size:1000\r\n")
	b := parseInfo("# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:2.250000\r\n" +
		"cmdstat_evalsha:calls=20,usec=2000\r\ncmdstat_xadd:calls=20,usec=600\r\ncmdstat_xack:calls=8,usec=80\r\n" +
		"cmdstat_xgroup|create:calls=2,usec=20\r\ncmdstat_info:calls=2,usec=100\r\ncmdstat_cluster|slots:calls=3,usec=30\r\n" +
		"total_net_input_bytes:5100\r\ntotal_net_output_bytes:510\r\naof_current_size:900\r\n")
	sentA := sentCounts{cmds: map[string]int64{"evalsha": 10, "xack": 2}, roundTrips: 12}
	sentB := sentCounts{cmds: map[string]int64{"evalsha": 20, "xack": 4, "xgroup": 1}, roundTrips: 25}
	f := b.minus(a, sentA, sentB)
	assert.Equal(t, 750*time.Millisecond, f.cpu)
	// evalsha 1000 (all sent) + xack 20 (2 of its 4 calls sent: half of 40) +
	// xgroup|create 10 (1 of 2); xadd ran inside the scripts; info and
	// cluster|slots are not the queue's.
	assert.EqualValues(t, 1000+20+10, f.cmdUsec)
	assert.EqualValues(t, 5000, f.netIn)
	assert.EqualValues(t, 500, f.netOut)
	assert.EqualValues(t, -1, f.aof, "a shrunk file is marked, not counted")
	assert.EqualValues(t, 13, f.roundTrips)
}
