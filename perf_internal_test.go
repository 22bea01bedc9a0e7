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
		if got, want := secretHeader(k), secretHeaderSlow(k); got != want {
			t.Errorf("secretHeader(%q) = %v; the definition says %v", k, got, want)
		}
	}
}

func FuzzSecretHeader(f *testing.F) {
	for _, k := range []string{"Stripe-Signature", "X-Gitlab-Token", "Content-Type", "proxy-authorization", "X-Hmac"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := secretHeader(k), secretHeaderSlow(k); got != want {
			t.Fatalf("secretHeader(%q) = %v; the definition says %v", k, got, want)
		}
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
			for _, tok := range toks {
				if !strings.HasPrefix(tok, c.tokenPrefix) || len(tok) != len(c.tokenPrefix)+tokenDigits {
					t.Errorf("token %q lacks the prefix %q or 13 digits", tok, c.tokenPrefix)
					return
				}
				if seen[tok] {
					t.Errorf("token %q issued twice", tok)
					return
				}
				seen[tok] = true
			}
		})
	}
	wg.Wait()
	if len(seen) != goroutines*each {
		t.Fatalf("%d distinct tokens; want %d", len(seen), goroutines*each)
	}
	last := strconv.FormatUint(goroutines*each, 36) // the counter starts at 1
	if !seen[c.tokenPrefix+strings.Repeat("0", tokenDigits-len(last))+last] {
		t.Fatalf("counter value %d (%s) was not issued", goroutines*each, last)
	}
	c.seq.Store(^uint64(0) - 1)
	if tok := c.token(); tok != c.tokenPrefix+"3w5e11264sgsf" {
		t.Fatalf("token at the top of the counter = %q", tok)
	}
}

// TestWriteAcceptedOverHTTP pins the 200 ack as a client sees it through
// a real server: status 200, an empty body with Content-Length 0, and no
// header a sender's text would need (nosniff, Content-Type).
func TestWriteAcceptedOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeAccepted(w) }))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || len(b) != 0 || res.ContentLength != 0 {
		t.Fatalf("writeAccepted: status %d, body %q, Content-Length %d; want 200, empty, 0", res.StatusCode, b, res.ContentLength)
	}
	for _, h := range []string{"X-Content-Type-Options", "Content-Type"} {
		if got := res.Header.Get(h); got != "" {
			t.Fatalf("writeAccepted set %s %q; want none", h, got)
		}
	}
	rec := httptest.NewRecorder()
	writeAccepted(rec)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Fatalf("through a recorder: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
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
		if dl, ok := c.Deadline(); !ok || time.Until(dl) > 20*time.Millisecond {
			t.Fatalf("Deadline = %v, %v", dl, ok)
		}
		if c.Err() != nil {
			t.Fatalf("Err before the deadline = %v", c.Err())
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed at the deadline")
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err = %v; want DeadlineExceeded", c.Err())
		}
		w.end(c)
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err after end = %v; want it to stay DeadlineExceeded", c.Err())
		}
	})
	t.Run("Err without Done", func(t *testing.T) {
		w, stop := newTestWorker()
		defer stop()
		c := new(attemptCtx)
		w.begin(c, time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err past the deadline = %v; want DeadlineExceeded", c.Err())
		}
		select {
		case <-c.Done():
		default:
			t.Fatal("Done open after Err reported the deadline")
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
		if !stopF() {
			t.Fatal("stop of a pending AfterFunc = false")
		}
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("child not cancelled at the attempt's deadline")
		}
		if !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("child Err = %v", child.Err())
		}
		<-ran
		select {
		case <-stopped:
			t.Fatal("a stopped AfterFunc ran")
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
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err after the attempt = %v; want Canceled", c.Err())
		}
		// The next attempt on the worker does not revive it.
		next := new(attemptCtx)
		w.begin(next, time.Hour)
		if next.Err() != nil || c.Err() == nil {
			t.Fatalf("next attempt Err = %v, kept Err = %v", next.Err(), c.Err())
		}
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
		if next.Err() != nil {
			t.Fatalf("next attempt cancelled by an old deadline: %v", next.Err())
		}
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
			t.Fatal("attempt not cancelled by stopAttempts")
		}
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err = %v; want Canceled", c.Err())
		}
		w.end(c)
		// An attempt begun after the stop starts cancelled.
		late := new(attemptCtx)
		w.begin(late, time.Hour)
		if !errors.Is(late.Err(), context.Canceled) {
			t.Fatalf("attempt begun after stop: Err = %v", late.Err())
		}
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
	if err := q.Enqueue(context.Background(), Event{ID: "1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no retry")
	}
	mu.Lock()
	defer mu.Unlock()
	if kept[0] == kept[1] {
		t.Fatal("the retry reused the first attempt's context")
	}
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
			if u := <-ch; u != tt.want {
				t.Fatalf("verifier got URL %q; want %q", u, tt.want)
			}
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
	if !gotOK || got.Provider != "test" || string(got.Body) != `{"a":1}` {
		t.Fatalf("FromContext = %+v, %v", got, gotOK)
	}
	if !other || !cancelled || body != `{"a":1}` {
		t.Fatalf("other value %v, cancellation %v, body %q", other, cancelled, body)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("FromContext found an Event in a bare context")
	}
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
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Shutdown(context.Background()) }()
			if got := r.c.mem != nil; got != tt.atomic {
				t.Fatalf("in-memory atomic path = %v; want %v", got, tt.atomic)
			}
			if got := r.c.once != nil; got != tt.atomic {
				t.Fatalf("atomic path = %v; want %v", got, tt.atomic)
			}
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
