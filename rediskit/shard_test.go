package rediskit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/queuetest"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/verify"
)

// digestVerifier accepts every request, takes an unsigned event ID from
// X-Id and sets the digest of the body, as a preset does for a sender
// whose scheme signs no ID or timestamp (GitHub, Shopify, ...): the
// receiver then records two dedupe keys, the ID's and the digest's.
type digestVerifier struct{}

func (digestVerifier) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	return verify.Delivery{Provider: "test", ID: req.Header.Get("X-Id"), Type: "test.event", Digest: sha256.Sum256(req.Body)}, nil
}

// postBody posts body with the unsigned ID id.
func postBody(h http.Handler, id, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	req.Header.Set("X-Id", id)
	req.Header.Set("Content-Type", "application/json")
	return testkit.Serve(h, req)
}

// digestKey is the receiver's dedupe key of body's digest.
func digestKey(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "test::digest:" + hex.EncodeToString(sum[:])
}

// shardOf returns the index of the shard whose tag the Redis key holds.
func shardOf(t *testing.T, q *rediskit.Queue, key string) int {
	t.Helper()
	for _, s := range q.Shards() {
		if strings.Contains(key, "{"+s.Tag+"}") {
			return s.Index
		}
	}
	t.Fatalf("key %q is on no shard of the queue", key)
	return -1
}

// TestShardLayout: with one shard, the keys are those of an unsharded
// queue; with n, shard i's slot (as Redis Cluster computes it, CLUSTER
// KEYSLOT) lies in the i-th of n equal slot ranges, and every key of a
// shard shares its slot.
func TestShardLayout(t *testing.T) {
	c := redistest.StartCluster(t, 1, 0)
	rdb := c.Primary.Client()
	ctx := t.Context()
	slot := func(key string) int {
		n, err := rdb.ClusterKeySlot(ctx, key).Result()
		require.NoError(t, err)
		return int(n)
	}
	for _, n := range []int{1, 2, 3, 7, 64} {
		q := newTestQueue(t, c.Client(), testkit.NewCounter(), rediskit.WithName("orders"), rediskit.WithShards(n), rediskit.WithWorkers(0))
		shards := q.Shards()
		require.Len(t, shards, n)
		if n == 1 {
			assert.Equal(t, "orders", shards[0].Tag)
			assert.Equal(t, "hookguard:{orders}:events", shards[0].Stream)
			assert.Equal(t, "hookguard:{orders}:dead", shards[0].DeadLetters)
		}
		tags := map[string]bool{}
		for i, s := range shards {
			assert.Equal(t, i, s.Index)
			assert.False(t, tags[s.Tag], "tag %q used twice", s.Tag)
			tags[s.Tag] = true
			assert.Equal(t, s.Slot, slot(s.Stream), "shard %d: Slot must be Redis's slot of its stream", i)
			assert.Equal(t, s.Slot, slot(s.DeadLetters), "shard %d: the dead letters share the slot", i)
			if n > 1 {
				assert.GreaterOrEqual(t, s.Slot, i*16384/n, "shard %d of %d", i, n)
				assert.Less(t, s.Slot, (i+1)*16384/n, "shard %d of %d", i, n)
			}
		}
		assert.Equal(t, q.Stream(), shards[0].Stream)
	}
}

// TestShardedConformance runs the queue, dead-letter and dedupe
// conformance kits against a queue of three shards on a Cluster of three
// primaries, one shard on each: a script whose keys spanned shards would
// fail there (CROSSSLOT), and the dead-letter kit's events carry an ID
// key and a digest key, which mostly live on different shards.
func TestShardedConformance(t *testing.T) {
	c := redistest.StartCluster(t, 3, 0)
	cc := c.Client()
	t.Run("queue", func(t *testing.T) {
		queuetest.Run(t, func(t *testing.T, qc queuetest.Config) queuetest.Queue {
			return newTestQueue(t, cc, qc.Handler, rediskit.WithShards(3),
				rediskit.WithMaxAttempts(qc.MaxAttempts), rediskit.WithDeadLetter(qc.OnDeadLetter))
		}, queuetest.WithGrace(700*time.Millisecond))
	})
	t.Run("deadletters", func(t *testing.T) {
		queuetest.RunDeadLetters(t, func(t *testing.T, qc queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
			return newTestQueue(t, cc, qc.Handler, rediskit.WithShards(3),
				rediskit.WithMaxAttempts(qc.MaxAttempts), rediskit.WithDeadLetter(qc.OnDeadLetter))
		}, queuetest.WithGrace(700*time.Millisecond))
	})
	t.Run("store", func(t *testing.T) {
		dedupetest.Run(t, func(t *testing.T) dedupe.Store {
			return newTestQueue(t, cc, testkit.NewCounter(), rediskit.WithShards(3), rediskit.WithWorkers(0)).Store()
		}, dedupetest.WithShortTTL(100*time.Millisecond))
	})
}

// TestShardedDeadLettersWaitReplicas runs the dead-letter kit on a
// sharded queue with WAIT: the records of an event's keys on other
// shards are confirmed with WAIT too.
func TestShardedDeadLettersWaitReplicas(t *testing.T) {
	primary := redistest.Start(t, noSyncDelay)
	startReplica(t, primary)
	queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
		return newTestQueue(t, primary.Client(), c.Handler, rediskit.WithShards(4),
			rediskit.WithMaxAttempts(c.MaxAttempts),
			rediskit.WithDeadLetter(c.OnDeadLetter),
			rediskit.WithWaitReplicas(1, 5*time.Second))
	}, queuetest.WithGrace(700*time.Millisecond))
}

// TestShardsSpreadOverPrimaries: three shards on a Cluster of three
// primaries land one on each, and the receiver's events spread over them.
func TestShardsSpreadOverPrimaries(t *testing.T) {
	c := redistest.StartCluster(t, 3, 0)
	cc := c.Client()
	ctx := t.Context()
	cnt := testkit.NewCounter()
	q := newTestQueue(t, cc, cnt, rediskit.WithShards(3), rediskit.WithTrim(0, 0))
	primaries := map[string]int{}
	for _, s := range q.Shards() {
		node, err := cc.MasterForKey(ctx, s.Stream)
		require.NoError(t, err)
		primaries[node.Options().Addr]++
	}
	assert.Len(t, primaries, 3, "each primary must serve one shard: %v", primaries)

	r := newReceiver(t, q)
	const events = 300
	for i := range events {
		w := post(r, fmt.Sprintf("evt_%03d", i))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	cnt.WaitDistinct(t, events, 20*time.Second)
	for _, s := range q.Shards() {
		n, err := cc.XLen(ctx, s.Stream).Result()
		require.NoError(t, err)
		assert.Greater(t, n, int64(events/6), "shard %d took %d of %d events; want about a third", s.Index, n, events)
	}
	assert.EqualValues(t, events, cnt.Total(), "each event handled once")
}

// TestShardedContentDedupe: for a sender that signs no ID, the receiver
// records the unsigned ID and the digest of the signed content, which on
// a sharded queue mostly live on different shards. A replay of a signed
// body under a fresh ID must still meet its digest, and a redelivery
// under the same ID with another body must still meet its ID (on its own
// shard), as on one shard; each body is handled once, and nothing stays
// pending.
func TestShardedContentDedupe(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	cnt := testkit.NewCounter()
	q := newTestQueue(t, rdb, cnt, rediskit.WithShards(3))
	r, err := hookguard.New(digestVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()))
	require.NoError(t, err)

	const events = 60
	apart := 0
	for i := range events {
		id, body := fmt.Sprintf("a-%02d", i), fmt.Sprintf(`{"n":%d}`, i)
		w := postBody(r, id, body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "first copy of %s", id)
		idRec, digestRec := q.Store().Key("test::id:"+id), q.Store().Key(digestKey(body))
		for _, k := range []string{idRec, digestRec} {
			v, err := rdb.Get(ctx, k).Result()
			require.NoError(t, err, "record %s", k)
			assert.True(t, strings.HasPrefix(v, "s"), "record %s must be seen once the event is stored", k)
		}
		if shardOf(t, q, idRec) != shardOf(t, q, digestRec) {
			apart++
		}

		w = postBody(r, "b-"+id, body) // a replay under a fresh unsigned ID
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "replay of %s under a fresh ID", id)

		w = postBody(r, id, body+" ") // the same ID with another body
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "%s again with another body", id)
	}
	t.Logf("%d of %d events had their ID and digest records on different shards", apart, events)
	assert.Greater(t, apart, events/3, "the test must exercise keys on different shards")
	cnt.WaitDistinct(t, events, 10*time.Second)
	assert.EqualValues(t, events, cnt.Total(), "each body handled once")
}

// TestShardedConcurrentCopies: two copies of each event at once, each
// with its ID and digest keys: exactly one is taken in, the other is
// answered as a duplicate or, while the first holds its ID's record on
// another shard, 409 (the sender retries); each event is handled once.
func TestShardedConcurrentCopies(t *testing.T) {
	srv := redistest.Start(t)
	cnt := testkit.NewCounter()
	q := newTestQueue(t, srv.Client(), cnt, rediskit.WithShards(3))
	r, err := hookguard.New(digestVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()))
	require.NoError(t, err)
	const events = 200
	var (
		mu    sync.Mutex
		codes = map[string]int{}
		wg    sync.WaitGroup
	)
	for i := range events {
		for range 2 {
			wg.Go(func() {
				w := postBody(r, fmt.Sprintf("evt_%03d", i), fmt.Sprintf(`{"n":%d}`, i))
				key := fmt.Sprint(w.Code)
				switch {
				case w.Code == http.StatusOK && w.Header().Get(hookguard.DuplicateHeader) == "true",
					w.Code == http.StatusConflict:
					key = "not taken"
				case w.Code != http.StatusOK:
					key += " " + w.Body.String()
				}
				mu.Lock()
				codes[key]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	assert.Equal(t, map[string]int{"200": events, "not taken": events}, codes)
	cnt.WaitDistinct(t, events, 10*time.Second)
	assert.EqualValues(t, events, cnt.Total(), "each event handled once")
}

// enqueueOn enqueues n events whose single dedupe key is homed on shard
// index of q, and returns their IDs.
func enqueueOn(t *testing.T, q *rediskit.Queue, index, n int, prefix string) []string {
	t.Helper()
	var ids []string
	for i := 0; len(ids) < n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		key := "test::id:" + id
		if shardOf(t, q, q.Store().Key(key)) != index {
			continue
		}
		e := hookguard.Event{Provider: "test", ID: id, Type: "test.event", Body: []byte(`{}`), DedupeKeys: []string{key}}
		st, err := q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		ids = append(ids, id)
	}
	return ids
}

// TestShardsTakeTurns: with one worker, a backlog on one shard must not
// starve another: the event waiting on the second shard is handled among
// the first, not after the backlog.
func TestShardsTakeTurns(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	intake := newTestQueue(t, rdb, nil, rediskit.WithShards(2), rediskit.WithWorkers(0))
	enqueueOn(t, intake, 0, 40, "backlog")
	lone := enqueueOn(t, intake, 1, 1, "lone")[0]

	var (
		mu    sync.Mutex
		order []string
	)
	cnt := testkit.NewCounter()
	cnt.Fn = func(_ context.Context, e hookguard.Event) error {
		mu.Lock()
		order = append(order, e.ID)
		mu.Unlock()
		time.Sleep(time.Millisecond) // a handler's work: workers stay scarce
		return nil
	}
	newTestQueue(t, rdb, cnt, rediskit.WithShards(2), rediskit.WithWorkers(1))
	cnt.WaitDistinct(t, 41, 20*time.Second)
	mu.Lock()
	defer mu.Unlock()
	pos := -1
	for i, id := range order {
		if id == lone {
			pos = i
		}
	}
	assert.Less(t, pos, 3, "the second shard's event was handled %d-th after the first shard's backlog of 40; the shards must take turns", pos+1)
}

// TestShardsFewerWorkers: one worker and four shards, all events on one
// of them, with a block time longer than the whole wait: fetchers waiting
// on empty shards must hold no worker, or the busy shard's events would
// each wait a whole block while the worker sits with an idle fetcher.
func TestShardsFewerWorkers(t *testing.T) {
	srv := redistest.Start(t)
	cnt := testkit.NewCounter()
	q := newTestQueue(t, srv.Client(), cnt, rediskit.WithShards(4), rediskit.WithWorkers(1), rediskit.WithBlock(3*time.Second))
	time.Sleep(100 * time.Millisecond) // let every fetcher find its shard empty and wait on it
	enqueueOn(t, q, 1, 20, "busy")
	cnt.WaitDistinct(t, 20, 2500*time.Millisecond) // less than one block
	assert.EqualValues(t, 20, cnt.Total())
}

// TestShardedReclaimAndTrim: a consumer that died holding entries on
// every shard; the survivor reclaims them from each shard, and Trim then
// empties every shard but its last delivered entry.
func TestShardedReclaimAndTrim(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	const group = "workers"
	intake := newTestQueue(t, rdb, nil, rediskit.WithShards(3), rediskit.WithWorkers(0), rediskit.WithTrim(0, 0))
	for i := range 30 {
		e := hookguard.Event{Provider: "test", ID: fmt.Sprintf("evt_%02d", i), Type: "test.event", Body: []byte(`{}`)}
		require.NoError(t, intake.Enqueue(ctx, e))
	}
	for _, s := range intake.Shards() {
		require.NoError(t, rdb.XGroupCreateMkStream(ctx, s.Stream, group, "0").Err())
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "dead", Streams: []string{s.Stream, ">"}, Count: 100}).Result()
		require.NoError(t, err)
		require.Len(t, res[0].Messages, 10, "shard %d holds a third of the events", s.Index)
	}
	cnt := testkit.NewCounter()
	q := newTestQueue(t, rdb, cnt, rediskit.WithShards(3), rediskit.WithGroup(group), rediskit.WithTrim(0, 0))
	cnt.WaitDistinct(t, 30, 10*time.Second)
	for _, s := range q.Shards() {
		require.Eventually(t, func() bool {
			p, err := rdb.XPending(ctx, s.Stream, group).Result()
			return err == nil && p.Count == 0
		}, 5*time.Second, 20*time.Millisecond, "shard %d: entries still pending after they were handled", s.Index)
	}
	n, err := q.Trim(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(27), n, "each shard keeps only its last delivered entry")
	assert.EqualValues(t, 30, cnt.Total())
}

// TestFormerShards: a queue moved from one shard to three with
// WithFormerShards(1) handles what the single shard still held, answers a
// redelivery of an event taken in before the move as a duplicate, lists
// and replays the former shard's dead letters, and reports the former
// shard drained once it is.
func TestFormerShards(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	name := rediskit.WithName(testName(t))

	// A dead letter of the former layout, for the listing: its consumer
	// gives up at once, then stops.
	f := testkit.NewFailing()
	dead := make(chan hookguard.Event, 1)
	failing := newTestQueue(t, rdb, f, name, rediskit.WithMaxAttempts(1),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	require.Equal(t, http.StatusOK, post(newReceiver(t, failing), "dead_00").Code)
	waitFor(t, dead, "a dead letter on the former shard")
	require.NoError(t, failing.Shutdown(ctx))

	// Events taken in before the move, still waiting for a consumer.
	before := newTestQueue(t, rdb, nil, name, rediskit.WithWorkers(0))
	rb := newReceiver(t, before)
	const events = 30
	for i := range events {
		require.Equal(t, http.StatusOK, post(rb, fmt.Sprintf("old_%02d", i)).Code)
	}

	cnt := testkit.NewCounter()
	after := newTestQueue(t, rdb, cnt, name, rediskit.WithShards(3), rediskit.WithFormerShards(1))
	cnt.WaitDistinct(t, events, 10*time.Second)
	require.Eventually(t, func() bool {
		ok, err := after.FormerDrained(ctx)
		return err == nil && ok
	}, 5*time.Second, 20*time.Millisecond, "the former shard must be reported drained once its events are handled")

	ra := newReceiver(t, after)
	for i := range events {
		w := post(ra, fmt.Sprintf("old_%02d", i))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "old_%02d, taken in before the move", i)
	}
	w := post(ra, "new_00")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Empty(t, w.Header().Get(hookguard.DuplicateHeader))
	cnt.WaitDistinct(t, events+1, 10*time.Second)

	ds, err := after.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, ds)
	assert.NotContains(t, ds[0].Ref, "@", "a dead letter of the unsharded layout keeps its plain ref")
	assert.Equal(t, "dead_00", ds[0].Event.ID)
	got, err := after.DeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, "dead_00", got.Event.ID)
	st, err := after.ReplayDeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Reserved, st)
	cnt.WaitDistinct(t, events+2, 10*time.Second) // the replay, handled on the new shards
}

// TestFormerShardsSameCount: WithFormerShards equal to the shard count is
// a configuration error.
func TestFormerShardsSameCount(t *testing.T) {
	rdb, calls := unusedClient(t)
	_, err := rediskit.NewQueue(t.Context(), rdb, testkit.NewCounter(), rediskit.WithShards(3), rediskit.WithFormerShards(3))
	require.ErrorIs(t, err, rediskit.ErrInvalidOption)
	assert.Contains(t, err.Error(), "WithFormerShards(3)")
	assert.Zero(t, calls.n.Load(), "no Redis call before the configuration error")
}

// TestCompressionOption: by default a 1 KiB JSON body is stored
// compressed (the stream entry does not hold it verbatim and is smaller
// than the body); WithCompression(false) stores it as it is. The handler
// gets the same bytes either way.
func TestCompressionOption(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	body := []byte(`{"object":"event","data":` + strings.Repeat(`{"amount":1200,"currency":"usd"},`, 30) + `{}}`)
	require.Greater(t, len(body), 1000)
	for _, tc := range []struct {
		name     string
		opts     []rediskit.QueueOption
		verbatim bool
	}{
		{"default", nil, false},
		{"off", []rediskit.QueueOption{rediskit.WithCompression(false)}, true},
		{"on", []rediskit.QueueOption{rediskit.WithCompression(true)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan []byte, 1)
			h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error { got <- e.Body; return nil })
			q := newTestQueue(t, rdb, h, append(tc.opts, rediskit.WithTrim(0, 0))...)
			e := hookguard.Event{Provider: "test", ID: "evt_1", Type: "test.event", Body: body, DedupeKeys: []string{"test::id:evt_1"}}
			st, err := q.EnqueueOnce(ctx, e, e.DedupeKeys, time.Hour)
			require.NoError(t, err)
			require.Equal(t, dedupe.Reserved, st)
			assert.Equal(t, string(body), string(waitFor(t, got, "the handled body")))
			msgs, err := rdb.XRange(ctx, q.Stream(), "-", "+").Result()
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			v, _ := msgs[0].Values["e"].(string)
			assert.Equal(t, tc.verbatim, strings.Contains(v, string(body)), "body stored verbatim")
			if !tc.verbatim {
				assert.Less(t, len(v), len(body)/2, "the compressed entry")
			}
		})
	}
}

// TestShardedRoundTrips: on a sharded queue, an event whose dedupe keys
// share a home (every single-key event) is still one round trip, one
// script; one whose two keys live on different shards takes three
// (reserve the other key, the script, confirm the other key), as the
// documentation says. Counted with a go-redis hook after the scripts are
// loaded.
func TestShardedRoundTrips(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	rt := &roundTrips{}
	rdb.AddHook(rt)
	q := newTestQueue(t, rdb, testkit.NewCounter(), rediskit.WithShards(3))
	ctx := context.WithValue(t.Context(), markKey{}, true)
	home := func(key string) int { return shardOf(t, q, q.Store().Key(key)) }
	enqueue := func(keys ...string) int64 {
		t.Helper()
		e := hookguard.Event{Provider: "test", ID: keys[0], Type: "test.event", Body: []byte(`{}`), DedupeKeys: keys}
		before := rt.n.Load()
		st, err := q.EnqueueOnce(ctx, e, keys, time.Hour)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		return rt.n.Load() - before
	}
	// Two pairs of keys for each case: the first loads the scripts.
	var same, apart [][2]string
	for i := 0; len(same) < 2 || len(apart) < 2; i++ {
		a, b := fmt.Sprintf("test::id:k%d", i), fmt.Sprintf("test::digest:d%d", i)
		if home(a) == home(b) {
			same = append(same, [2]string{a, b})
		} else {
			apart = append(apart, [2]string{a, b})
		}
	}
	enqueue("test::id:warm-up")
	enqueue(same[0][0], same[0][1])
	enqueue(apart[0][0], apart[0][1])
	assert.EqualValues(t, 1, enqueue("test::id:single"), "one key")
	assert.EqualValues(t, 1, enqueue(same[1][0], same[1][1]), "two keys on one shard")
	assert.EqualValues(t, 3, enqueue(apart[1][0], apart[1][1]), "two keys on two shards")
}

// TestOtherShardCountDrained: a queue started with three shards on a name
// whose processes ran with one, without WithFormerShards, still handles
// the events taken in under one shard (the registry of shard counts tells
// it to read them), says so at WARN, and reports them drained after.
func TestOtherShardCountDrained(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	name := rediskit.WithName(testName(t))
	before := newTestQueue(t, rdb, nil, name, rediskit.WithWorkers(0))
	rb := newReceiver(t, before)
	for i := range 20 {
		require.Equal(t, http.StatusOK, post(rb, fmt.Sprintf("old_%02d", i)).Code)
	}
	logs := &recordLog{}
	cnt := testkit.NewCounter()
	after := newTestQueue(t, rdb, cnt, name, rediskit.WithShards(3), rediskit.WithLogger(slog.New(logs)))
	cnt.WaitDistinct(t, 20, 10*time.Second)
	assert.Len(t, logs.matching(slog.LevelWarn, "rediskit: the queue also ran with another shard count; its shards are drained too, but without WithFormerShards a redelivery of an event taken in under it may be taken in again"), 1)
	require.Eventually(t, func() bool {
		ok, err := after.FormerDrained(t.Context())
		return err == nil && ok
	}, 5*time.Second, 20*time.Millisecond)
	assert.Len(t, after.Shards(), 3, "Shards lists the current count only")

	// A process that only reads (as "hookguard dead list" does) registers
	// no count: a mistyped --shards leaves no trace for consumers to read.
	reader := newTestQueue(t, rdb, nil, name, rediskit.WithShards(5), rediskit.WithWorkers(0))
	_, err := reader.DeadLetters(t.Context(), hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	counts, err := rdb.SMembers(t.Context(), "hookguard:{"+testName(t)+"}:shards").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"1"}, counts, "only counts that events were written under")
}
