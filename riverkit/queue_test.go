package riverkit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/queuetest"
	"github.com/hookguard/hookguard/riverkit"
	"github.com/hookguard/hookguard/verify"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// queueName turns a test name into a River queue name: the same for
// every queue of one test (a successor takes over its predecessor's
// jobs), different between tests.
func queueName(t *testing.T) string {
	s := regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(s) > 50 {
		s = s[len(s)-50:]
	}
	return strings.Trim(fmt.Sprintf("q%08x_%s", crc32.ChecksumIEEE([]byte(t.Name())), strings.Trim(s, "_")), "_")
}

// fast makes River fetch often, so that retries and new jobs start
// without the production poll interval's delay.
func fast(c *river.Config) {
	c.FetchCooldown = 5 * time.Millisecond
	c.FetchPollInterval = 50 * time.Millisecond
}

// newTestQueue starts a queue with timings short enough for tests.
func newTestQueue(t *testing.T, pool *pgxpool.Pool, h hookguard.Handler, opts ...riverkit.Option) *riverkit.Queue {
	t.Helper()
	q, err := riverkit.NewQueue(t.Context(), pool, h, testOptions(t, opts)...)
	require.NoError(t, err)
	stopAtEnd(t, q)
	return q
}

func testOptions(t *testing.T, opts []riverkit.Option) []riverkit.Option {
	return append([]riverkit.Option{
		riverkit.WithQueue(queueName(t)),
		riverkit.WithWorkers(4),
		riverkit.WithBackoff(0, 0),
		riverkit.WithLogger(quiet),
		riverkit.WithMaintenance(0, 1),
		riverkit.WithRiverConfig(fast),
	}, opts...)
}

func stopAtEnd(t *testing.T, q *riverkit.Queue) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
}

func TestQueueConformance(t *testing.T) {
	pool := startDB(t)
	queuetest.Run(t, func(t *testing.T, c queuetest.Config) queuetest.Queue {
		return newTestQueue(t, pool, c.Handler,
			riverkit.WithMaxAttempts(c.MaxAttempts),
			riverkit.WithDeadLetter(c.OnDeadLetter))
	})
}

// idVerifier accepts every request and takes the event ID from X-Id.
// These tests are about dedupe and queueing; signatures are tested with
// the presets elsewhere.
type idVerifier struct{}

func (idVerifier) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	id := req.Header.Get("X-Id")
	if id == "" {
		return verify.Delivery{}, verify.ErrMissingHeader
	}
	return verify.Delivery{Provider: "test", ID: id, Type: "test.event"}, nil
}

func post(ctx context.Context, h http.Handler, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hook", bytes.NewBufferString(`{"id":"`+id+`"}`))
	req.Header.Set("X-Id", id)
	req.Header.Set("Content-Type", "application/json")
	return testkit.Serve(h, req)
}

func isDuplicate(w *httptest.ResponseRecorder) bool {
	return w.Code == http.StatusOK && w.Header().Get(hookguard.DuplicateHeader) == "true"
}

func newReceiver(t *testing.T, q *riverkit.Queue, opts ...hookguard.Option) *hookguard.Receiver {
	t.Helper()
	r, err := hookguard.New(idVerifier{}, nil, append([]hookguard.Option{
		hookguard.WithQueue(q), hookguard.WithStore(q.Store()), hookguard.WithAckTimeout(15 * time.Second),
	}, opts...)...)
	require.NoError(t, err)
	return r
}

// counted marks the contexts whose queries roundTrips counts.
type counted struct{}

// roundTrips counts the statements sent with a context marked counted:
// each Exec, Query and batch is one round trip to the server.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Value(counted{}) != nil {
		c.n.Add(1)
	}
	return ctx
}

func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	if ctx.Value(counted{}) != nil {
		c.n.Add(1)
	}
	return ctx
}

func (*roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (*roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestReceiverOneTransaction: with the queue's own store, an accepted
// delivery records its key and inserts its job in one transaction of four
// round trips (BEGIN, the keys, River's insert, COMMIT; River adds a
// NOTIFY at most once per fetch cooldown), a duplicate costs three (BEGIN,
// the keys, ROLLBACK) and inserts nothing, and every accepted event is
// handled once.
func TestReceiverOneTransaction(t *testing.T) {
	srv := startServer(t)
	rt := &roundTrips{}
	pc, err := pgxpool.ParseConfig(srv.URL())
	require.NoError(t, err)
	pc.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	cnt := testkit.NewCounter()
	// The default fetch cooldown (100ms) bounds River's NOTIFY on insert.
	q, err := riverkit.NewQueue(t.Context(), pool, cnt, riverkit.WithQueue(queueName(t)), riverkit.WithLogger(quiet), riverkit.WithMaintenance(0, 1))
	require.NoError(t, err)
	stopAtEnd(t, q)
	r := newReceiver(t, q)
	ctx := context.WithValue(t.Context(), counted{}, true)

	const n = 200
	for i := range n {
		w := post(ctx, r, fmt.Sprintf("evt_%d", i))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.False(t, isDuplicate(w), "evt_%d answered as a duplicate on its first delivery", i)
	}
	perAccepted := float64(rt.n.Load()) / n
	t.Logf("round trips per accepted delivery: %.2f", perAccepted)
	assert.GreaterOrEqual(t, perAccepted, 4.0)
	assert.LessOrEqual(t, perAccepted, 4.5, "an accepted delivery must cost BEGIN, one statement for the keys, River's insert and COMMIT")

	rt.n.Store(0)
	for i := range n {
		w := post(ctx, r, fmt.Sprintf("evt_%d", i))
		require.True(t, isDuplicate(w), "evt_%d: second delivery answered %d, not as a duplicate", i, w.Code)
	}
	assert.Equal(t, int64(3*n), rt.n.Load(), "a duplicate must cost BEGIN, the keys and ROLLBACK")

	// Concurrent senders: deliveries that arrive while others commit
	// share a transaction (group commit), each with its own answer; every
	// event is sent twice at once, and exactly one copy is accepted.
	const senders, per = 32, 25
	rt.n.Store(0)
	var accepted, dups atomic.Int64
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("evt_c%d_%d", g, i)
				var both sync.WaitGroup
				for range 2 {
					both.Add(1)
					go func() {
						defer both.Done()
						w := post(ctx, r, id)
						switch {
						case isDuplicate(w):
							dups.Add(1)
						case w.Code == http.StatusOK:
							accepted.Add(1)
						default:
							assert.Fail(t, "unexpected answer", "%s: %d %s", id, w.Code, w.Body.String())
						}
					}()
				}
				both.Wait()
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, senders*per, accepted.Load(), "one copy of each event accepted")
	assert.EqualValues(t, senders*per, dups.Load(), "the other copy answered as a duplicate")
	perDelivery := float64(rt.n.Load()) / float64(2*senders*per)
	t.Logf("round trips per delivery with %d concurrent senders: %.2f", 2*senders, perDelivery)
	assert.Less(t, perDelivery, 3.0, "concurrent deliveries must share transactions")

	total := n + senders*per
	cnt.WaitDistinct(t, total, 30*time.Second)
	var jobs int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE kind = $1", riverkit.EventKind).Scan(&jobs))
	assert.Equal(t, total, jobs, "one job per accepted event, none for duplicates")
	time.Sleep(200 * time.Millisecond)
	for id, k := range cnt.Snapshot() {
		assert.Equal(t, 1, k, "%s handled %d times", id, k)
	}
}

var errBug = errors.New("handler bug")

// TestRedeliveryAfterDeadLetter: a dead letter discards the job and
// releases the event's dedupe record in one transaction, so the sender's
// redelivery after the fix is taken in and handled; a copy after that is
// a duplicate again. With hookguard.WithKeepDedupeOnDeadLetter the
// redelivery stays a duplicate.
func TestRedeliveryAfterDeadLetter(t *testing.T) {
	pool := startDB(t)
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			var fixed atomic.Bool
			handled := make(chan string, 4)
			dead := make(chan hookguard.Event, 4)
			h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				if !fixed.Load() {
					return errBug
				}
				handled <- e.ID
				return nil
			})
			q := newTestQueue(t, pool, h, riverkit.WithMaxAttempts(2),
				riverkit.WithDeadLetter(func(e hookguard.Event, err error) {
					assert.ErrorIs(t, err, errBug)
					dead <- e
				}))
			var opts []hookguard.Option
			if keep {
				opts = append(opts, hookguard.WithKeepDedupeOnDeadLetter())
			}
			r := newReceiver(t, q, opts...)
			id := "evt_" + queueName(t)
			require.Equal(t, http.StatusOK, post(t.Context(), r, id).Code)
			e := waitFor(t, dead, "the dead letter")
			assert.Equal(t, id, e.ID)
			assert.Equal(t, 2, e.Attempt)

			var state string
			var released bool
			require.NoError(t, pool.QueryRow(t.Context(),
				"SELECT state, metadata ? 'hookguard_released' FROM river_job WHERE kind = $1 AND args->>'id' = $2", riverkit.EventKind, id).Scan(&state, &released))
			assert.Equal(t, "discarded", state)
			assert.True(t, released)

			fixed.Store(true)
			w := post(t.Context(), r, id)
			if keep {
				assert.True(t, isDuplicate(w), "with the keep option the redelivery must stay a duplicate")
				return
			}
			require.Equal(t, http.StatusOK, w.Code)
			require.False(t, isDuplicate(w), "the redelivery after a dead letter must be taken in")
			assert.Equal(t, id, waitFor(t, handled, "the redelivery's handling"))
			assert.True(t, isDuplicate(post(t.Context(), r, id)), "a third copy, after the redelivery was handled, is a duplicate")
		})
	}
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		require.FailNow(t, "timed out waiting for "+what)
	}
	var zero T
	return zero
}

// TestEnqueueOncePending: a key held by a pending reservation (a receiver
// that uses the store without the queue) is reported pending, and nothing
// is inserted.
func TestEnqueueOncePending(t *testing.T) {
	pool := startDB(t)
	q := newTestQueue(t, pool, testkit.NewCounter())
	ctx := t.Context()
	st, err := q.Store().Reserve(ctx, "k1", "someone", time.Minute)
	require.NoError(t, err)
	require.Equal(t, dedupe.Reserved, st)
	st, err = q.EnqueueOnce(ctx, hookguard.Event{Provider: "test", ID: "x"}, []string{"k2", "k1"}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Pending, st)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE key = 'k2'::bytea").Scan(&n))
	assert.Zero(t, n, "the other key must not be recorded when one is pending")
	_, err = q.EnqueueOnce(ctx, hookguard.Event{}, nil, time.Minute)
	assert.ErrorIs(t, err, dedupe.ErrEmptyKey)
}
