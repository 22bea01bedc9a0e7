package hookguard

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The body is read into a first buffer of at most bodyChunk bytes, then
// into buffers bodyGrowth times larger, each at most the announced length
// (or the limit when none is announced). A buffer grows only once the one
// before it is full, so the memory a request holds is at most about
// bodyGrowth times the bytes it has actually sent, plus bodyChunk: a
// Content-Length is a claim, not bytes, and a sender that announces the
// limit and then stalls holds one small buffer, not the limit.
const (
	bodyChunk  = 4 << 10
	bodyGrowth = 8
)

// bodyStages pools the buffers a read has outgrown: stage k holds buffers
// of exactly bodyChunk * bodyGrowth^k bytes (4 KiB, 32 KiB, 256 KiB and
// 2 MiB). A body's final buffer is never pooled: the event keeps it.
// Larger stages are left to the garbage collector.
var bodyStages [4]sync.Pool

// stage returns a buffer of size bytes, from the pool when size is a
// stage's size.
func stage(size int) *[]byte {
	if k, ok := stageIndex(size); ok {
		if p, _ := bodyStages[k].Get().(*[]byte); p != nil {
			return p
		}
	}
	b := make([]byte, size)
	return &b
}

// unstage returns an outgrown buffer to its pool.
func unstage(p *[]byte) {
	if k, ok := stageIndex(len(*p)); ok {
		bodyStages[k].Put(p)
	}
}

func stageIndex(size int) (int, bool) {
	for k, s := 0, bodyChunk; k < len(bodyStages); k, s = k+1, s*bodyGrowth {
		if size == s {
			return k, true
		}
	}
	return 0, false
}

// readBody reads r's body, failing with ErrBodyTooLarge past limit
// without reading more than limit+1 bytes. Memory follows the bytes
// received (see bodyChunk); when Content-Length is announced, the last
// buffer has exactly that size, so a body that arrives whole costs one
// allocation up to bodyChunk bytes and, above that, pooled copies of at
// most its first eighth (36 KiB of a 256 KiB body), the price of never
// taking a sender's Content-Length on trust.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	if r.ContentLength > limit {
		return nil, ErrBodyTooLarge
	}
	known := r.ContentLength >= 0
	want := limit + 1 // unannounced: one byte past the limit shows it is exceeded
	if known {
		want = r.ContentLength
	}
	var p *[]byte // the pooled buffer being filled; nil for the final one
	var buf []byte
	if want <= bodyChunk {
		buf = make([]byte, want)
	} else {
		p = stage(bodyChunk)
		buf = *p
	}
	n := 0
	for {
		m, err := io.ReadFull(r.Body, buf[n:])
		n += m
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if known {
				err = io.ErrUnexpectedEOF // shorter than announced: cut off
			} else {
				return finalBody(p, buf, n), nil
			}
		}
		if err != nil {
			if p != nil {
				unstage(p)
			}
			return nil, fmt.Errorf("%w: %w", ErrBodyRead, err)
		}
		if int64(n) == want {
			if !known {
				if p != nil {
					unstage(p)
				}
				return nil, ErrBodyTooLarge
			}
			return buf, nil // announced and complete: p is nil here
		}
		// buf is full and more is due: move to a buffer bodyGrowth times
		// larger, the last one exactly the announced size.
		size := min(want, int64(n)*bodyGrowth)
		var next *[]byte
		var nb []byte
		if size == want && known {
			nb = make([]byte, size)
		} else {
			next = stage(int(size))
			nb = *next
		}
		copy(nb, buf[:n])
		if p != nil {
			unstage(p)
		}
		p, buf = next, nb
	}
}

// finalBody returns the n bytes read into buf. A pooled stage is copied
// out and returned to its pool, since the event keeps its body.
func finalBody(p *[]byte, buf []byte, n int) []byte {
	if p == nil {
		return buf[:n:n]
	}
	out := make([]byte, n)
	copy(out, buf[:n])
	unstage(p)
	return out
}

// Lingering after a refusal that left the body unread: how much more to
// read and for how long.
const (
	lingerBytes = 8 << 20
	lingerTime  = 5 * time.Second
)

// linger reads and discards what is left of a refused request's body,
// after its answer has been flushed and for at most lingerBytes and
// lingerTime, the way nginx's lingering close does. Most HTTP clients
// write a whole body before they read the answer: a server that closes
// with unread bytes in its socket sends a reset, and such a client reports
// a broken connection instead of the 413 or 415 it was sent. Reading is
// linear in bytes the sender really sent, into a fixed buffer, and stops
// at the bounds; past them the connection is closed as before.
//
// Only HTTP/1.x needs it (HTTP/2 refuses a stream without closing the
// connection), and not a sender that asked for 100-continue: it waits for
// the answer and sends no body after a refusal.
func linger(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody ||
		strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	if rc.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return // the deadline cannot be bounded: close at once, as before
	}
	_, _ = io.CopyN(io.Discard, r.Body, lingerBytes)
}
