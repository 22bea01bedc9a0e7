package riverkit_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/riverkit"
)

func TestNewQueueErrors(t *testing.T) {
	pool := &pgxpool.Pool{} // never used: the constructor fails first
	h := testkit.NewCounter()
	for _, tc := range []struct {
		name string
		pool *pgxpool.Pool
		h    hookguard.Handler
		opts []riverkit.Option
		want error
		text string
	}{
		{"nil pool", nil, h, nil, riverkit.ErrNilPool, ""},
		{"nil handler", pool, nil, nil, hookguard.ErrNilHandler, "NewQueue needs a Handler"},
		{"bad queue", pool, h, []riverkit.Option{riverkit.WithQueue("Bad Name")}, riverkit.ErrInvalidOption, `WithQueue("Bad Name")`},
		{"long queue", pool, h, []riverkit.Option{riverkit.WithQueue(strings.Repeat("q", 65))}, riverkit.ErrInvalidOption, "at most 64 bytes"},
		{"double separator", pool, h, []riverkit.Option{riverkit.WithQueue("a__b")}, riverkit.ErrInvalidOption, `WithQueue("a__b")`},
		{"negative workers", pool, h, []riverkit.Option{riverkit.WithWorkers(-1)}, riverkit.ErrInvalidOption, "WithWorkers(-1)"},
		{"no attempts", pool, h, []riverkit.Option{riverkit.WithMaxAttempts(0)}, riverkit.ErrInvalidOption, "WithMaxAttempts(0)"},
		{"backoff", pool, h, []riverkit.Option{riverkit.WithBackoff(time.Second, time.Millisecond)}, riverkit.ErrInvalidOption, "WithBackoff(1s, 1ms)"},
		{"timeout", pool, h, []riverkit.Option{riverkit.WithAttemptTimeout(0)}, riverkit.ErrInvalidOption, "WithAttemptTimeout(0s)"},
		{"rescue", pool, h, []riverkit.Option{riverkit.WithRescueAfter(-time.Second)}, riverkit.ErrInvalidOption, "WithRescueAfter(-1s)"},
		{"rescue within timeout", pool, h, []riverkit.Option{riverkit.WithAttemptTimeout(time.Minute), riverkit.WithRescueAfter(time.Minute)}, riverkit.ErrInvalidOption, "must exceed the attempt timeout"},
		{"maintenance", pool, h, []riverkit.Option{riverkit.WithMaintenance(time.Millisecond, 10)}, riverkit.ErrInvalidOption, "WithMaintenance(1ms, 10)"},
		{"maintenance limit", pool, h, []riverkit.Option{riverkit.WithMaintenance(time.Minute, 0)}, riverkit.ErrInvalidOption, "WithMaintenance(1m0s, 0)"},
		{"table", pool, h, []riverkit.Option{riverkit.WithTable("x;y")}, riverkit.ErrInvalidOption, `WithTable("x;y")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := riverkit.NewQueue(t.Context(), tc.pool, tc.h, tc.opts...)
			assert.Nil(t, q)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
	_, err := riverkit.NewTxQueue(t.Context(), pool, nil)
	assert.ErrorIs(t, err, hookguard.ErrNilHandler)
}

// TestOptionScopes: queue options given to Migrate or NewStore are
// refused, saying where they belong; WithTable serves all three.
func TestOptionScopes(t *testing.T) {
	pool := &pgxpool.Pool{}
	for _, o := range []struct {
		name string
		opt  riverkit.Option
	}{
		{"WithQueue", riverkit.WithQueue("x")},
		{"WithWorkers", riverkit.WithWorkers(2)},
		{"WithMaxAttempts", riverkit.WithMaxAttempts(2)},
		{"WithBackoff", riverkit.WithBackoff(0, 0)},
		{"WithAttemptTimeout", riverkit.WithAttemptTimeout(time.Second)},
		{"WithRescueAfter", riverkit.WithRescueAfter(time.Hour)},
		{"WithMaintenance", riverkit.WithMaintenance(0, 1)},
		{"WithHooks", riverkit.WithHooks(hookguard.Hooks{})},
		{"WithDeadLetter", riverkit.WithDeadLetter(func(hookguard.Event, error) {})},
		{"WithLogger", riverkit.WithLogger(quiet)},
		{"WithRiverConfig", riverkit.WithRiverConfig(func(*river.Config) {})},
	} {
		t.Run(o.name, func(t *testing.T) {
			_, err := riverkit.NewStore(pool, o.opt)
			require.ErrorIs(t, err, riverkit.ErrInvalidOption)
			assert.Contains(t, err.Error(), o.name)
			assert.Contains(t, err.Error(), "configures NewQueue")
			assert.ErrorIs(t, riverkit.Migrate(t.Context(), pool, o.opt), riverkit.ErrInvalidOption)
		})
	}
}

// TestNotMigrated: NewQueue on a database without the schema says to run
// Migrate, and changes nothing.
func TestNotMigrated(t *testing.T) {
	srv := pgtest.Start(t, pgtest.WithFsync(false))
	_, err := riverkit.NewQueue(t.Context(), srv.Pool(), testkit.NewCounter(), riverkit.WithLogger(quiet))
	require.ErrorIs(t, err, riverkit.ErrNotMigrated)
	assert.Contains(t, err.Error(), "riverkit.Migrate")
	var tables int
	require.NoError(t, srv.Pool().QueryRow(t.Context(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables))
	assert.Zero(t, tables, "NewQueue must not create tables")
}

// TestRiverConfigGuard: WithRiverConfig may add to River's configuration
// but not change what the package's options set.
func TestRiverConfigGuard(t *testing.T) {
	pool := startDB(t)
	_, err := riverkit.NewQueue(t.Context(), pool, testkit.NewCounter(), riverkit.WithLogger(quiet),
		riverkit.WithRiverConfig(func(c *river.Config) { c.MaxAttempts = 99 }))
	require.ErrorIs(t, err, riverkit.ErrInvalidOption)
	assert.Contains(t, err.Error(), "WithMaxAttempts")
}

// TestEventRoundTrip: every field of an event comes back from its River
// job exactly, including an ID, a type and dedupe keys that jsonb could
// not hold as text (NUL, bytes that are not UTF-8).
func TestEventRoundTrip(t *testing.T) {
	pool := startDB(t)
	got := make(chan hookguard.Event, 2)
	q := newTestQueue(t, pool, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		got <- e
		return nil
	}))
	for _, e := range []hookguard.Event{
		{Provider: "stripe", ID: "evt_1", Type: "invoice.paid", Timestamp: time.Unix(1700000000, 5).UTC(),
			ReceivedAt: time.Unix(1700000001, 7).UTC(), Body: []byte(`{"id":"evt_1"}`),
			Header: http.Header{"Content-Type": {"application/json"}}, DedupeKeys: []string{"stripe:evt_1"}},
		{Provider: "test", ID: "a\x00b\xff", Type: "t\x00", ReceivedAt: time.Unix(1, 0).UTC(), Body: []byte{0, 1, 0xff},
			DedupeKeys: []string{"k\x00", "\xfe"}},
	} {
		require.NoError(t, q.Enqueue(t.Context(), e))
		h := waitFor(t, got, "the event")
		e.Attempt = 1
		assert.Equal(t, e, h)
	}
}

// TestTxHandlerCommitsWithJob: a TxHandler's writes commit with the
// job's completion; a failed attempt's writes roll back with it, and the
// retry's commit.
func TestTxHandlerCommitsWithJob(t *testing.T) {
	pool := startDB(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, "CREATE TABLE effects (event_id text NOT NULL, attempt int NOT NULL)")
	require.NoError(t, err)
	done := make(chan int, 4)
	q, err := riverkit.NewTxQueue(ctx, pool, riverkit.TxHandlerFunc(func(ctx context.Context, tx pgx.Tx, e hookguard.Event) error {
		if _, err := tx.Exec(ctx, "INSERT INTO effects VALUES ($1, $2)", e.ID, e.Attempt); err != nil {
			return err
		}
		if e.Attempt == 1 {
			done <- e.Attempt
			return errBug // rolls the insert back
		}
		if e.Attempt == 2 {
			defer func() { done <- e.Attempt }()
		}
		return nil
	}), testOptions(t, nil)...)
	require.NoError(t, err)
	stopAtEnd(t, q)
	require.NoError(t, q.Enqueue(ctx, hookguard.Event{Provider: "test", ID: "evt_tx", ReceivedAt: time.Now()}))
	assert.Equal(t, 1, waitFor(t, done, "attempt 1"))
	assert.Equal(t, 2, waitFor(t, done, "attempt 2"))
	require.Eventually(t, func() bool {
		var state string
		_ = pool.QueryRow(ctx, "SELECT state FROM river_job WHERE kind = $1", riverkit.EventKind).Scan(&state)
		return state == "completed"
	}, 10*time.Second, 20*time.Millisecond, "the job must end completed")
	var rows []string
	r, err := pool.Query(ctx, "SELECT event_id || ':' || attempt FROM effects")
	require.NoError(t, err)
	for r.Next() {
		var s string
		require.NoError(t, r.Scan(&s))
		rows = append(rows, s)
	}
	require.NoError(t, r.Err())
	assert.Equal(t, []string{"evt_tx:2"}, rows, "only the successful attempt's write may remain")
}

// TestMaintainFinishesRescuedDeadLetters: a job River discarded without
// the worker (as its rescuer does when the last attempt's process died)
// has its dedupe records released and its dead-letter hook run by the
// next maintenance run, once; expired records are deleted.
func TestMaintainFinishesRescuedDeadLetters(t *testing.T) {
	pool := startDB(t)
	ctx := t.Context()
	release := make(chan struct{})
	var dead []hookguard.Event
	var deadErr error
	q := newTestQueue(t, pool, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}), riverkit.WithWorkers(1), riverkit.WithDeadLetter(func(e hookguard.Event, err error) {
		dead = append(dead, e)
		deadErr = err
	}))
	t.Cleanup(func() { close(release) })
	r := newReceiver(t, q)
	require.Equal(t, http.StatusOK, post(ctx, r, "evt_a").Code)
	require.Eventually(t, func() bool {
		var state string
		_ = pool.QueryRow(ctx, "SELECT state FROM river_job WHERE args->>'id' = 'evt_a'").Scan(&state)
		return state == "running"
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, http.StatusOK, post(ctx, r, "evt_b").Code) // stays available: the only worker is busy

	// What River's rescuer writes for a stuck job on its last attempt.
	tag, err := pool.Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now(), attempt = 1,
	errors = array_append(errors, '{"at":"2026-01-01T00:00:00Z","attempt":1,"error":"Stuck job rescued by JobRescuer","trace":""}'::jsonb)
WHERE args->>'id' = 'evt_b' AND state = 'available'`)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	_, err = pool.Exec(ctx, "INSERT INTO "+riverkit.DefaultTable+" VALUES ('old'::bytea, 'x'::bytea, 1, true, now() - interval '1 hour')")
	require.NoError(t, err)

	assert.True(t, isDuplicate(post(ctx, r, "evt_b")), "before maintenance the discarded event is still a duplicate")
	m, err := q.Maintain(ctx)
	require.NoError(t, err)
	assert.Equal(t, riverkit.Maintenance{Expired: 1, Released: 1}, m)
	require.Len(t, dead, 1)
	assert.Equal(t, "evt_b", dead[0].ID)
	assert.Equal(t, 1, dead[0].Attempt)
	assert.ErrorContains(t, deadErr, "Stuck job rescued by JobRescuer")
	assert.EqualValues(t, 1, q.DeadLettered())

	m, err = q.Maintain(ctx)
	require.NoError(t, err)
	assert.Equal(t, riverkit.Maintenance{}, m, "a second run finds nothing left to do")
	assert.Len(t, dead, 1, "the hook runs once per dead letter")
	w := post(ctx, r, "evt_b")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.False(t, isDuplicate(w), "after maintenance the redelivery is taken in")
}

// TestAttemptTimeout: the handler's context is cancelled at the attempt
// timeout, the attempt counts as failed, and the next attempt runs.
func TestAttemptTimeout(t *testing.T) {
	pool := startDB(t)
	attempts := make(chan error, 4)
	q := newTestQueue(t, pool, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		if e.Attempt == 1 {
			<-ctx.Done()
			attempts <- ctx.Err()
			return ctx.Err()
		}
		attempts <- nil
		return nil
	}), riverkit.WithAttemptTimeout(200*time.Millisecond), riverkit.WithRescueAfter(time.Minute))
	require.NoError(t, q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "slow"}))
	assert.ErrorIs(t, waitFor(t, attempts, "attempt 1"), context.DeadlineExceeded)
	assert.NoError(t, waitFor(t, attempts, "attempt 2"))
}

// TestEnqueueAfterShutdown: both enqueue paths refuse with
// hookguard.ErrShuttingDown once Shutdown began.
func TestEnqueueAfterShutdown(t *testing.T) {
	pool := startDB(t)
	q := newTestQueue(t, pool, testkit.NewCounter())
	require.NoError(t, q.Shutdown(t.Context()))
	assert.ErrorIs(t, q.Enqueue(t.Context(), hookguard.Event{}), hookguard.ErrShuttingDown)
	_, err := q.EnqueueOnce(t.Context(), hookguard.Event{}, []string{"k"}, time.Minute)
	assert.ErrorIs(t, err, hookguard.ErrShuttingDown)
	assert.NoError(t, q.Shutdown(t.Context()), "a second Shutdown returns at once")
}

// TestExactlyOnceExample runs Example_exactlyOnce's receiver against a
// real server: a signed Stripe event, delivered twice, is recorded in the
// ledger once, and a tampered copy is refused.
func TestExactlyOnceExample(t *testing.T) {
	pool := startDB(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, "CREATE TABLE ledger (event_id text, charge text, amount bigint)")
	require.NoError(t, err)
	const secret = "whsec_example_only"
	recv, q, err := newPaymentsReceiver(ctx, pool, secret)
	require.NoError(t, err)
	stopAtEnd(t, q)

	stripe, err := providers.NewStripe(secret)
	require.NoError(t, err)
	body := []byte(`{"id":"evt_1PayMe","object":"event","type":"charge.succeeded","data":{"object":{"id":"ch_1","object":"charge","amount":4200}}}`)
	h, err := stripe.Sign(providers.Outgoing{Body: body})
	require.NoError(t, err)
	send := func(b []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhooks/stripe", bytes.NewReader(b))
		req.Header = h.Clone()
		return testkit.Serve(recv, req)
	}
	w := send(body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.False(t, isDuplicate(w))
	assert.True(t, isDuplicate(send(body)), "Stripe's retry of the same event is a duplicate")
	tampered := bytes.Replace(body, []byte("4200"), []byte("9999"), 1)
	assert.Equal(t, http.StatusUnauthorized, send(tampered).Code)

	require.Eventually(t, func() bool {
		var n int
		_ = pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'", riverkit.EventKind).Scan(&n)
		return n == 1
	}, 20*time.Second, 20*time.Millisecond)
	var rows, amount int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*), sum(amount) FROM ledger WHERE event_id = 'evt_1PayMe' AND charge = 'ch_1'").Scan(&rows, &amount))
	assert.EqualValues(t, 1, rows)
	assert.EqualValues(t, 4200, amount)
}

// kindCounter is River worker middleware, as rivercontrib/otelriver is:
// it counts the jobs it sees by kind.
type kindCounter struct {
	river.MiddlewareDefaults
	mu    sync.Mutex
	kinds map[string]int
}

func (m *kindCounter) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	m.mu.Lock()
	m.kinds[job.Kind]++
	m.mu.Unlock()
	return doInner(ctx)
}

// TestRiverMiddleware: middleware added with WithRiverConfig wraps the
// event worker, as a team adds otelriver to its River clients.
func TestRiverMiddleware(t *testing.T) {
	pool := startDB(t)
	mw := &kindCounter{kinds: map[string]int{}}
	cnt := testkit.NewCounter()
	q := newTestQueue(t, pool, cnt, riverkit.WithRiverConfig(func(c *river.Config) {
		c.Middleware = append(c.Middleware, mw)
	}))
	for i := range 3 {
		require.NoError(t, q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: fmt.Sprint("evt_", i)}))
	}
	cnt.WaitDistinct(t, 3, 20*time.Second)
	mw.mu.Lock()
	defer mw.mu.Unlock()
	assert.Equal(t, 3, mw.kinds[riverkit.EventKind])
}

// TestEnqueueOnceDuplicateKeepsNoKey: a delivery refused because one of
// its keys is seen (a replay under a fresh ID meets its content digest)
// records none of its other keys, whether it shares a transaction with
// accepted deliveries or not; the accepted ones are unaffected.
func TestEnqueueOnceDuplicateKeepsNoKey(t *testing.T) {
	pool := startDB(t)
	q := newTestQueue(t, pool, testkit.NewCounter())
	ctx := t.Context()
	st, err := q.EnqueueOnce(ctx, hookguard.Event{Provider: "test", ID: "a"}, []string{"id:a", "digest:d"}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, dedupe.Reserved, st)

	const n = 50
	var wg sync.WaitGroup
	results := make([][2]dedupe.Status, n)
	for i := range n {
		wg.Add(2)
		go func() { // a replay of a's content under a fresh ID
			defer wg.Done()
			st, err := q.EnqueueOnce(ctx, hookguard.Event{Provider: "test", ID: fmt.Sprint("b", i)}, []string{fmt.Sprint("id:b", i), "digest:d"}, time.Minute)
			assert.NoError(t, err)
			results[i][0] = st
		}()
		go func() { // a new event
			defer wg.Done()
			st, err := q.EnqueueOnce(ctx, hookguard.Event{Provider: "test", ID: fmt.Sprint("c", i)}, []string{fmt.Sprint("id:c", i), fmt.Sprint("digest:c", i)}, time.Minute)
			assert.NoError(t, err)
			results[i][1] = st
		}()
	}
	wg.Wait()
	for i, r := range results {
		assert.Equal(t, dedupe.Seen, r[0], "replay %d", i)
		assert.Equal(t, dedupe.Reserved, r[1], "new event %d", i)
	}
	var stray, kept int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE convert_from(key, 'UTF8') LIKE 'id:b%'").Scan(&stray))
	assert.Zero(t, stray, "a refused delivery's other keys must not be recorded")
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE convert_from(key, 'UTF8') LIKE 'id:c%' OR convert_from(key, 'UTF8') LIKE 'digest:c%'").Scan(&kept))
	assert.Equal(t, 2*n, kept)
	var jobs int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1", riverkit.EventKind).Scan(&jobs))
	assert.Equal(t, n+1, jobs)
}
