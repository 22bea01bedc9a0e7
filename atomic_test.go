package hookguard_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/verify"
)

// headerIDVerifier accepts every request and takes the ID from X-Id.
type headerIDVerifier struct{}

func (headerIDVerifier) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	return verify.Delivery{Provider: "p", ID: req.Header.Get("X-Id")}, nil
}

// fakeAtomic is an AtomicQueue over a map; status, when set, is what
// EnqueueOnce reports for keys it does not know.
type fakeAtomic struct {
	store    dedupe.Store
	mu       sync.Mutex
	seen     map[string]string
	once     int
	plain    int
	fail     error
	pending  bool
	lastKeys []string
}

func (q *fakeAtomic) Enqueue(context.Context, hookguard.Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.plain++
	return nil
}

func (q *fakeAtomic) SharesStore(s dedupe.Store) bool { return s == q.store }

func (q *fakeAtomic) EnqueueOnce(_ context.Context, _ hookguard.Event, keys []string, ttl time.Duration) (dedupe.Status, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.once++
	q.lastKeys = append([]string(nil), keys...)
	if q.fail != nil {
		return 0, q.fail
	}
	if q.pending {
		return dedupe.Pending, nil
	}
	for _, k := range keys {
		if _, ok := q.seen[k]; ok {
			return dedupe.Seen, nil
		}
	}
	if ttl != hookguard.DefaultDedupeTTL {
		return 0, errors.New("fakeAtomic: want the dedupe TTL")
	}
	for _, k := range keys {
		q.seen[k] = "seen"
	}
	return dedupe.Reserved, nil
}

func postID(h http.Handler, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString("{}"))
	req.Header.Set("X-Id", id)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAtomicQueuePath(t *testing.T) {
	store := testkit.NewMemory(t)
	q := &fakeAtomic{store: store, seen: map[string]string{}}
	r, err := hookguard.New(headerIDVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	if w := postID(r, "e1"); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
		t.Fatalf("first delivery = %d %q; want 200 accepted", w.Code, w.Body)
	}
	if len(q.lastKeys) != 1 || q.lastKeys[0] != "p::id:e1" {
		t.Fatalf("EnqueueOnce keys = %v; want [p::id:e1]", q.lastKeys)
	}
	if w := postID(r, "e1"); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "true" {
		t.Fatalf("second delivery = %d; want 200 duplicate", w.Code)
	}
	// The store itself was never touched: the queue did the reserving.
	if st, _ := store.Reserve(t.Context(), "p::id:e1", "probe", time.Minute); st != dedupe.Reserved {
		t.Fatalf("the receiver wrote the store (%v) although the queue reserves atomically", st)
	}
	q.pending = true
	if w := postID(r, "e2"); w.Code != http.StatusConflict || w.Header().Get("Retry-After") == "" {
		t.Fatalf("pending = %d; want 409 with Retry-After", w.Code)
	}
	q.pending, q.fail = false, errors.New("redis down")
	if w := postID(r, "e3"); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("queue failure = %d; want 503 with Retry-After (no local fallback on the atomic path)", w.Code)
	}
	if q.plain != 0 || q.once != 4 {
		t.Fatalf("Enqueue called %d times, EnqueueOnce %d; want 0 and 4", q.plain, q.once)
	}
}

func TestAtomicQueueOtherStoreUsesEnqueue(t *testing.T) {
	q := &fakeAtomic{store: testkit.NewMemory(t), seen: map[string]string{}}
	r, err := hookguard.New(headerIDVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(testkit.NewMemory(t)))
	if err != nil {
		t.Fatal(err)
	}
	if w := postID(r, "e1"); w.Code != http.StatusOK {
		t.Fatalf("delivery = %d", w.Code)
	}
	if w := postID(r, "e1"); w.Header().Get(hookguard.DuplicateHeader) != "true" {
		t.Fatalf("second delivery not a duplicate")
	}
	if q.plain != 1 || q.once != 0 {
		t.Fatalf("Enqueue called %d times, EnqueueOnce %d; want 1 and 0: the store is not the queue's", q.plain, q.once)
	}
}
