package hookguard

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/hookguard/hookguard/internal/httpx"
)

// ctxKey is the context key of the verified Event. It is a pointer so that
// it fits in an interface without allocating.
type ctxKey struct{ name string }

var eventKey = &ctxKey{"hookguard event"}

// FromContext returns the verified event that [Middleware] stored in the
// request's context.
func FromContext(ctx context.Context) (Event, bool) {
	if e, ok := ctx.Value(eventKey).(*Event); ok {
		return *e, true
	}
	return Event{}, false
}

// mwRequest is what Middleware adds to one verified request, in one
// allocation: context.WithValue, the Event boxed in an interface, the
// bytes.Reader, io.NopCloser and the status writer each cost one.
type mwRequest struct {
	ctx  eventCtx
	ev   Event
	body bodyReader
	sw   httpx.StatusWriter
}

// eventCtx is the request's context with the Event as the value of
// eventKey. Done, Err and the parent's cancelCtx are its parent's, so
// contexts derived from it propagate cancellation as under
// context.WithValue.
type eventCtx struct {
	context.Context
	ev *Event
}

func (c *eventCtx) Value(key any) any {
	if key == any(eventKey) {
		return c.ev
	}
	return c.Context.Value(key)
}

// bodyReader reads the verified body again; Close does nothing.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// Middleware returns middleware that verifies each request with v before
// calling the next handler synchronously, for applications that want to
// handle webhooks in their own http.Handler instead of through a queue.
//
// A request that fails any check (method, rate limit, body limit,
// signature, dedupe) is answered as [Receiver] answers it and never
// reaches next. A handshake is answered without calling next. Otherwise
// next gets a copy of the request whose context carries the [Event] (read
// it with [FromContext]) and whose Body reads the verified bytes again from
// the start; the caller's request is not modified.
//
// Dedupe is off unless [WithStore] is given. With it, a duplicate gets 200
// with the [DuplicateHeader] and does not reach next; the event is marked
// seen when next answers 2xx (or writes nothing), and released otherwise
// (or if next panics), so that the sender's retry reaches next again.
//
// Middleware checks its configuration when it is called, before any
// request: it returns [ErrNilVerifier] if v is nil, and an error wrapping
// [ErrInvalidOption] that names the option if an option has a bad value or
// does not apply to Middleware, which has no queue: [WithQueue],
// [WithKeepDedupeOnDeadLetter] and the options of a queue ([WithWorkers],
// [WithMaxAttempts], [WithDeadLetter] and the like) are refused.
// It never panics on a value that may come from configuration.
func Middleware(v Verifier, opts ...Option) (func(http.Handler) http.Handler, error) {
	cfg, err := newConfig(forMiddleware, opts)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, ErrNilVerifier
	}
	c := newCore(v, cfg)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := c.begin(r.Context())
			defer c.finish(r.Context(), &rec)
			adm, ok := c.admit(w, r, &rec)
			if !ok {
				return
			}
			m := &mwRequest{ev: adm.ev}
			m.ctx = eventCtx{Context: r.Context(), ev: &m.ev}
			r2 := r.WithContext(&m.ctx)
			body := adm.ev.Body
			m.body.Reset(body)
			r2.Body = &m.body
			r2.ContentLength = int64(len(body))
			r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			rec.outcome = "accepted"
			c.cfg.hooks.accepted(adm.ev)
			sw := &m.sw
			sw.ResponseWriter = w
			finished := false
			defer func() {
				if !finished { // next panicked: let the sender's retry through
					c.release(&adm)
				}
			}()
			next.ServeHTTP(sw, r2)
			finished = true
			rec.status = sw.Status
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			if rec.status < 300 {
				c.commit(&adm)
			} else {
				c.release(&adm)
			}
		})
	}, nil
}
