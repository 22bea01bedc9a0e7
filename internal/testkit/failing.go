package testkit

import (
	"context"
	"errors"
	"sync"

	"github.com/hookguard/hookguard"
)

// DeadEvent is an event that the durable queues' dead-letter tests make
// their handler give up on, and the error it fails with.
type DeadEvent struct {
	Provider, Type, ID, Err string
}

// DeadEvents are those tests' events: two providers, three types, two
// errors, in the order they are dead-lettered.
var DeadEvents = []DeadEvent{
	{"stripe", "invoice.paid", "evt_0", "db timeout"},
	{"github", "push", "evt_1", "bad payload"},
	{"stripe", "invoice.paid", "evt_2", "bad payload"},
	{"github", "issues", "evt_3", "db timeout"},
	{"stripe", "charge.failed", "evt_4", "db timeout"},
}

// ErrUnknownEvent is the error [Failing] fails an event with that is not
// one of [DeadEvents].
var ErrUnknownEvent = errors.New("testkit: handler bug (an event that is not one of DeadEvents)")

// Failing is a real [hookguard.Handler] that fails every event, with its
// [DeadEvent]'s error, until Fix; from then on it records the events it
// handles and sends each one's ID on Calls (buffered for 64).
type Failing struct {
	Calls chan string

	mu      sync.Mutex
	fixed   bool
	handled []hookguard.Event
}

// NewFailing returns a Failing handler, not fixed yet.
func NewFailing() *Failing { return &Failing{Calls: make(chan string, 64)} }

// HandleEvent fails e until Fix, then records it.
func (f *Failing) HandleEvent(_ context.Context, e hookguard.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fixed {
		for _, d := range DeadEvents {
			if d.ID == e.ID {
				return errors.New(d.Err)
			}
		}
		return ErrUnknownEvent
	}
	f.handled = append(f.handled, e)
	f.Calls <- e.ID
	return nil
}

// Fix makes the handler succeed from now on.
func (f *Failing) Fix() { f.mu.Lock(); f.fixed = true; f.mu.Unlock() }

// HandledIDs returns the IDs of the events handled since Fix, in order.
func (f *Failing) HandledIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, e := range f.handled {
		ids = append(ids, e.ID)
	}
	return ids
}
