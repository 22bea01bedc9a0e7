package rediskit

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/redistest"
)

// The tests of the changes that cut Redis's work per delivery: the event
// in one value (format 2), the one-record fast path of the intake script,
// and acknowledgements sent in batches. benchmarks/cmd/rediscpu measures
// what they save.

var cpuTestLog = slog.New(slog.DiscardHandler)

// asRead turns XADD's field-value list into the map go-redis reads back.
func asRead(t *testing.T, vals []any) map[string]any {
	t.Helper()
	m := map[string]any{}
	for i := 0; i+1 < len(vals); i += 2 {
		k, ok := vals[i].(string)
		require.True(t, ok, "field %d is %T", i, vals[i])
		switch v := vals[i+1].(type) {
		case string:
			m[k] = v
		case []byte:
			m[k] = string(v)
		default:
			t.Fatalf("value of %s is %T", k, v)
		}
	}
	return m
}

func TestEventFormatRoundTrip(t *testing.T) {
	base := hookguard.Event{
		Provider: "stripe", ID: "evt_1", Type: "invoice.paid",
		Timestamp:  time.Unix(1_700_000_000, 5).UTC(),
		ReceivedAt: time.Unix(1_700_000_001, 7).UTC(),
		Body:       []byte("{\"a\":\"\x00\xff\"}"),
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}, "X-Empty": {}},
		DedupeKeys: []string{"stripe:evt_1", "stripe:sha256:abc"},
	}
	tests := []struct {
		name string
		edit func(e *hookguard.Event)
		here bool
	}{
		{name: "full, keys here", here: true},
		{name: "full, keys elsewhere"},
		{name: "no timestamp", edit: func(e *hookguard.Event) { e.Timestamp = time.Time{} }},
		{name: "nil header", edit: func(e *hookguard.Event) { e.Header = nil }},
		{name: "empty header", edit: func(e *hookguard.Event) { e.Header = http.Header{} }},
		{name: "no keys, empty body and ID", edit: func(e *hookguard.Event) { e.DedupeKeys, e.Body, e.ID = nil, nil, "" }},
		{name: "received before 1970", edit: func(e *hookguard.Event) { e.ReceivedAt = time.Unix(-5, 3).UTC() }},
		{name: "large body", edit: func(e *hookguard.Event) { e.Body = []byte(strings.Repeat("x", 300<<10)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.Header = base.Header.Clone()
			if tt.edit != nil {
				tt.edit(&e)
			}
			vals := encodeEvent(e, tt.here, true)
			require.Len(t, vals, 4, "format 2 is two fields: the ID and the event")
			m := asRead(t, vals)
			assert.Equal(t, e.ID, m[fID], "the ID stays readable by XRANGE")
			got, here, err := decodeEntry(m)
			require.NoError(t, err)
			assert.Equal(t, tt.here, here)
			assert.Equal(t, e.Provider, got.Provider)
			assert.Equal(t, e.ID, got.ID)
			assert.Equal(t, e.Type, got.Type)
			assert.True(t, got.Timestamp.Equal(e.Timestamp), "timestamp %v; want %v", got.Timestamp, e.Timestamp)
			assert.True(t, got.ReceivedAt.Equal(e.ReceivedAt), "received %v; want %v", got.ReceivedAt, e.ReceivedAt)
			assert.Equal(t, string(e.Body), string(got.Body))
			assert.Equal(t, e.Header == nil, got.Header == nil, "a nil header stays nil, an empty one empty")
			assert.Len(t, got.Header, len(e.Header))
			for k, vs := range e.Header {
				assert.Equal(t, len(vs), len(got.Header[k]), "header %s", k)
				for i := range vs {
					assert.Equal(t, vs[i], got.Header[k][i], "header %s", k)
				}
			}
			assert.Equal(t, e.DedupeKeys, got.DedupeKeys)
		})
	}
}

// TestFormat1StillDecodes: entries written before format 2 (a field per
// part) survive an upgrade in the stream and are read as they were.
func TestFormat1StillDecodes(t *testing.T) {
	e := hookguard.Event{
		Provider: "github", ID: "d-1", Type: "push",
		ReceivedAt: time.Unix(1_700_000_001, 7).UTC(),
		Body:       []byte(`{}`), Header: http.Header{"X-A": {"1"}},
		DedupeKeys: []string{"github:d-1"},
	}
	vals, err := encodeFields(e)
	require.NoError(t, err)
	m := asRead(t, append(vals, fKeysHere, "1"))
	assert.Equal(t, "1", m[fVersion])
	got, here, err := decodeEntry(m)
	require.NoError(t, err)
	assert.True(t, here)
	assert.Equal(t, e.ID, got.ID)
	assert.Equal(t, e.Type, got.Type)
	assert.Equal(t, e.Header, got.Header)
	assert.Equal(t, e.DedupeKeys, got.DedupeKeys)
	assert.True(t, got.ReceivedAt.Equal(e.ReceivedAt))

	// A format-2 event replayed from a dead letter carries fKeysHere as a
	// field besides the value's own flag: either says the keys are here.
	m = asRead(t, append(encodeEvent(e, false, true), fKeysHere, "1"))
	_, here, err = decodeEntry(m)
	require.NoError(t, err)
	assert.True(t, here)
}

// TestEventValueDamaged: a value cut short, lengthened or of another
// format is an errBadEntry (the entry is dead-lettered), never a panic.
func TestEventValueDamaged(t *testing.T) {
	for _, body := range []string{"body", strings.Repeat(`{"line":"item"},`, 64)} {
		e := hookguard.Event{Provider: "stripe", ID: "evt_1", Type: "t", Timestamp: time.Unix(1, 0), ReceivedAt: time.Unix(2, 0),
			Header: http.Header{"A": {"b", "c"}}, DedupeKeys: []string{"k"}, Body: []byte(body)}
		v := string(encodeEvent(e, true, true)[3].([]byte))
		got, _, err := decodeEvent(v)
		require.NoError(t, err)
		require.Equal(t, body, string(got.Body))
		for n := range len(v) {
			_, _, err := decodeEntry(map[string]any{fEvent: v[:n]})
			require.ErrorIs(t, err, errBadEntry, "value cut to %d of %d bytes", n, len(v))
		}
		for _, bad := range []string{v + "x", "\x01" + v[1:], "\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"} {
			_, _, err := decodeEntry(map[string]any{fEvent: bad})
			require.ErrorIs(t, err, errBadEntry, "value %q", bad)
		}
	}
	// A compressed body whose stated length is off, or whose stated
	// length no compressed data could reach, is refused.
	body := []byte(strings.Repeat("abcdefgh", 256))
	z := deflate(body)
	require.NotNil(t, z, "a repetitive body compresses")
	for _, n := range []uint64{uint64(len(body)) - 1, uint64(len(body)) + 1, 1 << 40} {
		_, ok := inflate(string(z), n)
		assert.False(t, ok, "stated length %d of a %d-byte body", n, len(body))
	}
	out, ok := inflate(string(z), uint64(len(body)))
	require.True(t, ok)
	assert.Equal(t, body, out)
	assert.Nil(t, deflate([]byte(strings.Repeat("\x00\xff\x13\x37", 1)+string(randomBytes(t, 1024)))), "random bytes are stored as they are")
	_, _, err := decodeEntry(map[string]any{fEvent: 42})
	require.ErrorIs(t, err, errBadEntry, "a value that is not a string")
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// FuzzDecodeEvent: decodeEvent never panics, and an event it accepts
// encodes to a value that decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	e := hookguard.Event{Provider: "p", ID: "i", Type: "t", Timestamp: time.Unix(1, 2), ReceivedAt: time.Unix(3, 4),
		Header: http.Header{"A": {"b"}}, DedupeKeys: []string{"k"}, Body: []byte("body")}
	f.Add(string(encodeEvent(e, true, true)[3].([]byte)))
	f.Add(string(encodeEvent(hookguard.Event{}, false, true)[3].([]byte)))
	f.Add("\x02")
	f.Fuzz(func(t *testing.T, v string) {
		got, here, err := decodeEvent(v)
		if err != nil {
			return
		}
		again, here2, err := decodeEvent(string(encodeEvent(got, here, true)[3].([]byte)))
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if here2 != here || again.Provider != got.Provider || again.ID != got.ID || again.Type != got.Type ||
			!again.Timestamp.Equal(got.Timestamp) || !again.ReceivedAt.Equal(got.ReceivedAt) ||
			string(again.Body) != string(got.Body) || len(again.Header) != len(got.Header) || len(again.DedupeKeys) != len(got.DedupeKeys) {
			t.Fatalf("re-encoded event differs: %+v, want %+v", again, got)
		}
	})
}

// TestFormat1EntryAfterUpgrade: an entry written in format 1 by an older
// version is handled by this one, and one that fails is dead-lettered
// with its dedupe record released and its fields kept readable.
func TestFormat1EntryAfterUpgrade(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	store, err := NewStore(rdb, WithPrefix("hookguard:{hookguard}:seen:"))
	require.NoError(t, err)
	old := func(id string) {
		e := hookguard.Event{Provider: "stripe", ID: id, Type: "t", ReceivedAt: time.Now(), Body: []byte(`{"id":"` + id + `"}`),
			Header: http.Header{"Content-Type": {"application/json"}}, DedupeKeys: []string{"stripe:" + id}}
		vals, err := encodeFields(e)
		require.NoError(t, err)
		vals = append(vals, fKeysHere, "1")
		require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: "hookguard:{hookguard}:events", Values: vals}).Err())
		require.NoError(t, rdb.Set(ctx, store.Key("stripe:"+id), "s-old-record", time.Hour).Err())
	}
	old("evt_ok")
	old("evt_bad")

	var mu sync.Mutex
	handled := map[string]hookguard.Event{}
	dead := make(chan hookguard.Event, 1)
	h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		if e.ID == "evt_bad" {
			return hookguard.Permanent(errors.New("boom"))
		}
		mu.Lock()
		handled[e.ID] = e
		mu.Unlock()
		return nil
	})
	q, err := NewQueue(ctx, rdb, h, WithLogger(cpuTestLog), WithBlock(50*time.Millisecond),
		WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Shutdown(context.Background()) })

	select {
	case e := <-dead:
		assert.Equal(t, "evt_bad", e.ID)
	case <-time.After(10 * time.Second):
		t.Fatal("the failing format-1 entry was not dead-lettered within 10s")
	}
	n, err := rdb.Exists(ctx, store.Key("stripe:evt_bad")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the dead letter released the record the older version wrote")
	msgs, err := rdb.XRange(ctx, q.DeadLetterStream(), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "evt_bad", msgs[0].Values[fID])
	assert.Equal(t, `{"id":"evt_bad"}`, msgs[0].Values[fBody])
	assert.Equal(t, "1", msgs[0].Values[fVersion], "dead letters keep format 1")

	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		e, ok := handled["evt_ok"]
		mu.Unlock()
		if ok {
			assert.Equal(t, `{"id":"evt_ok"}`, string(e.Body))
			assert.Equal(t, "application/json", e.Header.Get("Content-Type"))
			break
		}
		require.False(t, time.Now().After(deadline), "the format-1 entry was not handled within 10s")
		time.Sleep(5 * time.Millisecond) // polling the handler's record
	}
}

// TestEnqueueOnceFailedXAddLeavesNoRecord: when the XADD of the intake
// script fails, no dedupe record is left behind (with one key, the fast
// path writes the record first and must take it back), so the sender's
// retry is taken in, not answered as a duplicate.
func TestEnqueueOnceFailedXAddLeavesNoRecord(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	q, err := NewQueue(ctx, rdb, nil, WithWorkers(0), WithTrim(0, 0), WithLogger(cpuTestLog))
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Shutdown(context.Background()) })
	require.NoError(t, rdb.Set(ctx, q.Stream(), "not a stream", 0).Err())
	e := hookguard.Event{Provider: "p", ID: "evt_1", ReceivedAt: time.Now(), Body: []byte("{}")}
	for _, keys := range [][]string{{"p:evt_1"}, {"p:evt_1", "p:digest"}} {
		_, err := q.EnqueueOnce(ctx, e, keys, time.Hour)
		require.Error(t, err, "keys %v", keys)
		assert.Contains(t, err.Error(), "WRONGTYPE")
		for _, k := range keys {
			n, err := rdb.Exists(ctx, q.Store().Key(k)).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "record %s left behind by a failed enqueue of keys %v", k, keys)
		}
	}
	require.NoError(t, rdb.Del(ctx, q.Stream()).Err())
	st, err := q.EnqueueOnce(ctx, e, []string{"p:evt_1"}, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Reserved, st, "the retry is taken in")
	st, err = q.EnqueueOnce(ctx, e, []string{"p:evt_1"}, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Seen, st)
}

// xackGate holds the first XACK until released, sending how many IDs it
// carries on held, and counts the XACKs.
type xackGate struct {
	release chan struct{}
	held    chan int
	first   sync.Once
	xacks   atomic.Int64
}

func (*xackGate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *xackGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.EqualFold(cmd.Name(), "xack") {
			g.xacks.Add(1)
			g.first.Do(func() {
				g.held <- len(cmd.Args()) - 3 // XACK stream group ID...
				<-g.release
			})
		}
		return next(ctx, cmd)
	}
}
func (g *xackGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestAcksShareARoundTrip: the acknowledgements of workers that finish
// while one XACK is on its way go together in the next one, and every
// entry is acknowledged.
func TestAcksShareARoundTrip(t *testing.T) {
	const workers = 8
	srv := redistest.Start(t)
	rdb := srv.Client()
	gate := &xackGate{release: make(chan struct{}), held: make(chan int, 1)}
	rdb.AddHook(gate)
	ctx := t.Context()
	var n atomic.Int64
	all := make(chan struct{})
	start := make(chan struct{})
	h := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		if n.Add(1) == workers {
			close(all)
		}
		<-start // every worker holds an entry before any finishes
		return nil
	})
	q, err := NewQueue(ctx, rdb, h, WithWorkers(workers), WithTrim(0, 0), WithLogger(cpuTestLog), WithBlock(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Shutdown(context.Background()) })
	var started, released sync.Once
	go1 := func() { started.Do(func() { close(start) }) }
	release := func() { released.Do(func() { close(gate.release) }) }
	t.Cleanup(func() { go1(); release() }) // runs first: a failed test leaves no worker stuck
	for i := range workers {
		require.NoError(t, q.Enqueue(ctx, hookguard.Event{Provider: "p", ID: "evt_" + string(rune('a'+i)), ReceivedAt: time.Now()}))
	}
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d entries reached a worker within 10s", n.Load(), workers)
	}
	go1()
	// The first XACK is held; the other workers' acknowledgements queue.
	var first int
	select {
	case first = <-gate.held:
	case <-time.After(10 * time.Second):
		t.Fatal("no XACK within 10s")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(q.acks) < workers-first {
		require.False(t, time.Now().After(deadline), "%d acknowledgements queued within 10s; want %d", len(q.acks), workers-first)
		time.Sleep(time.Millisecond) // polling the channel's length
	}
	release()
	deadline = time.Now().Add(10 * time.Second)
	for {
		p, err := rdb.XPending(ctx, q.Stream(), DefaultGroup).Result()
		require.NoError(t, err)
		if p.Count == 0 {
			break
		}
		require.False(t, time.Now().After(deadline), "%d entries still pending 10s after the acknowledgements", p.Count)
		time.Sleep(5 * time.Millisecond) // polling Redis
	}
	want := int64(2)
	if first == workers {
		want = 1
	}
	assert.Equal(t, want, gate.xacks.Load(), "XACK round trips for %d entries: the held one (of %d), then one for all those that queued meanwhile", workers, first)
}

// TestEntryFormats: with either entry format the queue takes an event in
// atomically, hands the handler the same event, and dead-letters it with
// its record released; format 1 writes what versions before format 2
// read.
func TestEntryFormats(t *testing.T) {
	srv := redistest.Start(t)
	for _, format := range []int{1, 2} {
		t.Run(strconv.Itoa(format), func(t *testing.T) {
			rdb := srv.Client()
			ctx := t.Context()
			require.NoError(t, rdb.FlushAll(ctx).Err())
			got := make(chan hookguard.Event, 1)
			dead := make(chan hookguard.Event, 1)
			h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				got <- e
				return hookguard.Permanent(errors.New("boom"))
			})
			q, err := NewQueue(ctx, rdb, h, WithEntryFormat(format), WithLogger(cpuTestLog), WithBlock(50*time.Millisecond),
				WithWorkers(1), WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
			require.NoError(t, err)
			t.Cleanup(func() { _ = q.Shutdown(context.Background()) })
			body := strings.Repeat(`{"line":"item"},`, 64)
			e := hookguard.Event{Provider: "stripe", ID: "evt_f", Type: "t", ReceivedAt: time.Now(), Body: []byte(body),
				Header: http.Header{"Content-Type": {"application/json"}}, DedupeKeys: []string{"stripe:evt_f"}}
			st, err := q.EnqueueOnce(ctx, e, e.DedupeKeys, time.Hour)
			require.NoError(t, err)
			require.Equal(t, dedupe.Reserved, st)

			msgs, err := rdb.XRange(ctx, q.Stream(), "-", "+").Result()
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			v := msgs[0].Values
			assert.Equal(t, "evt_f", v[fID])
			if format == 1 {
				assert.Equal(t, "1", v[fVersion])
				assert.Equal(t, body, v[fBody])
				assert.Equal(t, "1", v[fKeysHere])
				assert.NotContains(t, v, fEvent)
			} else {
				assert.Len(t, v, 2, "format 2: the ID and the event")
				assert.Less(t, len(v[fEvent].(string)), len(body), "the body is compressed")
			}

			for _, ch := range []chan hookguard.Event{got, dead} {
				select {
				case ev := <-ch:
					assert.Equal(t, body, string(ev.Body))
					assert.Equal(t, "application/json", ev.Header.Get("Content-Type"))
					assert.Equal(t, e.DedupeKeys, ev.DedupeKeys)
				case <-time.After(10 * time.Second):
					t.Fatal("the event was not handled and dead-lettered within 10s")
				}
			}
			n, err := rdb.Exists(ctx, q.Store().Key("stripe:evt_f")).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "the dead letter released the record")
			dl, err := rdb.XRange(ctx, q.DeadLetterStream(), "-", "+").Result()
			require.NoError(t, err)
			require.Len(t, dl, 1)
			assert.Equal(t, "1", dl[0].Values[fVersion], "dead letters keep a field per part")
			assert.Equal(t, body, dl[0].Values[fBody])
		})
	}
	_, err := NewQueue(t.Context(), srv.Client(), nil, WithWorkers(0), WithEntryFormat(3))
	require.ErrorIs(t, err, ErrInvalidOption)
}
