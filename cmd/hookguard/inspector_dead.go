package main

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
)

// Dead letters in the inspector: with --redis or --postgres, the page
// lists the durable queue's dead letters (events its handler gave up on),
// shows one, and replays or drops it; /metrics counts them. Without a
// durable backend the in-memory queue keeps no dead letters beyond the
// deliveries the page marks "dead-lettered", and the API says so.

// deadLetterOps is what the durable queues (rediskit's and riverkit's
// Queue) offer for their dead letters.
type deadLetterOps interface {
	DeadLetters(ctx context.Context, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error)
	DeadLetter(ctx context.Context, ref string) (hookguard.DeadLetter, error)
	ReplayDeadLetter(ctx context.Context, ref string) (dedupe.Status, error)
	DropDeadLetter(ctx context.Context, ref string) error
}

// deadLetterView is a backend's dead letters as serve uses them: the
// queue's methods and a cheap count of the dead letters held, for the
// hookguard_dead_letters_held gauge.
type deadLetterView struct {
	ops  deadLetterOps
	held func(ctx context.Context) (int64, error)
}

// inspectorDead is the inspector's access to the dead letters, with the
// counters of what it replayed and dropped.
type inspectorDead struct {
	deadLetterView
	replayed, dropped metric.Int64Counter
}

const (
	// inspDeadMaxLimit bounds the limit= of a listing.
	inspDeadMaxLimit = 1000
	// inspDeadTimeout bounds one call to the backend.
	inspDeadTimeout = 10 * time.Second
)

// errNoDurable is the answer of the dead-letter API without --redis or
// --postgres.
var errNoDurable = errors.New("dead letters are kept only with --redis or --postgres; the in-memory queue keeps none (the deliveries list marks those it gave up on as dead-lettered)")

// inspDeadRef matches what a reference may look like: a Redis stream
// entry ID (1712345678901-0), with the shard's tag for a sharded queue
// (1712345678901-0@hookguard:s1of3), or a River job ID (42).
var inspDeadRef = regexp.MustCompile(`^[0-9]{1,20}(-[0-9]{1,20}(@[A-Za-z0-9._:-]{1,200})?)?$`)

// inspDeadJSON is a dead letter as the page lists it.
type inspDeadJSON struct {
	Ref      string    `json:"ref"`
	Provider string    `json:"provider"`
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	Replays  int       `json:"replays"`
	At       time.Time `json:"at"`
	AgeS     float64   `json:"age_s"`
}

// inspDeadDetailJSON adds what the detail view shows.
type inspDeadDetailJSON struct {
	inspDeadJSON
	ReceivedAt time.Time   `json:"received_at"`
	Headers    [][2]string `json:"headers"`
	Body       string      `json:"body"`
}

type inspDeadListJSON struct {
	DeadLetters []inspDeadJSON `json:"dead_letters"`
	Limit       int            `json:"limit"`
}

func (in *inspector) deadJSON(d hookguard.DeadLetter) inspDeadJSON {
	return inspDeadJSON{
		Ref: d.Ref, Provider: d.Event.Provider, Type: d.Event.Type, ID: d.Event.ID,
		Error: d.Err, Attempts: d.Attempts, Replays: d.Replays, At: d.At.UTC(),
		AgeS: max(in.now().Sub(d.At), 0).Seconds(),
	}
}

// deadDetail returns d with its headers (credential-free as the queue
// keeps them, and masked as the deliveries' are besides) and its body
// pretty-printed.
func (in *inspector) deadDetail(d hookguard.DeadLetter) inspDeadDetailJSON {
	out := inspDeadDetailJSON{inspDeadJSON: in.deadJSON(d), Body: pretty(d.Event.Body), Headers: [][2]string{}}
	if !d.Event.ReceivedAt.IsZero() {
		out.ReceivedAt = d.Event.ReceivedAt.UTC()
	}
	for k, vs := range d.Event.Header {
		if strings.EqualFold(k, inspectorSeqHeader) {
			continue // the inspector's own, meaningless after a restart
		}
		for _, v := range vs {
			if in.secretHeader(k) {
				v = mask(v)
			}
			out.Headers = append(out.Headers, [2]string{k, v})
		}
	}
	slices.SortStableFunc(out.Headers, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// deadFilter reads the filter of GET /inspector/api/dead.
func deadFilter(r *http.Request) (hookguard.DeadLetterFilter, error) {
	q := r.URL.Query()
	f := hookguard.DeadLetterFilter{Provider: q.Get("provider"), Type: q.Get("type"), ErrContains: q.Get("error")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > inspDeadMaxLimit {
			return f, errors.New("limit must be an integer from 1 to " + strconv.Itoa(inspDeadMaxLimit))
		}
		f.Limit = n
	}
	return f, nil
}

// inspectorAction refuses, with 403, a state-changing request that lacks
// the X-Hookguard-Inspector header naming action. A custom header cannot
// be sent cross-origin without a CORS preflight, which is never granted:
// another site cannot make the browser re-send deliveries or replay and
// drop dead letters. It reports whether the request may go on.
func inspectorAction(w http.ResponseWriter, r *http.Request, action, what string) bool {
	if r.Header.Get("X-Hookguard-Inspector") != action {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "send the X-Hookguard-Inspector: " + action + " header to " + what})
		return false
	}
	return true
}

// deadRoutes registers the dead-letter API on mux. Every route answers
// 404 with errNoDurable when serve has no durable backend.
func (in *inspector) deadRoutes(mux *http.ServeMux) {
	// ref reads and checks {ref}; it answers and returns false when the
	// request cannot go on.
	ref := func(w http.ResponseWriter, r *http.Request) (string, bool) {
		if in.dead == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": errNoDurable.Error()})
			return "", false
		}
		ref := r.PathValue("ref")
		if !inspDeadRef.MatchString(ref) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": hookguard.ErrNoDeadLetter.Error()})
			return "", false
		}
		return ref, true
	}
	fail := func(w http.ResponseWriter, err error, what string) {
		switch {
		case errors.Is(err, hookguard.ErrNoDeadLetter):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": hookguard.ErrNoDeadLetter.Error()})
		case errors.Is(err, hookguard.ErrShuttingDown):
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "serve is shutting down"})
		default:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": what + " failed: " + err.Error()})
		}
	}
	mux.HandleFunc("GET /inspector/api/dead", func(w http.ResponseWriter, r *http.Request) {
		if in.dead == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": errNoDurable.Error()})
			return
		}
		f, err := deadFilter(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), inspDeadTimeout)
		defer cancel()
		ds, err := in.dead.ops.DeadLetters(ctx, f)
		if err != nil {
			fail(w, err, "listing the dead letters")
			return
		}
		out := inspDeadListJSON{DeadLetters: make([]inspDeadJSON, 0, len(ds)), Limit: f.Max()}
		for _, d := range ds {
			out.DeadLetters = append(out.DeadLetters, in.deadJSON(d))
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /inspector/api/dead/{ref}", func(w http.ResponseWriter, r *http.Request) {
		ref, ok := ref(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), inspDeadTimeout)
		defer cancel()
		d, err := in.dead.ops.DeadLetter(ctx, ref)
		if err != nil {
			fail(w, err, "reading the dead letter")
			return
		}
		writeJSON(w, http.StatusOK, in.deadDetail(d))
	})
	mux.HandleFunc("POST /inspector/api/dead/{ref}/replay", func(w http.ResponseWriter, r *http.Request) {
		if !inspectorAction(w, r, "replay", "replay a dead letter") {
			return
		}
		ref, ok := ref(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), inspDeadTimeout)
		defer cancel()
		st, err := in.dead.ops.ReplayDeadLetter(ctx, ref)
		if err != nil {
			fail(w, err, "replay")
			return
		}
		switch st {
		case dedupe.Reserved:
			in.dead.replayed.Add(context.WithoutCancel(ctx), 1)
			writeJSON(w, http.StatusOK, map[string]string{"ref": ref, "result": "replayed",
				"message": "queued again: the handler takes it like a new delivery, with its original ID"})
		case dedupe.Seen:
			writeJSON(w, http.StatusOK, map[string]string{"ref": ref, "result": "duplicate",
				"message": "nothing queued: this dead letter was replayed before, or the sender redelivered the event since"})
		default: // dedupe.Pending
			writeJSON(w, http.StatusConflict, map[string]string{"ref": ref, "result": "pending",
				"error": "a delivery of the same event is being taken in right now; replay again in a moment"})
		}
	})
	mux.HandleFunc("POST /inspector/api/dead/{ref}/drop", func(w http.ResponseWriter, r *http.Request) {
		if !inspectorAction(w, r, "drop", "drop a dead letter") {
			return
		}
		ref, ok := ref(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), inspDeadTimeout)
		defer cancel()
		if err := in.dead.ops.DropDeadLetter(ctx, ref); err != nil {
			fail(w, err, "drop")
			return
		}
		in.dead.dropped.Add(context.WithoutCancel(ctx), 1)
		writeJSON(w, http.StatusOK, map[string]string{"ref": ref, "result": "dropped"})
	})
}
