package rediskit_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// newTestStore returns rediskit.NewStore(rdb, opts...) and stops the test
// if it returns an error.
func newTestStore(tb testing.TB, rdb redis.UniversalClient, opts ...rediskit.StoreOption) *rediskit.Store {
	tb.Helper()
	s, err := rediskit.NewStore(rdb, opts...)
	if err != nil {
		tb.Fatalf("NewStore: %v", err)
	}
	return s
}

func TestStoreConformance(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	var n atomic.Int64
	dedupetest.Run(t, func(t *testing.T) dedupe.Store {
		// A fresh prefix per subtest: records never leak between them.
		return newTestStore(t, rdb, rediskit.WithPrefix("conformance:"+t.Name()+":"+string(rune('a'+n.Add(1)%26))+":"))
	}, dedupetest.WithShortTTL(100*time.Millisecond))
}

// TestStoreRecordsShape checks what Reserve and Commit leave in Redis: one
// key under the prefix, with the pending TTL, then the dedupe TTL.
func TestStoreRecordsShape(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	s := newTestStore(t, rdb, rediskit.WithPrefix("app:"))
	if st, err := s.Reserve(ctx, "stripe:evt_1", "tok", 5*time.Minute); err != nil || st != dedupe.Reserved {
		t.Fatalf("Reserve = %v, %v", st, err)
	}
	ttl, err := rdb.PTTL(ctx, "app:stripe:evt_1").Result()
	if err != nil || ttl <= 4*time.Minute || ttl > 5*time.Minute {
		t.Fatalf("PTTL after Reserve = %v, %v; want about 5m", ttl, err)
	}
	if err := s.Commit(ctx, "stripe:evt_1", "tok", 72*time.Hour); err != nil {
		t.Fatal(err)
	}
	ttl, _ = rdb.PTTL(ctx, "app:stripe:evt_1").Result()
	if ttl <= 71*time.Hour {
		t.Fatalf("PTTL after Commit = %v; want about 72h", ttl)
	}
	keys, _ := rdb.Keys(ctx, "*").Result()
	if len(keys) != 1 || keys[0] != "app:stripe:evt_1" {
		t.Fatalf("keys = %v; want only app:stripe:evt_1", keys)
	}
}

// dropProxy forwards TCP between clients and a Redis server. While armed,
// it forwards the next EVALSHA command to the server and, when the server
// replies, cuts the client's connection without passing the reply on: the
// write happened, but the client never heard about it. go-redis then
// retries the command on a new connection.
type dropProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	drops  atomic.Int32
	wg     sync.WaitGroup
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *dropProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *dropProxy) pipe(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	var dropNext atomic.Bool // set once an armed EVALSHA went to the server
	done := make(chan struct{})
	go func() { // client to server
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				s.Close()
				return
			}
			if bytes.Contains(bytes.ToLower(buf[:n]), []byte("evalsha")) && p.armed.CompareAndSwap(true, false) {
				dropNext.Store(true)
			}
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for { // server to client
		n, err := s.Read(buf)
		if err != nil {
			break
		}
		if dropNext.Load() {
			p.drops.Add(1)
			break // the server acted; the client gets a broken connection
		}
		if _, err := c.Write(buf[:n]); err != nil {
			break
		}
	}
	c.Close()
	s.Close()
	<-done
}

// TestStoreRetryOfOwnWrite: go-redis retries a command whose connection
// broke. When the lost reply belonged to a Reserve that did reserve the
// key, the retry finds the record it wrote and must say Reserved (the
// nonce in the value proves it is ours), not Pending.
func TestStoreRetryOfOwnWrite(t *testing.T) {
	srv := redistest.Start(t)
	p := newDropProxy(t, srv.Addr())
	// go-redis retries up to 3 times by default.
	rdb := redis.NewClient(&redis.Options{Addr: p.ln.Addr().String(), PoolSize: 1, MaxRetries: 3, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	ctx := t.Context()
	s := newTestStore(t, rdb)
	// Load the scripts first, so the armed drop hits the EVALSHA that
	// writes, not a NOSCRIPT round.
	if _, err := s.Reserve(ctx, "warm", "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	p.armed.Store(true)
	st, err := s.Reserve(ctx, "k", "mine", time.Minute)
	if p.drops.Load() != 1 {
		t.Fatalf("proxy dropped %d replies; want 1", p.drops.Load())
	}
	if err != nil || st != dedupe.Reserved {
		t.Fatalf("Reserve whose first reply was lost = %v, %v; want reserved (the retry found our own record)", st, err)
	}
	// It really is held by us: another token is pending, we can commit.
	if st, _ := s.Reserve(ctx, "k", "other", time.Minute); st != dedupe.Pending {
		t.Fatalf("Reserve by another token = %v; want pending", st)
	}
	if err := s.Commit(ctx, "k", "mine", time.Hour); err != nil {
		t.Fatalf("Commit by the owner = %v", err)
	}

	// Without go-redis retries the same loss is an error, never a wrong
	// "pending" or "reserved".
	rdb0 := redis.NewClient(&redis.Options{Addr: p.ln.Addr().String(), PoolSize: 1, MaxRetries: -1})
	t.Cleanup(func() { rdb0.Close() })
	s0 := newTestStore(t, rdb0)
	p.armed.Store(true)
	if st, err := s0.Reserve(ctx, "k2", "mine", time.Minute); err == nil {
		t.Fatalf("Reserve with a lost reply and no retries = %v, nil; want an error", st)
	}
}

func TestStoreUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(func(o *redis.Options) { o.MaxRetries = -1; o.DialTimeout = 200 * time.Millisecond })
	s := newTestStore(t, rdb)
	srv.Kill()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if _, err := s.Reserve(ctx, "k", "t", time.Minute); err == nil {
		t.Fatal("Reserve with Redis down = nil error")
	} else if errors.Is(err, dedupe.ErrEmptyKey) {
		t.Fatalf("wrong error %v", err)
	}
}

// TestEnqueueOnceRetryOfOwnWrite: the atomic script's reply is lost and
// go-redis retries it. The retry finds the records the first run wrote
// (their nonce is ours) and reports success, and the event is
// in the stream once, not twice.
func TestEnqueueOnceRetryOfOwnWrite(t *testing.T) {
	srv := redistest.Start(t)
	p := newDropProxy(t, srv.Addr())
	rdb := redis.NewClient(&redis.Options{Addr: p.ln.Addr().String(), MaxRetries: 3, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	cnt := testkit.NewCounter()
	q := newTestQueue(t, rdb, cnt)
	ctx := t.Context()
	ev := hookguard.Event{Provider: "test", ID: "evt_1", ReceivedAt: time.Now()}
	warm := hookguard.Event{Provider: "test", ID: "warm", ReceivedAt: time.Now()}
	if st, err := q.EnqueueOnce(ctx, warm, []string{"test:warm"}, time.Hour); err != nil || st != dedupe.Reserved {
		t.Fatalf("warm-up EnqueueOnce = %v, %v", st, err) // loads the script
	}
	p.armed.Store(true)
	st, err := q.EnqueueOnce(ctx, ev, []string{"test:evt_1"}, time.Hour)
	if p.drops.Load() != 1 {
		t.Fatalf("proxy dropped %d replies; want 1", p.drops.Load())
	}
	if err != nil || st != dedupe.Reserved {
		t.Fatalf("EnqueueOnce whose first reply was lost = %v, %v; want reserved", st, err)
	}
	if st, err := q.EnqueueOnce(ctx, ev, []string{"test:evt_1"}, time.Hour); err != nil || st != dedupe.Seen {
		t.Fatalf("EnqueueOnce by another delivery = %v, %v; want seen", st, err)
	}
	cnt.WaitDistinct(t, 2, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // a second copy would be handled by now
	if n := cnt.Snapshot()["evt_1"]; n != 1 {
		t.Fatalf("evt_1 handled %d times; want 1: the retry added the event again", n)
	}
}
