package rediskit_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// recordLog is a slog.Handler that keeps every record, for tests that
// check what the queue logged.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (*recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

// matching returns the records at level whose message contains msg, each
// as its attributes.
func (l *recordLog) matching(level slog.Level, msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.recs {
		if r.Level != level || !strings.Contains(r.Message, msg) {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// TestDeletedPendingEntriesCountedLost: a consumer died holding entries,
// and some of them were trimmed from the stream before another consumer
// reclaimed them (fault F12). Their events are gone; the loss must not be
// silent: the survivor logs each at ERROR once, counts it in Lost, and
// acknowledges it, and still handles the entries that survived the trim.
func TestDeletedPendingEntriesCountedLost(t *testing.T) {
	const (
		stranded = 6
		trimmed  = 4 // XTRIM MAXLEN 2 removes the 4 oldest
		group    = "workers"
		lostMsg  = "pending event was deleted from the stream before it was handled"
	)
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()

	// A producer on its own group writes the events to the shared stream,
	// as in TestReclaimDrainsBacklog.
	pcnt := testkit.NewCounter()
	producer := newTestQueue(t, rdb, pcnt, rediskit.WithGroup("producer"), rediskit.WithTrim(0, 0))
	stream := producer.Stream()
	if err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range stranded {
		e := hookguard.Event{Provider: "test", ID: fmt.Sprintf("evt_%d", i), Type: "test.event", Body: []byte(`{"secret":"body"}`), ReceivedAt: time.Now()}
		if err := producer.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The producer's group must have nothing pending when the stream is
	// trimmed, or its own reclaim would (rightly) report losses too.
	pcnt.WaitDistinct(t, stranded, 10*time.Second)
	waitPending(t, rdb, stream, "producer", 0)

	// The consumer that dies: it reads every entry and never acknowledges.
	res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "dead", Streams: []string{stream, ">"}, Count: stranded}).Result()
	if err != nil || len(res) != 1 || len(res[0].Messages) != stranded {
		t.Fatalf("stranding %d entries: %v, %v", stranded, res, err)
	}
	var deleted []string
	for _, m := range res[0].Messages[:trimmed] {
		deleted = append(deleted, m.ID)
	}
	// An operator trims the stream below what the group still needs.
	if n, err := rdb.XTrimMaxLen(ctx, stream, stranded-trimmed).Result(); err != nil || n != trimmed {
		t.Fatalf("XTRIM MAXLEN %d removed %d, %v; want %d", stranded-trimmed, n, err, trimmed)
	}

	// An attempt count recorded for a deleted entry must go with it.
	attempts := "hookguard:{" + testName(t) + "}:attempts"
	if err := rdb.HSet(ctx, attempts, deleted[0], 1).Err(); err != nil {
		t.Fatal(err)
	}

	logs := &recordLog{}
	cnt := testkit.NewCounter()
	q := newTestQueue(t, rdb, cnt, rediskit.WithGroup(group), rediskit.WithConsumer("survivor"),
		rediskit.WithTrim(0, 0), rediskit.WithLogger(slog.New(logs)))

	cnt.WaitDistinct(t, stranded-trimmed, 10*time.Second) // the survivors of the trim
	deadline := time.Now().Add(10 * time.Second)
	for q.Lost() < trimmed && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	waitPending(t, rdb, stream, group, 0)
	// Several more reclaim rounds: nothing may be counted or logged twice.
	time.Sleep(time.Second)

	if n := q.Lost(); n != trimmed {
		t.Errorf("Lost() = %d; want %d (the pending entries trimmed away)", n, trimmed)
	}
	recs := logs.matching(slog.LevelError, lostMsg)
	var logged []string
	for _, a := range recs {
		logged = append(logged, a["entry"])
		if a["stream"] != stream {
			t.Errorf("loss logged with stream %q; want %q", a["stream"], stream)
		}
		for k, v := range a {
			if strings.Contains(v, "secret") {
				t.Errorf("loss log attribute %s carries the event body: %s", k, v)
			}
		}
	}
	sort.Strings(logged)
	if strings.Join(logged, " ") != strings.Join(deleted, " ") {
		t.Errorf("ERROR logs for entries %v; want one for each deleted pending entry %v", logged, deleted)
	}
	for _, id := range deleted {
		p, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: group, Start: id, End: id, Count: 1}).Result()
		if err != nil || len(p) != 0 {
			t.Errorf("deleted entry %s still pending: %v, %v", id, p, err)
		}
	}
	if n, err := rdb.HLen(ctx, attempts).Result(); err != nil || n != 0 {
		t.Errorf("attempt counts left: %d, %v", n, err)
	}
	for id, n := range cnt.Snapshot() {
		if n != 1 {
			t.Errorf("%s handled %d times; want 1", id, n)
		}
	}
	if got := cnt.Distinct(); got != stranded-trimmed {
		t.Errorf("survivor handled %d events; want the %d left in the stream", got, stranded-trimmed)
	}
	if n := producer.Lost(); n != 0 {
		t.Errorf("producer's Lost() = %d; want 0 (its group had handled everything)", n)
	}
}

// waitPending waits until group has want entries pending on stream.
func waitPending(t *testing.T, rdb redis.UniversalClient, stream, group string, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := rdb.XPending(t.Context(), stream, group).Result()
		if err != nil {
			t.Fatal(err)
		}
		if p.Count == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s has %d entries pending; want %d", group, p.Count, want)
		}
		time.Sleep(20 * time.Millisecond) // the XACKs are on their way
	}
}
