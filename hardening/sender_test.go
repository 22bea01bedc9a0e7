package hardening

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Delivery is one event a [Sender] must deliver.
type Delivery struct {
	// ID is the event ID; the Sender keys its report by it.
	ID string
	// Body is the exact body to send.
	Body []byte
}

// SignFunc returns the headers of one attempt to deliver d, signed at now.
// Real senders sign every attempt afresh: Stripe and Standard Webhooks send
// a new timestamp with each retry.
type SignFunc func(d Delivery, attempt int, now time.Time) (http.Header, error)

// Sender is a scripted webhook sender that behaves the way real senders do
// (see the sender table of the reliability plan): it delivers events out of
// order, from several connections at once, retries every answer that is not
// 2xx (and every transport error or timeout) with exponential backoff and
// full jitter, optionally honours Retry-After, and can deliver an event it
// was already answered 2xx for once more, as a sender does when the answer
// was lost. Time is compressed: backoffs are milliseconds, not hours.
//
// A Sender is configured by its fields and used once per [Sender.Run].
type Sender struct {
	// URL receives every delivery by POST.
	URL string
	// Sign signs each attempt. Required.
	Sign SignFunc
	// Client sends the requests; nil means a client with Timeout.
	Client *http.Client
	// Workers is how many requests are in flight at most (default 16).
	Workers int
	// MaxAttempts is how often one event is tried before the sender
	// gives up on it (default 8).
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff before
	// retry n: a random wait in [0, min(MaxBackoff, BaseBackoff·2^(n-1))]
	// (defaults 10 ms and 1 s).
	BaseBackoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 3 s, Slack's budget); a timed
	// out attempt is retried.
	Timeout time.Duration
	// RetryAfterScale, when positive, makes the sender wait at least
	// Retry-After seconds times this factor before retrying a 429 or 503
	// that carried the header (Standard Webhooks senders honour it).
	RetryAfterScale float64
	// Redeliver is the probability, in [0, 1], that an event answered 2xx
	// is delivered once more, as if the answer had been lost.
	Redeliver float64
	// Seed makes the order, the jitter and the redeliveries repeatable.
	Seed uint64
}

// Outcome is what happened to one event.
type Outcome struct {
	// ID is the event ID.
	ID string
	// Acked is true once any attempt was answered 2xx.
	Acked bool
	// Attempts counts every request sent for the event, redeliveries
	// included.
	Attempts int
	// Statuses lists the status of every attempt in order, 0 for a
	// transport error or timeout.
	Statuses []int
}

// Report is the result of [Sender.Run].
type Report struct {
	// Outcomes holds one entry per event ID.
	Outcomes map[string]*Outcome
	// Requests counts every request sent.
	Requests int
	// ByStatus counts answers per status; 0 counts transport errors.
	ByStatus map[int]int
}

// Acked returns the IDs of the events that were answered 2xx at least
// once, sorted.
func (r *Report) Acked() []string { return r.ids(true) }

// Owed returns the IDs of the events the sender gave up on without ever
// being answered 2xx, sorted: the sender still owes the receiver these.
func (r *Report) Owed() []string { return r.ids(false) }

func (r *Report) ids(acked bool) []string {
	var out []string
	for id, o := range r.Outcomes {
		if o.Acked == acked {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// job is one attempt to send.
type job struct {
	d       *Delivery
	due     time.Time
	attempt int  // 1-based attempt of this delivery chain
	extra   bool // a redelivery of an acknowledged event
}

type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}

// Run delivers every event and returns when each was answered 2xx or given
// up on, or when ctx ends (then with ctx's error and the report so far).
// Event IDs must be unique.
func (s *Sender) Run(ctx context.Context, ds []Delivery) (*Report, error) {
	if s.Sign == nil {
		return nil, errors.New("hardening: Sender.Sign is nil")
	}
	cfg := *s
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 10 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout}
	}
	rep := &Report{Outcomes: make(map[string]*Outcome, len(ds)), ByStatus: make(map[int]int)}
	for i := range ds {
		if _, dup := rep.Outcomes[ds[i].ID]; dup {
			return nil, fmt.Errorf("hardening: event ID %q given twice", ds[i].ID)
		}
		rep.Outcomes[ds[i].ID] = &Outcome{ID: ds[i].ID}
	}
	if len(ds) == 0 {
		return rep, nil
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	var mu sync.Mutex // guards rep and rng

	order := make([]*job, len(ds))
	now := time.Now()
	for i := range ds {
		order[i] = &job{d: &ds[i], due: now, attempt: 1}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *job)
	retry := make(chan *job, cfg.Workers)
	live := len(order) // chains not yet ended, guarded by mu
	var wg sync.WaitGroup

	// The scheduler owns the heap of jobs waiting for their due time; it
	// ends when ctx ends, which the worker that ends the last chain
	// brings about.
	wg.Go(func() {
		h := jobHeap(order)
		heap.Init(&h)
		timer := time.NewTimer(0)
		defer timer.Stop()
		for {
			var out chan *job
			var next *job
			if len(h) > 0 {
				if d := time.Until(h[0].due); d <= 0 {
					out, next = jobs, h[0]
				} else {
					timer.Reset(d)
				}
			}
			select {
			case out <- next:
				heap.Pop(&h)
			case j := <-retry:
				heap.Push(&h, j)
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
	})

	backoff := func(attempt int, retryAfter time.Duration) time.Duration {
		ceil := cfg.BaseBackoff << min(attempt-1, 30)
		if ceil > cfg.MaxBackoff || ceil <= 0 {
			ceil = cfg.MaxBackoff
		}
		mu.Lock()
		d := time.Duration(rng.Int64N(int64(ceil) + 1))
		mu.Unlock()
		return max(d, retryAfter)
	}

	for range cfg.Workers {
		wg.Go(func() {
			for {
				var j *job
				select {
				case j = <-jobs:
				case <-ctx.Done():
					return
				}
				status, retryAfter := s.attempt(ctx, client, cfg, j)
				mu.Lock()
				o := rep.Outcomes[j.d.ID]
				o.Attempts++
				o.Statuses = append(o.Statuses, status)
				rep.Requests++
				rep.ByStatus[status]++
				ok := status >= 200 && status < 300
				if ok {
					o.Acked = true
				}
				again := !ok && j.attempt < cfg.MaxAttempts && ctx.Err() == nil
				redeliver := ok && !j.extra && cfg.Redeliver > 0 && rng.Float64() < cfg.Redeliver
				if redeliver {
					live++ // a new chain: the redelivery of an acked event
				}
				if !again {
					live--
				}
				last := live == 0
				mu.Unlock()

				var next []*job
				if again {
					if cfg.RetryAfterScale <= 0 {
						retryAfter = 0
					} else {
						retryAfter = time.Duration(float64(retryAfter) * cfg.RetryAfterScale)
					}
					next = append(next, &job{d: j.d, attempt: j.attempt + 1, extra: j.extra,
						due: time.Now().Add(backoff(j.attempt, retryAfter))})
				}
				if redeliver {
					next = append(next, &job{d: j.d, attempt: 1, extra: true,
						due: time.Now().Add(backoff(1, 0))})
				}
				for _, n := range next {
					select {
					case retry <- n:
					case <-ctx.Done():
						return
					}
				}
				if last {
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	return rep, parent.Err()
}

// attempt sends one request and returns its status (0 on a transport
// error) and its Retry-After, if any.
func (s *Sender) attempt(ctx context.Context, client *http.Client, cfg Sender, j *job) (int, time.Duration) {
	h, err := cfg.Sign(*j.d, j.attempt, time.Now())
	if err != nil {
		return 0, 0
	}
	actx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, cfg.URL, bytes.NewReader(j.d.Body))
	if err != nil {
		return 0, 0
	}
	for k, vs := range h {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	var ra time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		ra = time.Duration(secs) * time.Second
	}
	return resp.StatusCode, ra
}
