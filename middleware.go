package hookguard

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// ctxKey is the context key of the verified Event. It is a pointer so that
// it fits in an interface without allocating.
type ctxKey struct{ name string }

var eventKey = &ctxKey{"hookguard event"}

// FromContext returns the verified event that [Middleware] stored in the
// request's context.
func FromContext(ctx context.Context) (Event, bool) {
	e, ok := ctx.Value(eventKey).(Event)
	return e, ok
}

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
// [WithQueue] and [WithQueueOptions] do not apply to Middleware. Panics if
// v is nil or an option is invalid, at wiring time.
func Middleware(v Verifier, opts ...Option) func(http.Handler) http.Handler {
	if v == nil {
		panic(ErrNilVerifier.Error())
	}
	cfg, err := newConfig(opts)
	if err != nil {
		panic(err.Error())
	}
	if cfg.queue != nil || len(cfg.queueOpts) > 0 {
		panic("hookguard: WithQueue and WithQueueOptions do not apply to Middleware, which calls the next handler itself")
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
			r2 := r.WithContext(context.WithValue(r.Context(), eventKey, adm.ev))
			body := adm.ev.Body
			r2.Body = io.NopCloser(bytes.NewReader(body))
			r2.ContentLength = int64(len(body))
			r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			rec.outcome = "accepted"
			c.cfg.hooks.accepted(adm.ev)
			sw := &statusWriter{ResponseWriter: w}
			finished := false
			defer func() {
				if !finished { // next panicked: let the sender's retry through
					c.release(&adm)
				}
			}()
			next.ServeHTTP(sw, r2)
			finished = true
			rec.status = sw.status
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			if rec.status < 300 {
				c.commit(&adm)
			} else {
				c.release(&adm)
			}
		})
	}
}

// statusWriter records the status next wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
