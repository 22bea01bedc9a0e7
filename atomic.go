package hookguard

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/dedupe"
)

// AtomicQueue is a [Queue] that keeps its own dedupe records, in the same
// backend as its events, and can take a delivery's dedupe reservation and
// store its event in one atomic step. Package rediskit's Queue is one: a
// single Redis script checks the keys, adds the event to the stream and
// records the keys.
//
// A [Receiver] given such a queue with [WithQueue], and with [WithStore]
// a store for which SharesStore reports true, calls EnqueueOnce instead of
// Reserve, Enqueue and Commit: one round trip per accepted delivery, and no
// ID is ever recorded without its event being stored (nor the other way
// round). With any other store it uses the queue as a plain Queue.
//
// On this path a queue error always answers 503: there is no local
// fallback, since an event that cannot be stored must not be acknowledged.
type AtomicQueue interface {
	Queue
	// SharesStore reports whether s is the dedupe store whose records
	// EnqueueOnce reads and writes.
	SharesStore(s dedupe.Store) bool
	// EnqueueOnce checks keys and, only when none of them is held or
	// seen, stores e and records every key as seen for ttl; it then
	// returns [dedupe.Reserved]. When a key is seen it stores
	// nothing and returns [dedupe.Seen]; when a key is held by a pending
	// reservation (another receiver that uses the store without this
	// queue) it stores nothing and returns [dedupe.Pending].
	//
	// An error means the event may or may not have been stored (a reply
	// lost on the network); if it was, its keys were recorded with it, so
	// the sender's retry is answered as a duplicate and the event is
	// handled once.
	EnqueueOnce(ctx context.Context, e Event, keys []string, ttl time.Duration) (dedupe.Status, error)
}

// atomicQueue returns the receiver's queue when it can reserve and enqueue
// in one step with the receiver's store, and nil otherwise.
func atomicQueue(cfg *config) AtomicQueue {
	aq, ok := cfg.queue.(AtomicQueue)
	if !ok || cfg.store == nil || !aq.SharesStore(cfg.store) {
		return nil
	}
	return aq
}

// memoryOnce is the atomic path of an in-memory store and a MemoryQueue:
// [dedupe.Memory.Once] checks the keys, puts the event into the queue and
// records the keys as seen in one locked round per key, where Reserve,
// Enqueue and Commit took three, and it needs no reservation token.
type memoryOnce struct {
	*MemoryQueue
	m *dedupe.Memory
}

// memoryAtomic returns the atomic path for a store and queue that are both
// in memory, or nil. A queue that waits for room (WithEnqueueTimeout) is
// left to the plain path: Once would hold the keys' shards while it waits.
func memoryAtomic(store dedupe.Store, q Queue) *memoryOnce {
	m, ok := store.(*dedupe.Memory)
	mq, ok2 := q.(*MemoryQueue)
	if !ok || !ok2 || mq.cfg.enqueueTimeout > 0 {
		return nil
	}
	return &memoryOnce{MemoryQueue: mq, m: m}
}

func (o *memoryOnce) SharesStore(s dedupe.Store) bool { return s == dedupe.Store(o.m) }

// EnqueueOnce implements AtomicQueue.
func (o *memoryOnce) EnqueueOnce(ctx context.Context, e Event, keys []string, ttl time.Duration) (dedupe.Status, error) {
	st, err := o.m.Once(ctx, keys, ttl, func() error { return o.enqueue(ctx, e, keys) })
	if err == nil && st == dedupe.Reserved {
		o.cfg.hooks.enqueued(e) // outside the store's and the queue's locks
	}
	return st, err
}

// enqueueOnce takes the atomic path for a verified delivery with dedupe
// keys, and answers the request: 200 (accepted or duplicate), 409 or 503.
// The n keys (1 or 2) come as values, so that the caller's array does not
// escape to the heap.
func (c *core) enqueueOnce(w http.ResponseWriter, rec *record, adm *admission, k0, k1 string, n int) {
	var st dedupe.Status
	var err error
	ctx := context.Background()
	if c.mem != nil {
		// A concrete call: the keys stay on the stack. The in-memory
		// pair never waits (memoryAtomic requires it), so it gets no
		// deadline, even when the receiver was given its MemoryQueue and
		// bounds the steps of other queues.
		keys := [2]string{k0, k1}
		st, err = c.mem.EnqueueOnce(ctx, adm.ev, keys[:n], c.cfg.dedupeTTL)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = c.ackCtx(adm)
		defer cancel()
		st, err = c.once.EnqueueOnce(ctx, adm.ev, []string{k0, k1}[:n], c.cfg.dedupeTTL)
	}
	switch {
	case err != nil:
		if c.mem == nil { // the in-memory queue's refusals are the answer's reason already
			c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "hookguard: atomic enqueue failed",
				slog.String("provider", adm.ev.Provider), slog.String("event_id", adm.ev.ID), slog.Any("error", err))
		}
		c.reject(w, rec, err)
	case st == dedupe.Reserved:
		rec.outcome = "accepted"
		c.cfg.hooks.accepted(adm.ev)
		writeAccepted(w)
		rec.status = http.StatusOK
	case st == dedupe.Seen:
		rec.outcome, rec.status = "duplicate", http.StatusOK
		c.cfg.hooks.duplicate(adm.ev)
		w.Header().Set(DuplicateHeader, "true")
		writeText(w, http.StatusOK, "duplicate")
	default:
		rec.outcome = "pending"
		c.reject(w, rec, ErrDeliveryPending)
	}
}
