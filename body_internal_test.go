package hookguard

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadBodySizes checks readBody over every way a body arrives:
// announced or not, in one piece or a byte at a time, at and around the
// stage sizes and the limit.
func TestReadBodySizes(t *testing.T) {
	const limit = 300 << 10
	sizes := []int{0, 1, bodyChunk - 1, bodyChunk, bodyChunk + 1, 4 * bodyChunk, 4*bodyChunk + 7,
		16 * bodyChunk, 70_000, limit - 1, limit, limit + 1, limit + bodyChunk}
	for _, n := range sizes {
		body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, announced := range []bool{true, false} {
			for _, trickle := range []bool{false, true} {
				if trickle && n > 5*bodyChunk {
					continue
				}
				name := fmt.Sprintf("n=%d/announced=%v/trickle=%v", n, announced, trickle)
				t.Run(name, func(t *testing.T) {
					var rd io.Reader = bytes.NewReader(body)
					if trickle {
						rd = &oneByteReader{r: rd}
					}
					r := httptest.NewRequest(http.MethodPost, "/", rd)
					r.ContentLength = -1
					if announced {
						r.ContentLength = int64(n)
					}
					got, err := readBody(r, limit)
					if n > limit {
						require.Same(t, ErrBodyTooLarge, err, "err = %v; want ErrBodyTooLarge itself", err)
						return
					}
					require.NoError(t, err, "readBody")
					require.True(t, bytes.Equal(got, body), "readBody = %d bytes; want the %d bytes sent", len(got), n)
				})
			}
		}
	}
	t.Run("shorter than announced", func(t *testing.T) {
		for _, n := range []int{10, 3 * bodyChunk, 40 * bodyChunk} {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, n)))
			r.ContentLength = int64(n + 1)
			_, err := readBody(r, limit)
			if assert.Error(t, err, "%d bytes of %d announced: want ErrBodyRead", n, n+1) {
				assert.NotErrorIs(t, err, ErrBodyTooLarge, "%d bytes of %d announced: want ErrBodyRead", n, n+1)
			}
		}
	})
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// TestAnnouncedLengthHoldsNoMemory is the regression test for memory
// taken on a sender's word: 100 connections each announce a 25 MiB body,
// send 118 bytes of it and wait. The receiver used to allocate the
// announced length before a byte arrived (2.5 GiB here); memory must grow
// only with the bytes received.
func TestAnnouncedLengthHoldsNoMemory(t *testing.T) {
	const (
		conns     = 100
		announced = 25 << 20
		sent      = 118
	)
	recv := limitedReceiver(t, announced)
	var reading sync.WaitGroup
	reading.Add(conns)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &signalReader{ReadCloser: r.Body, first: reading.Done}
		recv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	clients := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		clients = append(clients, c)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", announced, strings.Repeat("x", sent))
	}
	reading.Wait() // every handler is inside readBody, waiting for the rest
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	perConn := held / conns
	t.Logf("%d connections announcing %d MiB and sending %d bytes each hold %d KiB of heap in all (%d bytes each, HTTP server included)",
		conns, announced>>20, sent, held>>10, perConn)
	require.LessOrEqual(t, perConn, int64(64<<10),
		"each stalled connection holds %d KiB of heap for %d bytes sent; memory must follow the bytes received, not the %d MiB announced",
		perConn>>10, sent, announced>>20)
}

// limitedReceiver returns a Stripe receiver with a no-op handler and the
// given body limit, shut down when the test ends.
func limitedReceiver(t *testing.T, limit int64) *Receiver {
	t.Helper()
	p, err := providers.NewStripe("whsec_test")
	require.NoError(t, err)
	recv, err := New(p, HandlerFunc(func(context.Context, Event) error { return nil }), WithMaxBodySize(limit))
	require.NoError(t, err)
	t.Cleanup(func() { _ = recv.Shutdown(context.Background()) })
	return recv
}

// signalReader calls first on its first Read, once the handler has
// allocated what it will before the body arrives.
type signalReader struct {
	io.ReadCloser
	once  sync.Once
	first func()
}

func (s *signalReader) Read(p []byte) (int, error) {
	s.once.Do(s.first)
	return s.ReadCloser.Read(p)
}

// TestOversizeBodySenderSees413 is the regression test for a sender that
// writes its whole body before reading the answer (most HTTP clients
// without Expect: 100-continue). The receiver used to answer 413 and close
// with the body unread, and the sender saw a connection reset. It must
// read the answer, announced or chunked, for a body over the limit and for
// a compressed one (415).
func TestOversizeBodySenderSees413(t *testing.T) {
	const limit = 1 << 20
	recv := limitedReceiver(t, limit)
	srv := httptest.NewServer(recv)
	defer srv.Close()
	body := bytes.Repeat([]byte("a"), 3*limit)
	tests := []struct {
		name   string
		header string
		body   []byte
		want   string
	}{
		{"announced", fmt.Sprintf("Content-Length: %d\r\n", len(body)), body, "413"},
		{"chunked", "Transfer-Encoding: chunked\r\n", chunked(body), "413"},
		{"compressed", fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", len(body)), body, "415"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			req := append([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+tt.header+"\r\n"), tt.body...)
			// Write as a sender on a real uplink does: in pieces, for about
			// a second, longer than net/http waits before it closes.
			for len(req) > 0 {
				n := min(len(req), 64<<10)
				_, err := c.Write(req[:n])
				require.NoError(t, err, "writing the body: the receiver closed before reading it, so the sender never sees %s", tt.want)
				req = req[n:]
				time.Sleep(20 * time.Millisecond)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err, "reading the answer; want %s", tt.want)
			require.Equal(t, tt.want, fmt.Sprint(resp.StatusCode), "status")
		})
	}
}

func chunked(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(len(b), 32<<10)
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

// TestLingerIsBounded checks that discarding after a 413 stops at
// lingerBytes: a sender that keeps writing past it has its connection
// closed, and the receiver has read no more than the limit plus the bound.
func TestLingerIsBounded(t *testing.T) {
	const limit = 64 << 10
	recv := limitedReceiver(t, limit)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	counted := &countingListener{Listener: ln}
	srv := httptest.NewUnstartedServer(recv)
	srv.Listener = counted
	srv.Start()
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(lingerTime + 20*time.Second))
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 1<<30)
	chunk := make([]byte, 64<<10)
	var wrote int64
	for wrote < 1<<30 {
		n, err := c.Write(chunk)
		wrote += int64(n)
		if err != nil {
			break // closed by the receiver: what the bound is for
		}
	}
	require.Less(t, wrote, int64(1<<30), "the receiver read a whole 1 GiB body after refusing it")
	require.LessOrEqual(t, counted.n.Load(), int64(lingerBytes+4*limit), "bytes the receiver read after a 413")
}

type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.n}, nil
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

// BenchmarkReadBody compares readBody with the read it replaced, one
// allocation of the announced length filled by io.ReadFull ("sized"), on
// announced bodies of 1, 16 and 256 KiB. The ratio is what following the
// bytes received costs when a body arrives whole: at most the copy of its
// first quarter into pooled buffers.
func BenchmarkReadBody(b *testing.B) {
	for _, kib := range []int{1, 16, 256} {
		body := bytes.Repeat([]byte("x"), kib<<10)
		src := bytes.NewReader(body)
		r := httptest.NewRequest(http.MethodPost, "/", src)
		r.ContentLength = int64(len(body))
		r.Body = io.NopCloser(src)
		b.Run(fmt.Sprintf("%dKiB/sized", kib), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				src.Reset(body)
				buf := make([]byte, r.ContentLength)
				if _, err := io.ReadFull(r.Body, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%dKiB/readBody", kib), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				src.Reset(body)
				if _, err := readBody(r, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
