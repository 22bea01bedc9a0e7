package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookguard/hookguard/dedupe"
)

// Example shows the life of one event that Stripe delivers several times:
// the first enqueue fails and is released, the sender's retry is taken in
// and committed, and a later duplicate is recognised.
func Example() {
	ctx := context.Background()
	store, err := dedupe.NewMemory(dedupe.WithMaxEntries(100_000))
	if err != nil {
		fmt.Println(err)
		return
	}
	const key = "stripe:evt_1NqX3f2eZvKYlo2CjZ1b2c3d"

	// Delivery 1 reserves the event ID before enqueueing it.
	st, _ := store.Reserve(ctx, key, "delivery-1", 30*time.Second)
	fmt.Println("delivery 1:", st)

	// A copy arrives while delivery 1 is still enqueueing: answer 409.
	st, _ = store.Reserve(ctx, key, "delivery-2", 30*time.Second)
	fmt.Println("delivery 2:", st)

	// Delivery 1's enqueue failed: release, so the sender's retry gets in.
	_ = store.Release(ctx, key, "delivery-1")

	// The retry reserves, enqueues and commits for the sender's retry horizon.
	st, _ = store.Reserve(ctx, key, "delivery-3", 30*time.Second)
	fmt.Println("delivery 3:", st)
	if err := store.Commit(ctx, key, "delivery-3", 72*time.Hour); err != nil {
		fmt.Println("commit:", err)
	}

	// Any later copy is a duplicate: answer 200 and do nothing.
	st, _ = store.Reserve(ctx, key, "delivery-4", 30*time.Second)
	fmt.Println("delivery 4:", st)

	// A delivery that no longer holds the key cannot confirm it.
	fmt.Println("late commit:", store.Commit(ctx, key, "delivery-1", 72*time.Hour))
	// Output:
	// delivery 1: reserved
	// delivery 2: pending
	// delivery 3: reserved
	// delivery 4: seen
	// late commit: dedupe: reservation is not held by this token
}

// ExampleMemory_Once records a delivery's keys and stores its event in
// one step: no copy can see the keys before the event is stored, and a
// failed store records nothing, so the sender's retry gets in.
func ExampleMemory_Once() {
	ctx := context.Background()
	store, err := dedupe.NewMemory()
	if err != nil {
		fmt.Println(err)
		return
	}
	keys := []string{"github:4f2c9e1a-delivery", "github:digest:9b74c9897bac770ffc029102a200c5de"}
	var queue []string
	enqueue := func(full bool) func() error {
		return func() error {
			if full {
				return errors.New("queue full")
			}
			queue = append(queue, "event")
			return nil
		}
	}

	_, err = store.Once(ctx, keys, 72*time.Hour, enqueue(true))
	fmt.Println("first try:", err)
	st, _ := store.Once(ctx, keys, 72*time.Hour, enqueue(false))
	fmt.Println("retry:", st)
	st, _ = store.Once(ctx, keys, 72*time.Hour, enqueue(false))
	fmt.Println("copy:", st)
	fmt.Println("queued:", len(queue))
	// Output:
	// first try: queue full
	// retry: reserved
	// copy: seen
	// queued: 1
}

// ExampleNewMemory shows a bound read from configuration: a bad value is an
// error from NewMemory, which names the option, and never a panic.
func ExampleNewMemory() {
	maxEntries := 0 // say, read from an environment variable
	store, err := dedupe.NewMemory(dedupe.WithMaxEntries(maxEntries))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(store.Len())
	// Output:
	// dedupe: invalid option: WithMaxEntries(0): the store must hold at least one record
}
