package hookguard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretHeaderSlow is the plain definition secretHeader's one-pass scan
// must agree with.
func secretHeaderSlow(k string) bool {
	if strings.EqualFold(k, "Cookie") || strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Proxy-Authorization") {
		return true
	}
	for _, w := range []string{"signature", "hmac", "token", "secret", "verification"} {
		if containsFold(k, w) {
			return true
		}
	}
	return false
}

func TestSecretHeaderMatchesDefinition(t *testing.T) {
	for _, k := range []string{
		"", "s", "S", "Sig", "Signature", "x-signaturE", "X-Secre", "X-Secret", "Hmac", "hma", "X-Hmac-Sha256",
		"Token", "tokeN-x", "Toke", "Plaid-Verification", "Verificatio", "Cookie", "Cookies", "cookie",
		"Authorization", "X-Authorization", "Proxy-Authorization", "proxy-authorization", "Content-Type",
		"X-Slack-Request-Timestamp", "Webhook-Id", "ssignature", "hhmac", "ttoken", "vverification",
	} {
		assert.Equal(t, secretHeaderSlow(k), secretHeader(k), "secretHeader(%q) against the definition", k)
	}
}

func FuzzSecretHeader(f *testing.F) {
	for _, k := range []string{"Stripe-Signature", "X-Gitlab-Token", "Content-Type", "proxy-authorization", "X-Hmac"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		require.Equal(t, secretHeaderSlow(k), secretHeader(k), "secretHeader(%q) against the definition", k)
	})
}

// TestBatchTokens checks the batched tokens of the in-memory store: the
// receiver's prefix, a fixed width, no repeats across batches and from
// many goroutines at once, and the top of the counter.
func TestBatchTokens(t *testing.T) {
	c := &core{tokenPrefix: "0123456789abcdef-", batchTokens: true}
	const goroutines, each = 8, 1000
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			toks := make([]string, each)
			for i := range toks {
				toks[i] = c.token()
			}
			mu.Lock()
			defer mu.Unlock()
			// assert, not require: this is not the test's goroutine.
			for _, tok := range toks {
				if !assert.True(t, strings.HasPrefix(tok, c.tokenPrefix), "token %q lacks the prefix %q", tok, c.tokenPrefix) ||
					!assert.Len(t, tok, len(c.tokenPrefix)+tokenDigits, "token %q lacks 13 digits", tok) ||
					!assert.False(t, seen[tok], "token %q issued twice", tok) {
					return
				}
				seen[tok] = true
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, goroutines*each, "distinct tokens")
	last := strconv.FormatUint(goroutines*each, 36) // the counter starts at 1
	require.Contains(t, seen, c.tokenPrefix+strings.Repeat("0", tokenDigits-len(last))+last, "counter value %d (%s) was not issued", goroutines*each, last)
	c.seq.Store(^uint64(0) - 1)
	require.Equal(t, c.tokenPrefix+"3w5e11264sgsf", c.token(), "token at the top of the counter")
}

// TestWriteAcceptedOverHTTP pins the 200 ack as a client sees it through
// a real server: status 200, an empty body with Content-Length 0, and no
// header a sender's text would need (nosniff, Content-Type).
func TestWriteAcceptedOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeAccepted(w) }))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "writeAccepted: status")
	require.Empty(t, b, "writeAccepted: body")
	require.Zero(t, res.ContentLength, "writeAccepted: Content-Length")
	for _, h := range []string{"X-Content-Type-Options", "Content-Type"} {
		require.Empty(t, res.Header.Get(h), "writeAccepted set %s", h)
	}
	rec := httptest.NewRecorder()
	writeAccepted(rec)
	require.Equal(t, http.StatusOK, rec.Code, "through a recorder: status")
	require.Zero(t, rec.Body.Len(), "through a recorder: body %q", rec.Body)
	require.Empty(t, rec.Header(), "through a recorder: header")
}

// newTestWorker returns a worker of a queue that is not running, for
// driving attempt contexts by hand.
func newTestWorker() (*worker, context.CancelFunc) {
	q := &MemoryQueue{}
	q.life, q.stop = context.WithCancel(context.Background())
	w := &worker{q: q}
	q.workers = []*worker{w}
	return w, q.stop
}

// TestAttemptCtx checks the attempt context against what
// context.WithTimeout gave handlers before: a deadline, Done closing at
// it, Err without Done, derived contexts, cancellation when the attempt
// ends and when the queue stops.
func TestAttemptCtx(t *testing.T) {
	t.Run("deadline closes Done", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, 20*time.Millisecond)
		dl, ok := c.Deadline()
		require.True(t, ok, "Deadline reports none")
		require.LessOrEqual(t, time.Until(dl), 20*time.Millisecond, "Deadline = %v", dl)
		require.NoError(t, c.Err(), "Err before the deadline")
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			require.Fail(t, "Done not closed at the deadline")
		}
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded)
		w.end(c)
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded, "Err after end: want it to stay DeadlineExceeded")
	})
	t.Run("Err without Done", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded, "Err past the deadline")
		select {
		case <-c.Done():
		default:
			require.Fail(t, "Done open after Err reported the deadline")
		}
		w.end(c)
	})
	t.Run("derived contexts", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, 30*time.Millisecond)
		child, cancel := context.WithCancel(c)
		defer cancel()
		ran := make(chan struct{})
		context.AfterFunc(c, func() { close(ran) })
		stopped := make(chan struct{})
		stopF := context.AfterFunc(c, func() { close(stopped) })
		require.True(t, stopF(), "stop of a pending AfterFunc")
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			require.Fail(t, "child not cancelled at the attempt's deadline")
		}
		require.ErrorIs(t, child.Err(), context.DeadlineExceeded, "child Err")
		<-ran
		select {
		case <-stopped:
			require.Fail(t, "a stopped AfterFunc ran")
		case <-time.After(10 * time.Millisecond):
		}
		w.end(c)
	})
	t.Run("end cancels a kept context", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, time.Hour)
		done := c.Done()
		w.end(c)
		<-done
		require.ErrorIs(t, c.Err(), context.Canceled, "Err after the attempt")
		// The next attempt on the worker does not revive it.
		next := new(attemptCtx)
		w.begin(next, time.Hour)
		require.NoError(t, next.Err(), "next attempt Err")
		require.Error(t, c.Err(), "kept Err")
		w.end(next)
		// AfterFunc on an ended attempt runs at once.
		ran := make(chan struct{})
		context.AfterFunc(c, func() { close(ran) })
		<-ran
	})
	t.Run("stale timer leaves the next attempt alone", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, 5*time.Millisecond)
		_ = c.Done() // arms the worker's timer
		w.end(c)
		next := new(attemptCtx)
		w.begin(next, time.Hour)
		w.arm(time.Millisecond) // a fire meant for c
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, next.Err(), "next attempt cancelled by an old deadline")
		w.end(next)
	})
	t.Run("queue stop cancels the running attempt", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, time.Hour)
		done := c.Done()
		w.q.stopAttempts()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			require.Fail(t, "attempt not cancelled by stopAttempts")
		}
		require.ErrorIs(t, c.Err(), context.Canceled)
		w.end(c)
		// An attempt begun after the stop starts cancelled.
		late := new(attemptCtx)
		w.begin(late, time.Hour)
		require.ErrorIs(t, late.Err(), context.Canceled, "attempt begun after stop")
		w.end(late)
	})
}

// TestRetryGetsFreshContext checks that a retry's context is live while
// the first attempt's, kept by the handler, stays cancelled.
func TestRetryGetsFreshContext(t *testing.T) {
	var kept []context.Context
	var mu sync.Mutex
	done := make(chan error, 1)
	q := mustMemoryQueue(t, HandlerFunc(func(ctx context.Context, e Event) error {
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, ctx)
		if e.Attempt == 1 {
			return errors.New("try again")
		}
		err := ctx.Err()
		if kept[0].Err() == nil {
			err = errors.New("first attempt's context still live during the retry")
		}
		done <- err
		return nil
	}), WithBackoff(time.Millisecond, time.Millisecond), WithWorkers(1))
	defer q.Shutdown(context.Background())
	require.NoError(t, q.Enqueue(context.Background(), Event{ID: "1"}))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		require.Fail(t, "no retry")
	}
	mu.Lock()
	defer mu.Unlock()
	require.False(t, kept[0] == kept[1], "the retry reused the first attempt's context")
}

// urlVerifier records the URL it was given and accepts every request.
type urlVerifier struct {
	reads *bool // nil: does not implement URLReader's answer
	got   chan string
}

func (v urlVerifier) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	v.got <- req.URL
	return verify.Delivery{Provider: "test"}, nil
}

type urlReaderVerifier struct{ urlVerifier }

func (v urlReaderVerifier) ReadsURL() bool { return *v.reads }

// TestURLReader checks that the URL is built unless the verifier says it
// never reads it.
func TestURLReader(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name string
		v    Verifier
		want string
	}{
		{"no URLReader", urlVerifier{got: make(chan string, 1)}, "https://hooks.example.com/in?x=1"},
		{"ReadsURL true", urlReaderVerifier{urlVerifier{reads: &yes, got: make(chan string, 1)}}, "https://hooks.example.com/in?x=1"},
		{"ReadsURL false", urlReaderVerifier{urlVerifier{reads: &no, got: make(chan string, 1)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ch chan string
			switch v := tt.v.(type) {
			case urlVerifier:
				ch = v.got
			case urlReaderVerifier:
				ch = v.got
			}
			mw := mustMiddleware(t, tt.v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			req := httptest.NewRequest(http.MethodPost, "https://hooks.example.com/in?x=1", strings.NewReader("{}"))
			mw.ServeHTTP(httptest.NewRecorder(), req)
			require.Equal(t, tt.want, <-ch, "URL the verifier got")
		})
	}
}

// TestMiddlewareContext checks the middleware's one-allocation request
// context: the Event reaches contexts derived from it, other values and
// the request's cancellation pass through, and the body reads again.
func TestMiddlewareContext(t *testing.T) {
	type otherKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "kept"))
	v := urlVerifier{got: make(chan string, 1)}
	var got Event
	var gotOK bool
	var cancelled, other bool
	var body string
	mw := mustMiddleware(t, v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		child, stop := context.WithTimeout(r.Context(), time.Hour)
		defer stop()
		got, gotOK = FromContext(child)
		other = child.Value(otherKey{}) == "kept"
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		_ = r.Body.Close()
		cancel()
		select {
		case <-child.Done():
			cancelled = errors.Is(child.Err(), context.Canceled)
		case <-time.After(5 * time.Second):
		}
	}))
	req := httptest.NewRequestWithContext(parent, http.MethodPost, "https://hooks.example.com/in", strings.NewReader(`{"a":1}`))
	mw.ServeHTTP(httptest.NewRecorder(), req)
	<-v.got
	require.True(t, gotOK, "FromContext found no Event")
	require.Equal(t, "test", got.Provider, "FromContext = %+v", got)
	require.Equal(t, `{"a":1}`, string(got.Body), "FromContext = %+v", got)
	require.True(t, other, "other context value lost")
	require.True(t, cancelled, "request cancellation did not pass through")
	require.Equal(t, `{"a":1}`, body, "body read again")
	_, ok := FromContext(context.Background())
	require.False(t, ok, "FromContext found an Event in a bare context")
}

// TestMemoryAtomicPath pins when the receiver records and enqueues in one
// step (dedupe.Memory.Once): only an in-memory store with a MemoryQueue
// that never waits for room, since Once holds the keys' shards while the
// queue takes the event.
func TestMemoryAtomicPath(t *testing.T) {
	noop := HandlerFunc(func(context.Context, Event) error { return nil })
	v := verifierFunc(func(verify.Request, time.Time) (verify.Delivery, error) { return verify.Delivery{}, nil })
	userQueue := mustMemoryQueue(t, noop)
	defer func() { _ = userQueue.Shutdown(context.Background()) }()
	tests := []struct {
		name   string
		h      Handler
		opts   []Option
		atomic bool
	}{
		{"defaults", noop, nil, true},
		{"a given in-memory store", noop, []Option{WithStore(mustMemory(t))}, true},
		{"a given MemoryQueue", nil, []Option{WithQueue(userQueue)}, true},
		{"a queue that waits for room", noop, []Option{WithEnqueueTimeout(time.Second)}, false},
		{"another store", noop, []Option{WithStore(storeOnly{mustMemory(t)})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(v, tt.h, tt.opts...)
			require.NoError(t, err)
			defer func() { _ = r.Shutdown(context.Background()) }()
			require.Equal(t, tt.atomic, r.c.mem != nil, "in-memory atomic path")
			require.Equal(t, tt.atomic, r.c.once != nil, "atomic path")
		})
	}
}

// storeOnly hides a Memory behind the Store interface, as a user's own
// store would look to the receiver.
type storeOnly struct{ dedupe.Store }

type verifierFunc func(verify.Request, time.Time) (verify.Delivery, error)

func (f verifierFunc) Verify(r verify.Request, now time.Time) (verify.Delivery, error) {
	return f(r, now)
}
