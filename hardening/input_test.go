package hardening

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// TestRawBodyFidelity is plan test 13: the handler (queue) and the next
// handler (middleware) get exactly the bytes that were signed and sent;
// a JSON-decoding middleware in front of hookguard, or a re-encoded body,
// fails closed.
func TestRawBodyFidelity(t *testing.T) {
	secret, _ := testsecret.For("github")
	p, _ := providers.NewGitHub(secret)
	rng := mrand.New(mrand.NewPCG(13, 13))

	t.Run("receiver", func(t *testing.T) {
		var mu sync.Mutex
		got := map[string][32]byte{}
		h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
			mu.Lock()
			got[e.ID] = sha256.Sum256(e.Body)
			mu.Unlock()
			return nil
		})
		recv := newReceiver(t, p, h)
		srv := httptest.NewServer(recv)
		defer srv.Close()
		want := map[string][32]byte{}
		for i := range 200 {
			body := randomBody(rng)
			id := fmt.Sprintf("raw-%d", i)
			want[id] = sha256.Sum256(body)
			resp := sign(t, p, id, body, t0).post(t, srv.Client(), srv.URL)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s (%d bytes): status %d", id, len(body), resp.StatusCode)
			}
		}
		waitFor(t, 10*time.Second, "every body handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == len(want) })
		mu.Lock()
		defer mu.Unlock()
		for id, sum := range want {
			if got[id] != sum {
				t.Errorf("%s: handler's body differs from the bytes sent", id)
			}
		}
	})

	t.Run("middleware", func(t *testing.T) {
		var bad atomic.Int64
		var sent []byte
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil || !bytes.Equal(b, sent) {
				bad.Add(1)
			}
			e, ok := hookguard.FromContext(r.Context())
			if !ok || !bytes.Equal(e.Body, sent) {
				bad.Add(1)
			}
		})
		mw := testkit.Middleware(t, p)(next)
		for i := range 50 {
			sent = randomBody(rng)
			if w := testkit.Serve(mw, sign(t, p, fmt.Sprintf("mw-%d", i), sent, t0).request()); w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
		}
		if bad.Load() != 0 {
			t.Errorf("%d bodies reached next altered", bad.Load())
		}
	})

	t.Run("re-encoded JSON fails closed", func(t *testing.T) {
		h := testkit.NewCounter()
		recv := newReceiver(t, p, h)
		body := []byte("{ \"b\": 1,\n  \"a\": [1, 2.50, \"\\u00e9\"] }")
		// A body-parsing middleware in front: decodes JSON and hands
		// on its re-encoding (stripe/stripe-node#341 and #1254).
		reencode := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var v any
				if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
					http.Error(w, "bad json", http.StatusBadRequest)
					return
				}
				b, _ := json.Marshal(v)
				r.Body = io.NopCloser(bytes.NewReader(b))
				r.ContentLength = int64(len(b))
				next.ServeHTTP(w, r)
			})
		}
		if w := testkit.Serve(reencode(recv), sign(t, p, "json-1", body, t0).request()); w.Code != http.StatusUnauthorized {
			t.Errorf("re-encoded body: status %d, want 401", w.Code)
		}
		// A middleware that drained the body and left it empty.
		drain := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				next.ServeHTTP(w, r)
			})
		}
		if w := testkit.Serve(drain(recv), sign(t, p, "json-2", body, t0).request()); w.Code != http.StatusBadRequest && w.Code != http.StatusUnauthorized {
			t.Errorf("drained body: status %d, want 400 or 401", w.Code)
		}
		time.Sleep(20 * time.Millisecond)
		if n := h.Total(); n != 0 {
			t.Errorf("handler ran %d times for bodies that were not the signed bytes", n)
		}
	})
}

// countingListener counts the bytes the server reads from every
// connection it accepts.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// settled returns what the server has read once it has read nothing more
// for 200 ms (at most 10 s).
func settled(cl *countingListener) int64 {
	last := cl.read.Load()
	for range 50 {
		time.Sleep(200 * time.Millisecond)
		n := cl.read.Load()
		if n == last {
			return n
		}
		last = n
	}
	return last
}

// newCountingServer starts srv's handler on a loopback listener that
// counts what the server reads. The server gets the recommended settings.
func newCountingServer(t *testing.T, h http.Handler) (*countingListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := recommendedServer(h)
	go func() { _ = srv.Serve(cl) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	})
	return cl, ln.Addr().String()
}

// recommendedServer is the http.Server configuration the README
// recommends for a webhook endpoint.
func recommendedServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// rawPost writes a request head and then up to n bytes of body from src,
// without waiting for the server, and returns the status line the server
// answered (or "" if it closed first).
func rawPost(t *testing.T, addr, head string, src io.Reader) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		_, _ = io.Copy(c, src) // fails once the server closes: expected
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	})
	line, _ := bufio.NewReader(c).ReadString('\n')
	_ = c.SetDeadline(time.Now()) // unblock the writer
	wg.Wait()
	return strings.TrimSpace(line)
}

// TestOversizedBody is plan test 14 over real sockets: with a 1 MiB limit,
// a 10 MiB body with an honest Content-Length, or chunked, is answered 413
// and the server reads at most the limit plus 64 KiB from the socket; a
// lying Content-Length of 100 is read no further; exactly 1 MiB passes and
// 1 MiB + 1 byte does not; 100 concurrent chunked 10 MiB uploads raise the
// heap by a bounded amount and leave no goroutine behind.
func TestOversizedBody(t *testing.T) {
	const limit = 1 << 20
	const big = 10 << 20
	secret, _ := testsecret.For("github")
	p, _ := providers.NewGitHub(secret)
	h := testkit.NewCounter()
	recv := newReceiver(t, p, h, hookguard.WithMaxBodySize(limit))
	_, addr := newCountingServer(t, recv)
	zeros := func(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }
	const slack = 64 << 10
	// After a 413 the receiver reads and discards up to 8 MiB more, its
	// lingering close, so that a sender that writes its whole body before
	// reading sees the answer rather than a reset (the plan's "limit + 64
	// KiB" predates it). Each case below has a server of its own, and
	// counts once the server has stopped reading, so that one case's
	// lingering is not counted in the next.
	const linger = 8 << 20

	t.Run("content-length", func(t *testing.T) {
		cl, addr := newCountingServer(t, recv)
		line := rawPost(t, addr, fmt.Sprintf("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", big), zeros(big))
		if !strings.Contains(line, " 413 ") {
			t.Errorf("answer %q, want 413", line)
		}
		if n := settled(cl); n > limit+linger+slack {
			t.Errorf("server read %d bytes of a refused 10 MiB body, want at most %d", n, limit+linger+slack)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		cl, addr := newCountingServer(t, recv)
		pr, pw := io.Pipe()
		go func() {
			cw := httpChunkWriter{w: pw}
			_, err := io.Copy(cw, zeros(big))
			if err == nil {
				_, err = io.WriteString(pw, "0\r\n\r\n")
			}
			pw.CloseWithError(err)
		}()
		line := rawPost(t, addr, "POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", pr)
		_ = pr.Close()
		if !strings.Contains(line, " 413 ") {
			t.Errorf("answer %q, want 413", line)
		}
		// net/http closes a chunked body by reading up to 256 KiB more
		// (maxPostHandlerReadBytes in net/http/transfer.go, body.Close)
		// whatever the handler did, on top of the lingering.
		if n, max := settled(cl), int64(limit+linger+256<<10+slack); n > max {
			t.Errorf("server read %d bytes of a chunked 10 MiB body, want at most %d", n, max)
		} else {
			t.Logf("chunked 10 MiB: server read %d bytes (limit %d)", n, limit)
		}
	})
	t.Run("lying content-length", func(t *testing.T) {
		cl, addr := newCountingServer(t, recv)
		line := rawPost(t, addr, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n", zeros(big))
		if !strings.Contains(line, " 400 ") && !strings.Contains(line, " 401 ") {
			t.Errorf("answer %q, want 400 or 401 (100 unsigned bytes)", line)
		}
		// What follows the 100 bytes is read as the next request's head
		// or discarded by net/http, which may read up to 256 KiB
		// (maxPostHandlerReadBytes) past a handler: measured 4 KiB to
		// 266 KiB between runs. Bounded either way.
		if n := settled(cl); n > 100+256<<10+slack {
			t.Errorf("server read %d bytes for a Content-Length of 100, want at most %d", n, 100+256<<10+slack)
		}
	})
	t.Run("boundary", func(t *testing.T) {
		for _, tc := range []struct {
			n    int
			want int
		}{{limit, 200}, {limit + 1, 413}} {
			body := bytes.Repeat([]byte{'a'}, tc.n)
			resp := sign(t, p, "edge-"+strconv.Itoa(tc.n), body, t0).post(t, http.DefaultClient, "http://"+addr+"/hook")
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%d-byte body: status %d, want %d", tc.n, resp.StatusCode, tc.want)
			}
		}
	})
	t.Run("concurrent uploads", func(t *testing.T) {
		n := 100
		if raceEnabled {
			n = 30
		}
		runtime.GC()
		g0 := runtime.NumGoroutine()
		var peak atomic.Uint64
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		})
		var wg sync.WaitGroup
		var bad atomic.Int64
		for range n {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hook", io.LimitReader(zeroReader{}, big))
				req.ContentLength = -1 // chunked: the server cannot refuse by header
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server may close before the client finished writing
				}
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					bad.Add(1)
				}
				resp.Body.Close()
			})
		}
		wg.Wait()
		close(stop)
		sampler.Wait()
		if bad.Load() != 0 {
			t.Errorf("%d uploads not answered 413", bad.Load())
		}
		growth := int64(peak.Load()) - int64(base)
		// The plan's bound: each refused upload holds at most about the
		// limit, plus 32 MiB for everything else.
		bound := int64(n)*limit + 32<<20
		t.Logf("%d concurrent chunked 10 MiB uploads: peak heap growth %.1f MiB (bound %.1f MiB)", n, float64(growth)/(1<<20), float64(bound)/(1<<20))
		if growth > bound {
			t.Errorf("heap grew by %d bytes, want at most %d", growth, bound)
		}
		http.DefaultClient.CloseIdleConnections()
		waitFor(t, 10*time.Second, fmt.Sprintf("goroutines back to %d", g0+5), func() bool { return runtime.NumGoroutine() <= g0+5 })
	})
	if n := h.Total(); n != 1 {
		t.Errorf("handler ran %d times, want 1 (the body exactly at the limit)", n)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// httpChunkWriter writes each Write as one HTTP/1.1 chunk.
type httpChunkWriter struct{ w io.Writer }

func (c httpChunkWriter) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(c.w, "%x\r\n", len(p)); err != nil {
		return 0, err
	}
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	if _, err := io.WriteString(c.w, "\r\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}

// TestCompressionBomb is plan test 15: a gzip body of about 10 KiB that
// would inflate to 10 MiB is answered 415 (ErrUnsupportedEncoding) before a
// byte of it is read: nothing is decompressed, the heap does not grow by
// the inflated size (< 2 MiB allocated in all), and no handler runs. The
// bomb inflates to 10 MiB, not the plan's 10 GiB: since the body is never
// read, the size it would inflate to changes nothing, and compressing
// 10 GiB of zeros would cost every run about 20 s of CPU.
func TestCompressionBomb(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = io.Copy(zw, io.LimitReader(zeroReader{}, 10<<20))
	_ = zw.Close()
	bomb := buf.Bytes()
	if len(bomb) > 20<<10 {
		t.Fatalf("bomb is %d bytes, want about 10 KiB", len(bomb))
	}
	secret, _ := testsecret.For("github")
	p, _ := providers.NewGitHub(secret)
	var gotLen atomic.Int64
	h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		gotLen.Store(int64(len(e.Body)))
		return nil
	})
	recv := newReceiver(t, p, h)
	s := sign(t, p, "gz-1", bomb, t0)
	s.header.Set("Content-Encoding", "gzip")
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	w := testkit.Serve(recv, s.request())
	runtime.ReadMemStats(&m1)
	// TotalAlloc counts every allocation, freed or not: the request may
	// allocate its body and bookkeeping, never the 10 MiB inflated.
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 2<<20 {
		t.Errorf("serving a %d-byte gzip bomb allocated %d bytes, want < 2 MiB", len(bomb), alloc)
	}
	if w.Code != http.StatusUnsupportedMediaType || w.Body.String() != hookguard.ErrUnsupportedEncoding.Error()+"\n" {
		t.Fatalf("status %d %q, want 415 with the ErrUnsupportedEncoding text", w.Code, w.Body)
	}
	shutdown(t, recv) // drains the queue: a handler that was going to run has run
	if n := gotLen.Load(); n != 0 {
		t.Errorf("the handler ran with %d bytes; a refused body must never reach it", n)
	}
}
