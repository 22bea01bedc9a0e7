//go:build chaos

package hardening

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testkit"
)

// deliverUnderChaos runs snd over ds within timeout, waits for the chaos
// goroutines (kills, restarts) to finish, and fails the test for any event
// the sender never got acknowledged. It returns the report and how long
// the run took.
func deliverUnderChaos(t *testing.T, snd *Sender, ds []Delivery, chaos *sync.WaitGroup, timeout time.Duration) (*Report, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	rep, err := snd.Run(ctx, ds)
	chaos.Wait()
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if owed := rep.Owed(); len(owed) != 0 {
		t.Errorf("%d events never acknowledged: %v", len(owed), owed[:min(5, len(owed))])
	}
	return rep, elapsed
}

// lostAndDuplicates waits until every acknowledged event was handled, or
// the handler made no progress for stall, or limit passed; what is missing
// then is lost. It returns the lost count and the handler calls beyond
// the first per event.
func lostAndDuplicates(h *testkit.Counter, acked []string, limit, stall time.Duration) (lost, dups int) {
	deadline := time.Now().Add(limit)
	progress, progressAt := -1, time.Now()
	for {
		lost = 0
		for _, id := range acked {
			if h.Times(id) == 0 {
				lost++
			}
		}
		if lost != progress {
			progress, progressAt = lost, time.Now()
		}
		if lost == 0 || time.Now().After(deadline) || time.Since(progressAt) > stall {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range h.Snapshot() {
		dups += c - 1
	}
	return lost, dups
}
