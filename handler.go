package hookguard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/verify"
)

// Verifier checks one request's signature and timestamp against now and
// says what it learned. Every preset in package providers satisfies it.
// Verify must be safe for concurrent use and must not keep req.Body.
//
// The receiver and the middleware also look for three optional methods,
// which every providers.Preset has and a verifier of your own may add:
// [URLReader] (ReadsURL: whether Verify reads the request URL),
// [MethodLister] (Methods: the HTTP methods besides POST it answers) and
// [SharedTokenVerifier] (SharedToken: whether the sender's proof is a
// token sent as is, which must then arrive over TLS).
type Verifier interface {
	Verify(req verify.Request, now time.Time) (verify.Delivery, error)
}

// Handler handles one verified event, after the sender was answered.
//
// HandleEvent may be called more than once for the same event (a retry
// after a failure, or a sender that sends an event twice beyond the dedupe
// window), so it should be idempotent. Return nil on success, an error to
// be retried, or an error wrapped with [Permanent] to give up at once. ctx
// is cancelled when the attempt times out or the queue shuts down.
type Handler interface {
	HandleEvent(ctx context.Context, e Event) error
}

// HandlerFunc lets an ordinary function be a [Handler].
type HandlerFunc func(ctx context.Context, e Event) error

// HandleEvent calls f(ctx, e).
func (f HandlerFunc) HandleEvent(ctx context.Context, e Event) error { return f(ctx, e) }

// Typed returns a [Handler] that decodes each event's payload into a T
// with [Event.Decode] and calls fn. A payload that does not decode is a
// [Permanent] error: no retry would fix it.
func Typed[T any](fn func(ctx context.Context, e Event, payload T) error) Handler {
	return HandlerFunc(func(ctx context.Context, e Event) error {
		var p T
		if err := e.Decode(&p); err != nil {
			return Permanent(err)
		}
		return fn(ctx, e, p)
	})
}

// DuplicateHeader is set to "true" on the 200 answer to a delivery that
// was recognised as a duplicate and not enqueued again.
const DuplicateHeader = "Hookguard-Duplicate"

// Receiver is an [http.Handler] that receives webhooks: it checks the
// method, applies rate limits, reads the body under a limit, verifies the
// signature, answers handshakes, drops duplicates, enqueues the event and
// answers 200, while a [Queue] runs the [Handler] later. See the package
// documentation for the status codes it answers.
//
// A Receiver is safe for concurrent use.
type Receiver struct {
	c      *core
	q      Queue
	own    *MemoryQueue // the queue New built; nil with WithQueue
	closed atomic.Bool
}

var _ http.Handler = (*Receiver)(nil)

// New returns a Receiver that verifies requests with v and hands events to
// h through its own [MemoryQueue], configured by the same options as
// [NewMemoryQueue] ([WithWorkers], [WithMaxAttempts] and the rest; New
// gives it the [WithHooks] and [WithLogger] given too). With [WithQueue],
// pass a nil h: the given queue runs its own handler, and the options of
// New's own queue are refused. Dedupe uses an in-memory store unless
// [WithStore] gives another. Call [Receiver.Shutdown] to stop it.
//
// New returns [ErrNilVerifier] or [ErrNilHandler] for a missing argument,
// and an error wrapping [ErrInvalidOption] that names the first option, in
// the order given, that has an invalid value or does not apply to New (a
// route given with [On], say); then it starts nothing.
func New(v Verifier, h Handler, opts ...Option) (*Receiver, error) {
	cfg, err := newConfig(forNew, opts)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, ErrNilVerifier
	}
	r := &Receiver{}
	switch {
	case cfg.queue != nil && h != nil:
		return nil, invalid("New got both a Handler and WithQueue; the queue runs its own handler, so pass a nil Handler")
	case cfg.queue != nil:
		for _, g := range cfg.given {
			if g.scope == forQueues {
				return nil, invalid("%s configures the receiver's own queue and cannot be combined with WithQueue; configure the queue given with WithQueue instead", g.name)
			}
		}
		r.q = cfg.queue
	case h == nil:
		return nil, ErrNilHandler
	default:
		r.own = startMemoryQueue(h, cfg.q)
		r.q = r.own
	}
	cfg.dedupe = true
	r.c = newCore(v, cfg)
	r.c.releaseDead = !cfg.keepDead
	if r.c.once == nil && r.c.store != nil {
		if m := memoryAtomic(r.c.store, r.q); m != nil {
			r.c.once, r.c.mem = m, m
		}
	}
	return r, nil
}

// Forget releases the dedupe records of e, an event this receiver took
// in, so that the sender's next delivery of it is handled rather than
// answered as a duplicate. The receiver's [MemoryQueue] and rediskit's
// Queue call it (or do the same) for every event they dead-letter, unless
// the receiver was built [WithKeepDedupeOnDeadLetter]; call it from the
// dead-letter path of a queue of your own, or to let one redelivery
// through by hand. It uses e.DedupeKeys, and does nothing when they are
// empty. An error means a record may still be held; it expires with the
// dedupe TTL.
func (r *Receiver) Forget(ctx context.Context, e Event) error {
	return r.c.forget(ctx, &e)
}

// Shutdown stops intake at once (new requests get 503 with Retry-After)
// and, when the Receiver built its own queue, shuts that queue down with
// ctx (see [MemoryQueue.Shutdown]). Call it after http.Server.Shutdown has
// returned, so that no request is still being enqueued.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.closed.Store(true)
	if r.own != nil {
		return r.own.Shutdown(ctx)
	}
	return nil
}

// ServeHTTP receives one webhook delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	c := r.c
	rec := c.begin(req.Context())
	defer c.finish(req.Context(), &rec)
	if r.closed.Load() && req.Method == http.MethodPost {
		c.reject(w, &rec, ErrShuttingDown)
		return
	}
	adm, ok := c.admit(w, req, &rec)
	if !ok {
		return
	}
	ctx, cancel := c.ackCtx(&adm)
	defer cancel()
	if err := r.q.Enqueue(ctx, adm.ev); err != nil {
		c.release(&adm)
		c.reject(w, &rec, err)
		return
	}
	c.commit(&adm)
	rec.outcome = "accepted"
	c.cfg.hooks.accepted(adm.ev)
	writeAccepted(w)
	rec.status = http.StatusOK
}

// writeAccepted answers 200 with an empty body and no header of its own
// (net/http adds Content-Length: 0). The status is the whole ack: every
// sender reads only that, and a body would cost the server a chunk write
// and a content sniff, and the client a body read, on every delivery;
// leaving it out gave the loopback load test about 7% more requests per
// second at 1 KiB. Rejections go through writeText, with a reason.
func writeAccepted(w http.ResponseWriter) {
	w.WriteHeader(http.StatusOK)
}

// core is the part of the pipeline that Receiver and Middleware share:
// everything up to and including the dedupe reservation.
type core struct {
	cfg   *config
	v     Verifier
	store dedupe.Store // nil: no dedupe
	local dedupe.Store // fallback when store fails; nil when fail-closed or store is local already
	// bounded is set when a store or queue call may block (a user's
	// Store or Queue), so the ack path needs a deadline. The in-memory
	// store and queue never block, and a timer per request would only
	// cost time.
	bounded bool

	tokenPrefix string
	// release: events carry their DedupeKeys, to be released when they
	// are dead-lettered (a Receiver without WithKeepDedupeOnDeadLetter;
	// never Middleware, which has no queue).
	releaseDead bool
	seq         atomic.Uint64
	// tokens is the current batch of reservation tokens; used only when
	// batchTokens is set (the in-memory store, which keeps a hash of a
	// token, never the string).
	tokens      atomic.Pointer[tokenBatch]
	batchTokens bool

	// once is set when the queue reserves and enqueues in one atomic
	// step with store (see atomic.go); nil otherwise. mem is once too
	// when that is the in-memory pair, which needs no reservation token.
	once AtomicQueue
	mem  *memoryOnce

	// allow is the Allow header: POST, plus the methods a verifier
	// answers handshakes on (Meta, Dropbox and Okta verify by GET).
	allow string
	get   bool
	// url is false when the verifier said it never reads
	// verify.Request.URL (see URLReader): building it cost an allocation.
	url bool
	// tls is set when deliveries must arrive over TLS (a shared-token
	// verifier, or WithRequireTLS); name is the verifier's Name, if any.
	tls  bool
	name string
}

// URLReader is implemented by verifiers that can say whether they read
// [verify.Request.URL] (to check a signature over it, or to read a
// handshake's query). The receiver and the middleware skip building the
// URL for a verifier whose ReadsURL returns false, which saves an
// allocation per request; a verifier that does not implement URLReader is
// always given the URL. ReadsURL is called once, when the receiver or
// middleware is built.
type URLReader interface {
	ReadsURL() bool
}

// MethodLister is implemented by verifiers that accept methods besides
// POST, such as a GET verification challenge. The receiver and the
// middleware pass requests with those methods to Verify, which must answer
// them with a [verify.Reply]: they are never enqueued.
type MethodLister interface {
	Methods() []string
}

// allowedMethods returns the Allow header value for v and whether v
// takes GET requests.
func allowedMethods(v Verifier) (allow string, get bool) {
	allow = http.MethodPost
	ml, ok := v.(MethodLister)
	if !ok {
		return allow, false
	}
	for _, m := range ml.Methods() {
		switch m {
		case http.MethodGet:
			get = true
			allow += ", " + m
		}
	}
	return allow, get
}

func newCore(v Verifier, cfg *config) *core {
	c := &core{cfg: cfg, v: v, once: atomicQueue(cfg), url: true}
	c.allow, c.get = allowedMethods(v)
	if ur, ok := v.(URLReader); ok {
		c.url = ur.ReadsURL()
	}
	c.transportPolicy(v)
	if cfg.dedupe {
		if cfg.store == nil {
			c.store = newMemoryStore(cfg)
			c.batchTokens = true
		} else {
			c.store = cfg.store
			_, local := cfg.store.(*dedupe.Memory)
			c.bounded = !local
			c.batchTokens = local
			if !cfg.failClosed && !local { // a Memory never fails: no fallback for it
				c.local = newMemoryStore(cfg)
			}
		}
	}
	if cfg.queue != nil {
		c.bounded = true
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	c.tokenPrefix = hex.EncodeToString(b[:]) + "-"
	return c
}

// newMemoryStore returns an in-memory store that reads cfg's clock when
// WithClock gave one, and otherwise its own, cheaper monotonic clock.
func newMemoryStore(cfg *config) *dedupe.Memory {
	var opts []dedupe.MemoryOption
	if cfg.customClock {
		opts = []dedupe.MemoryOption{dedupe.WithClock(cfg.clock)}
	}
	m, err := dedupe.NewMemory(opts...)
	if err != nil {
		// An internal invariant, not a configuration error: NewMemory
		// fails only on WithMaxEntries or WithShards, never given here.
		panic("hookguard: default dedupe store: " + err.Error())
	}
	return m
}

// record collects what the one log record of a request says.
type record struct {
	start    time.Time
	provider string
	id       string
	typ      string
	outcome  string
	status   int
	err      error // why it was not accepted, for Hooks.OnAnswered
	secret   int   // index of the matched secret + 1; 0: not verified
}

func (c *core) begin(ctx context.Context) record {
	// Measure only when something will be logged or observed.
	if c.cfg.hooks.OnAnswered != nil || c.cfg.logger.Enabled(ctx, slog.LevelWarn) {
		return record{start: time.Now()}
	}
	return record{}
}

func (c *core) finish(ctx context.Context, rec *record) {
	if c.cfg.hooks.OnAnswered != nil {
		c.answered(ctx, rec)
	}
	level := slog.LevelInfo
	if rec.status >= 400 {
		level = slog.LevelWarn
	}
	l := c.cfg.logger
	if rec.start.IsZero() || !l.Enabled(ctx, level) {
		return
	}
	l.LogAttrs(ctx, level, "hookguard: webhook",
		slog.String("provider", rec.provider),
		slog.String("event_id", rec.id),
		slog.String("type", rec.typ),
		slog.String("outcome", rec.outcome),
		slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(rec.start)))
}

// reject answers one of the pipeline's own errors.
func (c *core) reject(w http.ResponseWriter, rec *record, err error) {
	status := statusOf(err)
	switch status {
	case http.StatusServiceUnavailable, http.StatusConflict:
		w.Header().Set("Retry-After", retryAfterValue(int64(math.Ceil(c.cfg.retryAfter.Seconds()))))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", c.allow)
	case http.StatusRequestEntityTooLarge:
		w.Header().Set("Connection", "close")
	}
	c.fail(w, rec, status, reasonOf(err), err)
}

func (c *core) fail(w http.ResponseWriter, rec *record, status int, reason string, err error) {
	rec.status, rec.err = status, err
	if rec.outcome == "" {
		rec.outcome = "rejected"
	}
	writeText(w, status, reason)
	c.cfg.hooks.rejected(rec.provider, status, err)
}

// admission is a verified request that passed dedupe: its event and the
// reservations to commit or release.
type admission struct {
	ev    Event
	ctx   context.Context // the request's context: its values, for logs and bounded steps
	token string
	held  [2]held
	n     int
}

type held struct {
	key   string
	store dedupe.Store
}

// admit runs the pipeline up to the dedupe reservation. When it returns
// false it has answered the request already.
func (c *core) admit(w http.ResponseWriter, r *http.Request, rec *record) (admission, bool) {
	if r.Method != http.MethodPost && (r.Method != http.MethodGet || !c.get) {
		c.reject(w, rec, ErrMethodNotAllowed)
		return admission{}, false
	}
	now := c.cfg.clock()
	if c.cfg.limit.global != nil || c.cfg.limit.perIP != nil {
		if d := c.cfg.limit.allow(clientIP(r, c.cfg.proxies), now); d > 0 {
			secs := int64(math.MaxInt32)
			if d < time.Duration(math.MaxInt32)*time.Second {
				secs = int64(math.Ceil(d.Seconds()))
			}
			w.Header().Set("Retry-After", retryAfterValue(secs))
			c.fail(w, rec, http.StatusTooManyRequests, ErrRateLimited.Error(), ErrRateLimited)
			return admission{}, false
		}
	}
	if c.tls && !c.overTLS(r) {
		if rec.provider == "" {
			rec.provider = c.name
		}
		c.reject(w, rec, ErrInsecureTransport)
		return admission{}, false
	}
	if encoded(r.Header) {
		w.Header().Set("Connection", "close")
		c.reject(w, rec, ErrUnsupportedEncoding)
		linger(w, r)
		return admission{}, false
	}
	body, err := readBody(r, c.cfg.maxBody)
	if err != nil {
		c.reject(w, rec, err)
		if errors.Is(err, ErrBodyTooLarge) {
			linger(w, r)
		}
		return admission{}, false
	}
	vr := verify.Request{Method: r.Method, Header: r.Header, Body: body}
	if c.url {
		vr.URL = c.publicURL(r)
	}
	d, err := c.v.Verify(vr, now)
	rec.provider = d.Provider
	if err != nil {
		var ve *verify.Error
		if rec.provider == "" && errors.As(err, &ve) {
			rec.provider = ve.Provider
		}
		status, reason := verifyFailure(err)
		c.fail(w, rec, status, reason, fmt.Errorf("%w: %w", ErrVerification, err))
		return admission{}, false
	}
	rec.id, rec.typ, rec.secret = d.ID, d.Type, d.SecretIndex+1
	if d.Reply != nil {
		c.reply(w, rec, d)
		return admission{}, false
	}
	if r.Method != http.MethodPost {
		// A GET that verified but asked for no reply is not a handshake
		// the verifier knows: events arrive only by POST.
		c.reject(w, rec, ErrMethodNotAllowed)
		return admission{}, false
	}
	adm := admission{
		ev: Event{
			Provider:   d.Provider,
			ID:         d.ID,
			Type:       d.Type,
			Timestamp:  d.Timestamp,
			ReceivedAt: now,
			Body:       body,
			Header:     safeHeader(r.Header),
		},
		ctx: r.Context(),
	}
	if c.store == nil {
		return adm, true
	}
	if !c.reserve(w, rec, &adm, d) {
		return admission{}, false
	}
	return adm, true
}

// reply answers a provider handshake. It touches no store and enqueues
// nothing.
func (c *core) reply(w http.ResponseWriter, rec *record, d verify.Delivery) {
	status := d.Reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	ct := d.Reply.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(d.Reply.Body)
	rec.status, rec.outcome = status, "handshake"
	c.cfg.hooks.handshake(d.Provider)
}

// dedupeKeys returns the delivery's dedupe keys, each
// "provider:endpoint:kind:value" with the endpoint empty when none is set:
// kind "id" and the event ID, and, when digest is set, kind "digest" and
// the hex digest. Neither a provider name nor an endpoint holds ':', so
// the kind always sits after the second colon and a key of one kind can
// never equal a key of the other, nor an unscoped key a scoped one,
// whatever ID a sender signs (an ID "digest:<hex>" stays an ID). All of
// them are cut out of one string: one allocation per delivery, not one
// per key. (A store that kept one key would keep the other's bytes too;
// the in-memory store keeps only hashes.)
func (c *core) dedupeKeys(provider, id string, digest []byte) (keys [2]string, n int) {
	prefix := len(provider) + 1 + len(c.cfg.endpoint) + 1
	size := 0
	if id != "" {
		size += prefix + len(keyKindID) + len(id)
	}
	if digest != nil {
		size += prefix + len(keyKindDigest) + len(digest)
	}
	var b strings.Builder
	b.Grow(size)
	key := func(kind string, value []byte, s string) {
		b.WriteString(provider)
		b.WriteByte(':')
		b.WriteString(c.cfg.endpoint)
		b.WriteByte(':')
		b.WriteString(kind)
		b.Write(value)
		b.WriteString(s)
	}
	var ends [2]int
	if id != "" {
		key(keyKindID, nil, id)
		ends[n] = b.Len()
		n++
	}
	if digest != nil {
		key(keyKindDigest, digest, "")
		ends[n] = b.Len()
		n++
	}
	all, start := b.String(), 0
	for i := range n {
		keys[i], start = all[start:ends[i]], ends[i]
	}
	return keys, n
}

// The kinds of dedupe key, with the colon that ends them.
const (
	keyKindID     = "id:"
	keyKindDigest = "digest:"
)

// token returns a reservation token unique to this receiver: a random
// per-process prefix and a counter. It allocates once; prefix +
// strconv.FormatUint would allocate twice.
func (c *core) token() string {
	if c.batchTokens {
		return c.batchToken()
	}
	var num [13]byte // a uint64 in base 36 has at most 13 digits
	digits := strconv.AppendUint(num[:0], c.seq.Add(1), 36)
	var b strings.Builder
	b.Grow(len(c.tokenPrefix) + len(digits))
	b.WriteString(c.tokenPrefix)
	b.Write(digits)
	return b.String()
}

// tokenBatch holds the reservation tokens for counter values first to
// first+tokenBatchSize-1, back to back in one string, each
// tokenPrefix + 13 base-36 digits.
type tokenBatch struct {
	first uint64
	s     string
}

const (
	tokenBatchSize = 64
	tokenDigits    = 13 // a uint64 in base 36 has at most 13 digits
)

// batchToken returns a unique token sliced out of a batch: one allocation
// per 64 requests instead of one per request. Only for a store that keeps
// no token string, since a kept token would pin its whole batch.
func (c *core) batchToken() string {
	n := c.seq.Add(1)
	b := c.tokens.Load()
	if b == nil || n < b.first || n-b.first >= tokenBatchSize {
		b = c.newTokenBatch(n &^ (tokenBatchSize - 1))
	}
	size := len(c.tokenPrefix) + tokenDigits
	i := int(n-b.first) * size
	return b.s[i : i+size]
}

// newTokenBatch builds the batch that starts at first and makes it current
// unless a later one is current already. Two requests may build the same
// batch at once; both copies hold the same tokens.
func (c *core) newTokenBatch(first uint64) *tokenBatch {
	size := len(c.tokenPrefix) + tokenDigits
	var sb strings.Builder // its String does not copy, as string(buf) would
	sb.Grow(size * tokenBatchSize)
	for i := range uint64(tokenBatchSize) {
		sb.WriteString(c.tokenPrefix)
		var num [tokenDigits]byte
		d := strconv.AppendUint(num[:0], first+i, 36)
		for range tokenDigits - len(d) {
			sb.WriteByte('0')
		}
		sb.Write(d)
	}
	b := &tokenBatch{first: first, s: sb.String()}
	for {
		cur := c.tokens.Load()
		if cur != nil && cur.first >= first {
			return b
		}
		if c.tokens.CompareAndSwap(cur, b) {
			return b
		}
	}
}

// reserve takes the dedupe reservations of one delivery: its ID and, for
// a replayable scheme, the digest of its signed content. It answers and
// returns false for a duplicate, a pending copy or a failed store.
func (c *core) reserve(w http.ResponseWriter, rec *record, adm *admission, d verify.Delivery) bool {
	if d.ID == "" {
		c.cfg.logger.LogAttrs(adm.ctx, slog.LevelDebug, "hookguard: event has no ID; enqueued without dedupe by ID",
			slog.String("provider", d.Provider), slog.String("type", d.Type))
	}
	var digest []byte
	var hx [2 * len(d.Digest)]byte // on the stack: hex.EncodeToString would allocate once more
	if c.cfg.contentDedupe && d.Digest != ([32]byte{}) {
		hex.Encode(hx[:], d.Digest[:])
		digest = hx[:]
	}
	keys, n := c.dedupeKeys(d.Provider, d.ID, digest)
	if n == 0 {
		return true
	}
	if c.releaseDead {
		adm.ev.rel = c
		if c.mem == nil {
			// A copy, so that keys stays on the stack (Middleware, which
			// releases nothing, allocates nothing for it). The in-memory
			// path copies them into its queue's job instead.
			adm.ev.DedupeKeys = append(make([]string, 0, n), keys[:n]...)
		}
	}
	// Atomic path (atomic.go): one step reserves the keys and enqueues,
	// in place of reserve, Enqueue and commit, and answers the request.
	// It needs no reservation token.
	if c.once != nil {
		c.enqueueOnce(w, rec, adm, keys[0], keys[1], n)
		return false
	}
	adm.token = c.token()
	ctx, cancel := c.ackCtx(adm)
	defer cancel()
	for _, key := range keys[:n] {
		st, store, err := c.reserveKey(ctx, key, adm.token)
		if err != nil {
			c.release(adm)
			c.reject(w, rec, ErrStoreUnavailable)
			return false
		}
		switch st {
		case dedupe.Reserved:
			adm.held[adm.n] = held{key: key, store: store}
			adm.n++
		case dedupe.Seen:
			c.release(adm)
			rec.outcome, rec.status = "duplicate", http.StatusOK
			c.cfg.hooks.duplicate(adm.ev)
			w.Header().Set(DuplicateHeader, "true")
			writeText(w, http.StatusOK, "duplicate")
			return false
		default: // Pending, or a status this version does not know
			c.release(adm)
			rec.outcome = "pending"
			c.reject(w, rec, ErrDeliveryPending)
			return false
		}
	}
	return true
}

// reserveKey reserves key in the store, falling back to the local store
// when the store fails and the receiver is not fail-closed.
func (c *core) reserveKey(ctx context.Context, key, token string) (dedupe.Status, dedupe.Store, error) {
	st, err := c.store.Reserve(ctx, key, token, c.cfg.pendingTTL)
	if err == nil {
		return st, c.store, nil
	}
	c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "hookguard: dedupe store failed", slog.Any("error", err))
	if c.local == nil {
		return 0, nil, err
	}
	c.cfg.hooks.storeFallback(err)
	// The local store answers at once; do not let an ack deadline that
	// the failed store used up fail it too.
	st, lerr := c.local.Reserve(context.WithoutCancel(ctx), key, token, c.cfg.pendingTTL)
	if lerr != nil {
		return 0, nil, errors.Join(err, lerr)
	}
	return st, c.local, nil
}

// ackCtx bounds one blocking step of the ack path (reserve, enqueue,
// commit or release) by the ack timeout. Each step gets its own bound, so
// that a release still runs when a slow enqueue used up the time. The
// client going away cancels none of them: the request's values are kept,
// its cancellation is not.
//
// The in-memory store and queue never block and read no context values,
// so they get context.Background(): no timer, and no context allocated
// per request.
func (c *core) ackCtx(adm *admission) (context.Context, context.CancelFunc) {
	if !c.bounded {
		return context.Background(), noCancel
	}
	return context.WithTimeout(context.WithoutCancel(adm.ctx), c.cfg.ackTimeout)
}

func noCancel() {}

// commit marks the delivery's keys seen. A failure is logged: the event is
// enqueued already, and at worst a later copy is taken in again.
func (c *core) commit(adm *admission) {
	if adm.n == 0 {
		return
	}
	ctx, cancel := c.ackCtx(adm)
	defer cancel()
	for _, h := range adm.held[:adm.n] {
		if err := h.store.Commit(ctx, h.key, adm.token, c.cfg.dedupeTTL); err != nil {
			if errors.Is(err, dedupe.ErrNotOwner) {
				// The reservation is gone: its pending TTL ended, or the
				// event was dead-lettered and released already (a handler
				// that gave up before the commit). Either way the key is
				// free and must stay free: recording it in the local
				// store would block the redelivery that a release lets
				// through.
				c.cfg.logger.LogAttrs(adm.ctx, slog.LevelDebug, "hookguard: dedupe reservation gone before its commit; a later copy of this event will be taken in",
					slog.String("provider", adm.ev.Provider), slog.String("event_id", adm.ev.ID))
				continue
			}
			c.cfg.logger.LogAttrs(adm.ctx, slog.LevelWarn, "hookguard: dedupe commit failed; a later copy of this event may be taken in again",
				slog.String("provider", adm.ev.Provider), slog.String("event_id", adm.ev.ID), slog.Any("error", err))
			if h.store != c.local && c.local != nil {
				c.cfg.hooks.storeFallback(err)
				lctx := context.WithoutCancel(ctx)
				if st, lerr := c.local.Reserve(lctx, h.key, adm.token, c.cfg.pendingTTL); lerr == nil && st == dedupe.Reserved {
					_ = c.local.Commit(lctx, h.key, adm.token, c.cfg.dedupeTTL)
				}
			}
		}
	}
	adm.n = 0
}

// forget deletes keys in the receiver's store and in its local fallback
// store, where a failing store may have left them.
func (c *core) forget(ctx context.Context, e *Event) error {
	if c.store == nil || len(e.DedupeKeys) == 0 {
		return nil
	}
	var errs []error
	for _, key := range e.DedupeKeys {
		if err := c.store.Forget(ctx, key); err != nil {
			errs = append(errs, err)
		}
		if c.local != nil {
			_ = c.local.Forget(ctx, key) // in memory: never fails on a non-empty key
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "hookguard: could not release the dedupe records of an event; its redelivery is answered as a duplicate until they expire",
			slog.String("provider", e.Provider), slog.String("event_id", e.ID), slog.Any("error", err))
		return fmt.Errorf("hookguard: release dedupe records of %s event %q: %w", e.Provider, e.ID, err)
	}
	return nil
}

// deadLettered releases a dead letter's dedupe records; a MemoryQueue
// calls it before its dead-letter hooks, so that by the time they run a
// redelivery is taken in.
func (c *core) deadLettered(e *Event) {
	ctx, cancel := context.Background(), noCancel
	if c.bounded {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.ackTimeout)
	}
	defer cancel()
	_ = c.forget(ctx, e) // logged
}

// release frees the delivery's reservations so the sender's retry gets
// through.
func (c *core) release(adm *admission) {
	if adm.n == 0 {
		return
	}
	ctx, cancel := c.ackCtx(adm)
	defer cancel()
	for _, h := range adm.held[:adm.n] {
		if err := h.store.Release(ctx, h.key, adm.token); err != nil {
			c.cfg.logger.LogAttrs(adm.ctx, slog.LevelWarn, "hookguard: dedupe release failed; retries of this event wait for the pending TTL",
				slog.String("provider", adm.ev.Provider), slog.String("event_id", adm.ev.ID), slog.Any("error", err))
		}
	}
	adm.n = 0
}

// publicURL is the absolute URL the sender called.
func (c *core) publicURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	if c.cfg.publicURL != "" {
		return c.cfg.publicURL + uri
	}
	return "https://" + r.Host + uri
}

// encoded reports whether h declares a Content-Encoding other than
// identity. The body would then not be the bytes the sender signed, and
// decompressing it would let a small request inflate in memory.
func encoded(h http.Header) bool {
	for _, v := range h["Content-Encoding"] { // the canonical key: no allocation, no case folding
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return true
			}
		}
	}
	return false
}
