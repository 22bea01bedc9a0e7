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
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	w := postID(r, "e1")
	require.Equal(t, http.StatusOK, w.Code, "first delivery: body %q", w.Body)
	require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "first delivery: want 200 accepted")
	require.Equal(t, []string{"p::id:e1"}, q.lastKeys, "EnqueueOnce keys")
	w = postID(r, "e1")
	require.Equal(t, http.StatusOK, w.Code, "second delivery")
	require.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "second delivery: want 200 duplicate")
	// The store itself was never touched: the queue did the reserving.
	st, _ := store.Reserve(t.Context(), "p::id:e1", "probe", time.Minute)
	require.Equal(t, dedupe.Reserved, st, "the receiver wrote the store although the queue reserves atomically")
	q.pending = true
	w = postID(r, "e2")
	require.Equal(t, http.StatusConflict, w.Code, "pending")
	require.NotEmpty(t, w.Header().Get("Retry-After"), "pending: want 409 with Retry-After")
	q.pending, q.fail = false, errors.New("redis down")
	w = postID(r, "e3")
	require.Equal(t, http.StatusServiceUnavailable, w.Code, "queue failure: no local fallback on the atomic path")
	require.NotEmpty(t, w.Header().Get("Retry-After"), "queue failure: want 503 with Retry-After")
	require.Zero(t, q.plain, "Enqueue calls")
	require.Equal(t, 4, q.once, "EnqueueOnce calls")
}

func TestAtomicQueueOtherStoreUsesEnqueue(t *testing.T) {
	q := &fakeAtomic{store: testkit.NewMemory(t), seen: map[string]string{}}
	r, err := hookguard.New(headerIDVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(testkit.NewMemory(t)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, postID(r, "e1").Code, "delivery")
	require.Equal(t, "true", postID(r, "e1").Header().Get(hookguard.DuplicateHeader), "second delivery not a duplicate")
	require.Equal(t, 1, q.plain, "Enqueue calls: the store is not the queue's")
	require.Zero(t, q.once, "EnqueueOnce calls: the store is not the queue's")
}
