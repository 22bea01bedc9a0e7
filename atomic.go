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
	// seen, stores e and records every key as seen, held by token, for
	// ttl; it then returns [dedupe.Reserved]. When a key is seen it stores
	// nothing and returns [dedupe.Seen]; when a key is held by a pending
	// reservation (another receiver that uses the store without this
	// queue) it stores nothing and returns [dedupe.Pending].
	//
	// An error means the event may or may not have been stored (a reply
	// lost on the network); if it was, its keys were recorded with it, so
	// the sender's retry is answered as a duplicate and the event is
	// handled once.
	EnqueueOnce(ctx context.Context, e Event, keys []string, token string, ttl time.Duration) (dedupe.Status, error)
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

// enqueueOnce takes the atomic path for a verified delivery with dedupe
// keys, and answers the request: 200 (accepted or duplicate), 409 or 503.
// The n keys (1 or 2) come as values, so that the caller's array does not
// escape to the heap on the common path.
func (c *core) enqueueOnce(w http.ResponseWriter, rec *record, adm *admission, k0, k1 string, n int) {
	keys := []string{k0, k1}[:n]
	ctx, cancel := c.ackCtx(adm)
	defer cancel()
	st, err := c.once.EnqueueOnce(ctx, adm.ev, keys, adm.token, c.cfg.dedupeTTL)
	switch {
	case err != nil:
		c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "hookguard: atomic enqueue failed",
			slog.String("provider", adm.ev.Provider), slog.String("event_id", adm.ev.ID), slog.Any("error", err))
		c.reject(w, rec, err)
	case st == dedupe.Reserved:
		rec.outcome = "accepted"
		c.cfg.hooks.accepted(adm.ev)
		writeText(w, http.StatusOK, "accepted")
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
