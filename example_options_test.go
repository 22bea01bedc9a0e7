package hookguard_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookguard/hookguard"
)

// Every constructor takes hookguard.Option. The options of a queue go to
// NewMemoryQueue, or straight to New for the queue New builds; an option
// given to a constructor it does not apply to is refused by name, with
// where it belongs, and nothing is built.
func Example_options() {
	handle := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })

	q, err := hookguard.NewMemoryQueue(handle, hookguard.WithWorkers(2), hookguard.WithMaxBodySize(1<<20))
	fmt.Println(q == nil, errors.Is(err, hookguard.ErrInvalidOption))
	fmt.Println(err)

	_, err = hookguard.NewRouter(hookguard.On("*", handle), hookguard.WithMaxAttempts(3))
	fmt.Println(err)

	_, err = hookguard.NewMemoryQueue(handle, hookguard.On("invoice.paid", handle))
	fmt.Println(err)
	// Output:
	// true true
	// hookguard: invalid option: WithMaxBodySize(1048576) applies to New and Middleware, not to NewMemoryQueue
	// hookguard: invalid option: WithMaxAttempts(3) applies to New and NewMemoryQueue, not to NewRouter; give it to the New that runs the Router
	// hookguard: invalid option: On("invoice.paid") configures a Router: pass it to NewRouter, and the Router to New or NewMemoryQueue as the Handler
}
