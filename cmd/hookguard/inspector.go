package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/httpx"
	"github.com/hookguard/hookguard/otelhook"
)

// The inspector: a live page at / that shows serve's recent deliveries.
//
// It keeps the last inspectorRing deliveries to /webhooks/ in memory, each
// with its headers and at most inspectorBodyCap bytes of its body, so that
// the page can show them and re-send them. It is a development tool: the
// bodies never leave the process except to the page, and are never logged.
// The page reads JSON from /inspector/api/ and polls it once a second.
const (
	inspectorRing      = 200      // deliveries kept
	inspectorBodyCap   = 64 << 10 // body bytes kept per delivery
	inspectorMinutes   = 30       // minutes the chart shows
	inspectorSeqHeader = "Hookguard-Inspector-Delivery"
)

//go:embed inspector_assets
var inspectorAssets embed.FS

var inspectorPage = template.Must(template.ParseFS(inspectorAssets, "inspector_assets/index.html"))

// delivery is one captured request. Its fields change as the receiver
// answers and the handler runs; they are guarded by inspector.mu.
type delivery struct {
	seq      uint64
	at       time.Time
	method   string
	path     string
	provider string
	id, typ  string
	status   int
	outcome  string
	reason   string
	detail   string
	secret   int
	ack      time.Duration
	attempts int
	result   string
	replayOf uint64

	header    http.Header          // as received, signatures included: for replay only, never served
	tls       *tls.ConnectionState // as received: a replay arrived over TLS when the delivery did
	body      []byte               // at most inspectorBodyCap bytes
	bodyLen   int64                // bytes the sender sent (-1: unknown)
	truncated bool
}

// minute counts the answers of one minute for the chart.
type minute struct {
	unix                          int64 // minutes since the epoch
	accepted, duplicate, rejected int
}

// inspector captures deliveries and serves the page. It is safe for
// concurrent use.
type inspector struct {
	now     func() time.Time
	masked  []string // extra header names to mask (each provider's signature header)
	bodyCap int

	mu      sync.Mutex
	ring    []*delivery // ring[seq % len(ring)]
	seq     uint64      // last sequence number given
	version uint64      // bumped on every change, for polling
	minutes [inspectorMinutes]minute

	// target is the handler that captured deliveries went to; replays go
	// there too. Set once by wrap, before serving.
	target http.Handler

	// dead is the durable backend's dead letters (inspector_dead.go); nil
	// without --redis or --postgres. Set once, before serving.
	dead *inspectorDead
}

func newInspector(maskHeaders []string) *inspector {
	return &inspector{
		now:     time.Now,
		masked:  maskHeaders,
		bodyCap: inspectorBodyCap,
		ring:    make([]*delivery, inspectorRing),
	}
}

type ctxKey struct{ name string }

var (
	deliveryKey = &ctxKey{"inspector delivery"}
	replayKey   = &ctxKey{"inspector replay"}
)

// wrap returns next wrapped so that every request to it is captured. It
// must be called once, before serving.
func (in *inspector) wrap(next http.Handler) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		d := &delivery{
			at:       in.now(),
			method:   r.Method,
			path:     r.URL.Path,
			provider: r.PathValue("provider"),
			secret:   -1,
			header:   r.Header.Clone(),
			tls:      r.TLS,
			bodyLen:  r.ContentLength,
		}
		if d.provider == "" {
			d.provider = strings.TrimPrefix(r.URL.Path, "/webhooks/")
			if len(d.provider) > 40 || strings.Contains(d.provider, "/") {
				d.provider = "?"
			}
		}
		rp, _ := r.Context().Value(replayKey).(*replayOf)
		if rp != nil {
			d.replayOf = rp.seq
		}
		r2 := r.WithContext(context.WithValue(r.Context(), deliveryKey, d))
		r2.Header = d.header.Clone()
		if r.Body != nil && r.Body != http.NoBody {
			buf, err := io.ReadAll(io.LimitReader(r.Body, int64(in.bodyCap)+1))
			if len(buf) > in.bodyCap {
				d.body, d.truncated = buf[:in.bodyCap:in.bodyCap], true
			} else {
				d.body = buf
			}
			// The receiver reads the same bytes, then the rest (if any),
			// and applies its own limit.
			rest := io.Reader(r.Body)
			if err != nil {
				rest = errReader{err}
			}
			r2.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(buf), rest), r.Body}
		}
		seq := in.add(d)
		if rp != nil {
			rp.copy = seq
		}
		r2.Header.Set(inspectorSeqHeader, strconv.FormatUint(seq, 10))
		sw := &httpx.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r2)
		in.answered(d, sw.Status, time.Since(start))
	})
	in.target = h
	return h
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// add puts d in the ring, dropping the oldest delivery, and returns its
// sequence number.
func (in *inspector) add(d *delivery) uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	d.seq = in.seq
	in.ring[d.seq%uint64(len(in.ring))] = d
	in.version++
	return d.seq
}

// get returns the delivery numbered seq, if the ring still holds it.
// Call with in.mu held.
func (in *inspector) get(seq uint64) *delivery {
	d := in.ring[seq%uint64(len(in.ring))]
	if d == nil || d.seq != seq {
		return nil
	}
	return d
}

// answered completes d once next has answered it, and counts it for the
// chart. Requests that reached no receiver (404) have no outcome from the
// hooks: they count as rejected.
func (in *inspector) answered(d *delivery, status int, took time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if d.status == 0 {
		d.status = status
	}
	if d.outcome == "" {
		d.outcome, d.ack = hookguard.OutcomeRejected, took
		if status == http.StatusNotFound {
			d.reason, d.detail = "no_receiver", "no receiver for this path"
		} else if status == http.StatusMethodNotAllowed {
			d.reason = "method_not_allowed"
		}
	}
	m := in.minute(d.at)
	switch d.outcome {
	case hookguard.OutcomeAccepted, hookguard.OutcomeHandshake:
		m.accepted++
	case hookguard.OutcomeDuplicate:
		m.duplicate++
	default:
		m.rejected++
	}
	in.version++
}

// minute returns the chart bucket of t. Call with in.mu held.
func (in *inspector) minute(t time.Time) *minute {
	u := t.Unix() / 60
	m := &in.minutes[u%inspectorMinutes]
	if m.unix != u {
		*m = minute{unix: u}
	}
	return m
}

// hooks returns the hooks that fill in what the receiver and queue learn.
func (in *inspector) hooks() hookguard.Hooks {
	return hookguard.Hooks{
		OnAnswered: func(ctx context.Context, a hookguard.Answer) {
			d, ok := ctx.Value(deliveryKey).(*delivery)
			if !ok {
				return
			}
			in.mu.Lock()
			defer in.mu.Unlock()
			if a.Provider != "" {
				d.provider = a.Provider
			}
			d.id, d.typ, d.status, d.outcome = a.ID, a.Type, a.Status, a.Outcome
			d.secret, d.ack = a.SecretIndex, a.Latency
			d.reason = otelhook.Reason(a.Err)
			if a.Err != nil {
				d.detail = a.Err.Error()
			}
			if a.Outcome == hookguard.OutcomeAccepted && d.result == "" {
				// The handler may have run already: keep what it said.
				d.result = "queued"
			}
			in.version++
		},
		OnHandled: func(e hookguard.Event, attempt int, err error, _ time.Duration) {
			in.update(e, func(d *delivery) {
				d.attempts = attempt
				if err == nil {
					d.result = "handled"
				} else {
					d.result = "failed, retrying"
				}
			})
		},
		OnDeadLetter: func(e hookguard.Event, _ error) {
			in.update(e, func(d *delivery) {
				d.attempts = max(d.attempts, e.Attempt)
				d.result = "dead-lettered"
			})
		},
	}
}

// update applies fn to the delivery that brought e, if the ring holds it.
func (in *inspector) update(e hookguard.Event, fn func(*delivery)) {
	seq, err := strconv.ParseUint(e.Header.Get(inspectorSeqHeader), 10, 64)
	if err != nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if d := in.get(seq); d != nil {
		fn(d)
		in.version++
	}
}

// deliveryJSON is a delivery as the page sees it. It holds no signature.
type deliveryJSON struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Provider string    `json:"provider"`
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Status   int       `json:"status"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason"`
	Detail   string    `json:"detail,omitempty"`
	Secret   int       `json:"secret"`
	AckMS    float64   `json:"ack_ms"`
	Attempts int       `json:"attempts"`
	Result   string    `json:"result"`
	ReplayOf uint64    `json:"replay_of,omitempty"`
}

// detailJSON adds what the detail view shows.
type detailJSON struct {
	deliveryJSON
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Headers    [][2]string `json:"headers"`
	Body       string      `json:"body"`
	BodyNote   string      `json:"body_note,omitempty"`
	Replayable bool        `json:"replayable"`
}

type minuteJSON struct {
	Minute    time.Time `json:"minute"`
	Accepted  int       `json:"accepted"`
	Duplicate int       `json:"duplicate"`
	Rejected  int       `json:"rejected"`
}

type stateJSON struct {
	Version    uint64         `json:"version"`
	Deliveries []deliveryJSON `json:"deliveries"`
	Chart      []minuteJSON   `json:"chart"`
}

func (d *delivery) json() deliveryJSON {
	return deliveryJSON{
		Seq: d.seq, Time: d.at.UTC(), Provider: d.provider, ID: d.id, Type: d.typ,
		Status: d.status, Outcome: d.outcome, Reason: d.reason, Detail: d.detail,
		Secret: d.secret, AckMS: float64(d.ack.Microseconds()) / 1000,
		Attempts: d.attempts, Result: d.result, ReplayOf: d.replayOf,
	}
}

// state returns every delivery, newest first, and the chart.
func (in *inspector) state() stateJSON {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := stateJSON{Version: in.version, Deliveries: make([]deliveryJSON, 0, len(in.ring))}
	for seq := in.seq; seq > 0 && in.seq-seq < uint64(len(in.ring)); seq-- {
		if d := in.get(seq); d != nil {
			s.Deliveries = append(s.Deliveries, d.json())
		}
	}
	now := in.now().Unix() / 60
	for u := now - inspectorMinutes + 1; u <= now; u++ {
		m := minute{unix: u}
		if b := in.minutes[u%inspectorMinutes]; b.unix == u {
			m = b
		}
		s.Chart = append(s.Chart, minuteJSON{Minute: time.Unix(u*60, 0).UTC(), Accepted: m.accepted, Duplicate: m.duplicate, Rejected: m.rejected})
	}
	return s
}

// detail returns the delivery numbered seq with its masked headers and
// pretty-printed body.
func (in *inspector) detail(seq uint64) (detailJSON, bool) {
	in.mu.Lock()
	d := in.get(seq)
	if d == nil {
		in.mu.Unlock()
		return detailJSON{}, false
	}
	out := detailJSON{deliveryJSON: d.json(), Method: d.method, Path: d.path, Replayable: !d.truncated}
	header, body, truncated, n := d.header, d.body, d.truncated, d.bodyLen
	in.mu.Unlock() // header and body are never modified once captured

	for k, vs := range header {
		for _, v := range vs {
			if in.secretHeader(k) {
				v = mask(v)
			}
			out.Headers = append(out.Headers, [2]string{k, v})
		}
	}
	slices.SortStableFunc(out.Headers, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	out.Body = pretty(body)
	if truncated {
		if n >= 0 {
			out.BodyNote = "showing the first " + strconv.Itoa(len(body)) + " of " + strconv.FormatInt(n, 10) + " bytes; too large to re-send"
		} else {
			out.BodyNote = "showing the first " + strconv.Itoa(len(body)) + " bytes; too large to re-send"
		}
	}
	return out, true
}

// secretHeader reports whether the header named k may carry a signature,
// token or other credential, whose value the page must not show.
func (in *inspector) secretHeader(k string) bool {
	lk := strings.ToLower(k)
	for _, w := range []string{"signature", "hmac", "token", "secret", "authorization", "cookie", "api-key", "apikey", "password"} {
		if strings.Contains(lk, w) {
			return true
		}
	}
	for _, m := range in.masked {
		if strings.EqualFold(k, m) {
			return true
		}
	}
	return false
}

// mask replaces a credential with a note of its length.
func mask(v string) string {
	return "•••••• masked (" + strconv.Itoa(len(v)) + " bytes)"
}

// pretty returns body for display: indented when it is JSON, as text when
// it is UTF-8, else as a note.
func pretty(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Valid(body) && json.Indent(&buf, body, "", "  ") == nil {
		return buf.String()
	}
	if utf8.Valid(body) {
		return string(body)
	}
	return "(" + strconv.Itoa(len(body)) + " bytes of binary data)"
}

// replay sends the delivery numbered seq to the receiver again, exactly
// as it was received, and returns the new delivery's number.
func (in *inspector) replay(ctx context.Context, seq uint64) (uint64, error) {
	in.mu.Lock()
	d := in.get(seq)
	if d == nil {
		in.mu.Unlock()
		return 0, errGone
	}
	if d.truncated {
		in.mu.Unlock()
		return 0, errTooLarge
	}
	method, path, header, body, connState := d.method, d.path, d.header.Clone(), d.body, d.tls
	in.mu.Unlock()

	rp := &replayOf{seq: seq}
	ctx = context.WithValue(ctx, replayKey, rp)
	req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = header
	req.RemoteAddr = "127.0.0.1:0"
	req.RequestURI = path
	req.TLS = connState // a delivery that had to arrive over TLS is replayed as one
	w := &discardWriter{header: http.Header{}}
	in.target.ServeHTTP(w, req)
	return rp.copy, nil
}

// replayOf travels in a replayed request's context: seq is the delivery
// replayed, copy the number the replay got.
type replayOf struct{ seq, copy uint64 }

var (
	errGone     = errors.New("that delivery is no longer held; only the last " + strconv.Itoa(inspectorRing) + " are kept")
	errTooLarge = errors.New("that delivery's body was larger than the inspector keeps, so it cannot be re-sent")
)

// discardWriter is the ResponseWriter of a replay: the answer shows on the
// page, through the hooks.
type discardWriter struct {
	header http.Header
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// routes registers the page and its API on mux, which must be served
// behind a [uiGuard].
func (in *inspector) routes(mux *http.ServeMux, providers []string) {
	static := http.FileServerFS(inspectorAssets)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = inspectorPage.Execute(w, struct {
			Providers []string
			State     stateJSON
			Durable   bool // dead letters to list
		}{providers, in.state(), in.dead != nil})
	})
	mux.HandleFunc("GET /inspector/static/{file}", func(w http.ResponseWriter, r *http.Request) {
		switch f := r.PathValue("file"); f {
		case "app.js", "style.css":
			setPageHeaders(w)
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/inspector_assets/" + f
			static.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /inspector/api/state", func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("v"); v != "" {
			in.mu.Lock()
			same := v == strconv.FormatUint(in.version, 10)
			in.mu.Unlock()
			if same {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeJSON(w, http.StatusOK, in.state())
	})
	mux.HandleFunc("GET /inspector/api/deliveries/{seq}", func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the delivery number must be a positive integer"})
			return
		}
		d, ok := in.detail(seq)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": errGone.Error()})
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("POST /inspector/api/deliveries/{seq}/replay", func(w http.ResponseWriter, r *http.Request) {
		if !inspectorAction(w, r, "replay", "re-send a delivery") {
			return
		}
		seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the delivery number must be a positive integer"})
			return
		}
		n, err := in.replay(r.Context(), seq)
		switch {
		case errors.Is(err, errGone):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case errors.Is(err, errTooLarge):
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "replay failed"})
		default:
			writeJSON(w, http.StatusOK, map[string]uint64{"seq": n})
		}
	})
	in.deadRoutes(mux)
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
