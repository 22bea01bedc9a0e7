package testkit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
	"github.com/hookguard/hookguard/internal/testkit"
)

var _ hookguard.Handler = (*testkit.Counter)(nil)
var _ dedupe.Store = (*testkit.FlakyStore)(nil)

func TestCounterCounts(t *testing.T) {
	c := testkit.NewCounter()
	ctx := context.Background()
	for _, id := range []string{"a", "b", "a", "c", "a"} {
		if err := c.HandleEvent(ctx, hookguard.Event{ID: id}); err != nil {
			t.Fatalf("HandleEvent(%q) = %v", id, err)
		}
	}
	if got := c.Times("a"); got != 3 {
		t.Errorf("Times(a) = %d, want 3", got)
	}
	if got := c.Times("zz"); got != 0 {
		t.Errorf("Times(zz) = %d, want 0", got)
	}
	if got := c.Total(); got != 5 {
		t.Errorf("Total() = %d, want 5", got)
	}
	if got := c.Distinct(); got != 3 {
		t.Errorf("Distinct() = %d, want 3", got)
	}
	snap := c.Snapshot()
	if want := map[string]int{"a": 3, "b": 1, "c": 1}; fmt.Sprint(snap) != fmt.Sprint(want) {
		t.Errorf("Snapshot() = %v, want %v", snap, want)
	}
	snap["a"] = 100 // a copy: changing it must not change the counter
	if got := c.Times("a"); got != 3 {
		t.Errorf("after editing the snapshot, Times(a) = %d, want 3", got)
	}
}

func TestCounterFn(t *testing.T) {
	errBoom := errors.New("boom")
	c := testkit.NewCounter()
	var seen []string
	c.Fn = func(_ context.Context, e hookguard.Event) error {
		seen = append(seen, e.ID)
		if e.ID == "bad" {
			return errBoom
		}
		return nil
	}
	ctx := context.Background()
	if err := c.HandleEvent(ctx, hookguard.Event{ID: "bad"}); !errors.Is(err, errBoom) {
		t.Errorf("HandleEvent(bad) = %v, want %v", err, errBoom)
	}
	if err := c.HandleEvent(ctx, hookguard.Event{ID: "good"}); err != nil {
		t.Errorf("HandleEvent(good) = %v, want nil", err)
	}
	if fmt.Sprint(seen) != "[bad good]" {
		t.Errorf("Fn saw %v, want [bad good]", seen)
	}
	if c.Times("bad") != 0 || c.Times("good") != 1 || c.Total() != 1 {
		t.Errorf("counts bad=%d good=%d total=%d, want 0, 1, 1", c.Times("bad"), c.Times("good"), c.Total())
	}
}

// TestCounterConcurrent is meant for -race: many goroutines count and
// read at once, and no count is lost.
func TestCounterConcurrent(t *testing.T) {
	const goroutines, each = 8, 200
	c := testkit.NewCounter()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				_ = c.HandleEvent(context.Background(), hookguard.Event{ID: fmt.Sprint(i % 10)})
				if i%50 == 0 {
					_ = c.Snapshot()
					_ = c.Distinct()
					_ = c.Times(fmt.Sprint(g))
				}
			}
		})
	}
	wg.Wait()
	if got := c.Total(); got != goroutines*each {
		t.Errorf("Total() = %d, want %d", got, goroutines*each)
	}
	for id, n := range c.Snapshot() {
		if n != goroutines*each/10 {
			t.Errorf("Times(%s) = %d, want %d", id, n, goroutines*each/10)
		}
	}
}

func TestCounterWaitDistinct(t *testing.T) {
	c := testkit.NewCounter()
	go func() {
		for i := range 3 {
			time.Sleep(5 * time.Millisecond)
			_ = c.HandleEvent(context.Background(), hookguard.Event{ID: fmt.Sprint(i)})
		}
	}()
	c.WaitDistinct(t, 3, 10*time.Second)
	if got := c.Distinct(); got < 3 {
		t.Errorf("WaitDistinct returned with Distinct() = %d, want 3", got)
	}
}

// fatalTB records a Fatalf and stops its goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (*fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestCounterWaitDistinctTimesOut(t *testing.T) {
	c := testkit.NewCounter()
	_ = c.HandleEvent(context.Background(), hookguard.Event{ID: "only"})
	ft := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.WaitDistinct(ft, 2, 30*time.Millisecond)
	}()
	<-done
	if want := "after 30ms only 1 of 2 events were handled"; ft.msg != want {
		t.Errorf("failure message %q, want %q", ft.msg, want)
	}
}

// TestFlakyStoreConformance: while up, a FlakyStore is a whole dedupe
// store, so tests that use it exercise the real contract.
func TestFlakyStoreConformance(t *testing.T) {
	var nanos atomic.Int64 // the stores' clock, moved by the kit
	nanos.Store(time.Unix(1700000000, 0).UnixNano())
	now := func() time.Time { return time.Unix(0, nanos.Load()) }
	dedupetest.Run(t, func(t *testing.T) dedupe.Store {
		return &testkit.FlakyStore{Memory: testkit.NewMemory(t, dedupe.WithClock(now))}
	}, dedupetest.WithAdvance(func(d time.Duration) { nanos.Add(int64(d)) }))
}

func TestFlakyStoreDown(t *testing.T) {
	errCustom := errors.New("store: dial tcp: refused")
	for _, tt := range []struct {
		name string
		err  error // FlakyStore.Err
		want error
	}{
		{"default error", nil, testkit.ErrStoreDown},
		{"custom error", errCustom, errCustom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := testkit.NewFlakyStore()
			s.Err = tt.err
			if st, err := s.Reserve(ctx, "k1", "tok", time.Minute); err != nil || st != dedupe.Reserved {
				t.Fatalf("Reserve while up = %v, %v; want %v", st, err, dedupe.Reserved)
			}
			s.Down.Store(true)
			if _, err := s.Reserve(ctx, "k2", "tok", time.Minute); !errors.Is(err, tt.want) {
				t.Errorf("Reserve while down = %v, want %v", err, tt.want)
			}
			if err := s.Commit(ctx, "k1", "tok", time.Minute); !errors.Is(err, tt.want) {
				t.Errorf("Commit while down = %v, want %v", err, tt.want)
			}
			if err := s.Release(ctx, "k1", "tok"); !errors.Is(err, tt.want) {
				t.Errorf("Release while down = %v, want %v", err, tt.want)
			}
			if r, c := s.Reserves.Load(), s.Commits.Load(); r != 1 || c != 0 {
				t.Errorf("while down, calls reached the store: %d reserves, %d commits; want 1, 0", r, c)
			}
			s.Down.Store(false)
			if err := s.Commit(ctx, "k1", "tok", time.Minute); err != nil {
				t.Fatalf("Commit once up again = %v", err)
			}
			if st, err := s.Reserve(ctx, "k1", "other", time.Minute); err != nil || st != dedupe.Seen {
				t.Errorf("Reserve of a committed key = %v, %v; want %v", st, err, dedupe.Seen)
			}
			if r, c := s.Reserves.Load(), s.Commits.Load(); r != 2 || c != 1 {
				t.Errorf("%d reserves, %d commits; want 2, 1", r, c)
			}
		})
	}
}

func TestServe(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	})
	w := testkit.Serve(h, httptest.NewRequest(http.MethodPut, "/x", nil))
	if w.Code != http.StatusTeapot || w.Header().Get("X-Method") != http.MethodPut || w.Body.String() != "short and stout" {
		t.Errorf("Serve recorded %d %q %q; want 418 PUT \"short and stout\"", w.Code, w.Header().Get("X-Method"), w.Body.String())
	}
}

func TestNewPost(t *testing.T) {
	header := http.Header{"X-Signature": {"v1=abc", "v1=def"}}
	r := testkit.NewPost("/hook", []byte(`{"id":"evt_1"}`), header)
	if r.Method != http.MethodPost || r.URL.Path != "/hook" || r.Host != "example.com" {
		t.Errorf("request %s %s host %q; want POST /hook host example.com", r.Method, r.URL.Path, r.Host)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || string(body) != `{"id":"evt_1"}` {
		t.Errorf("body %q, %v; want the bytes given", body, err)
	}
	if got := r.Header.Values("X-Signature"); fmt.Sprint(got) != "[v1=abc v1=def]" {
		t.Errorf("X-Signature = %v, want [v1=abc v1=def]", got)
	}
	r.Header["X-Signature"][0] = "changed"
	r.Header.Add("X-Signature", "v1=ghi")
	if got := header.Values("X-Signature"); fmt.Sprint(got) != "[v1=abc v1=def]" {
		t.Errorf("changing the request's header changed the caller's: %v", got)
	}
}

// TestClock: the clock reads what it was set to, moves by Advance and
// Set, and may be read while it moves (checked under -race).
func TestClock(t *testing.T) {
	t0 := time.Unix(1700000000, 5)
	c := testkit.NewClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now() = %v, want %v", got, t0)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			_ = c.Now()
		}
	}()
	c.Advance(90 * time.Second)
	<-done
	if got, want := c.Now(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance, Now() = %v, want %v", got, want)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("after Set, Now() = %v, want %v", got, t0)
	}
}
