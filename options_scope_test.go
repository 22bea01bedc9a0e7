package hookguard_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// constructors builds each constructor of the package with a valid
// configuration plus opts, and returns its error after stopping what it
// built. "New+WithQueue" is New given a queue of its own, which refuses
// the options of the queue New would otherwise build.
func constructors(t *testing.T) map[string]func(opts ...hookguard.Option) error {
	t.Helper()
	p := newProvider(t, "stripe")
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	own := testkit.NewMemoryQueue(t, noop)
	t.Cleanup(func() { _ = own.Shutdown(context.Background()) })
	return map[string]func(opts ...hookguard.Option) error{
		"New": func(opts ...hookguard.Option) error {
			r, err := hookguard.New(p, noop, opts...)
			if r != nil {
				shutdown(t, r)
			}
			return err
		},
		"New+WithQueue": func(opts ...hookguard.Option) error {
			r, err := hookguard.New(p, nil, append([]hookguard.Option{hookguard.WithQueue(own)}, opts...)...)
			if r != nil {
				shutdown(t, r)
			}
			return err
		},
		"Middleware": func(opts ...hookguard.Option) error {
			mw, err := hookguard.Middleware(p, opts...)
			if err == nil {
				assert.NotNil(t, mw, "Middleware returned neither middleware nor an error")
			}
			return err
		},
		"NewMemoryQueue": func(opts ...hookguard.Option) error {
			q, err := hookguard.NewMemoryQueue(noop, opts...)
			if q != nil {
				_ = q.Shutdown(context.Background())
			}
			return err
		},
		"NewRouter": func(opts ...hookguard.Option) error {
			r, err := hookguard.NewRouter(append([]hookguard.Option{hookguard.On("*", noop)}, opts...)...)
			if err == nil {
				assert.NotNil(t, r, "NewRouter returned neither a router nor an error")
			}
			return err
		},
	}
}

// optionScope is one exported option with a valid value, and the
// constructors (keys of constructors) that accept it.
type optionScope struct {
	opt     hookguard.Option
	name    string // as the error must name it
	applies string // the constructors that accept it, separated by spaces
}

// optionScopes lists every exported option of the package.
func optionScopes(t *testing.T) []optionScope {
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	q := testkit.NewMemoryQueue(t, noop)
	t.Cleanup(func() { _ = q.Shutdown(context.Background()) })
	const (
		requests = "New New+WithQueue Middleware"
		queue    = "New NewMemoryQueue"
	)
	return []optionScope{
		{hookguard.WithMaxBodySize(1024), "WithMaxBodySize(1024)", requests},
		{hookguard.WithStore(testkit.NewMemory(t)), "WithStore(...)", requests},
		{hookguard.WithDedupeTTL(time.Hour), "WithDedupeTTL(1h0m0s)", requests},
		{hookguard.WithPendingTTL(time.Minute), "WithPendingTTL(1m0s)", requests},
		{hookguard.WithFailClosed(), "WithFailClosed()", requests},
		{hookguard.WithContentDedupe(false), "WithContentDedupe(false)", requests},
		{hookguard.WithEndpoint("main"), `WithEndpoint("main")`, requests},
		{hookguard.WithClock(clock), "WithClock(...)", requests},
		{hookguard.WithRateLimit(10, 5), "WithRateLimit(10, 5)", requests},
		{hookguard.WithPerIPRateLimit(10, 5), "WithPerIPRateLimit(10, 5)", requests},
		{hookguard.WithTrustedProxies("10.0.0.0/8", "192.0.2.1"), `WithTrustedProxies("10.0.0.0/8", "192.0.2.1")`, requests},
		{hookguard.WithRequireTLS(), "WithRequireTLS()", requests},
		{hookguard.WithAllowPlainHTTP(), "WithAllowPlainHTTP()", requests},
		{hookguard.WithRetryAfter(time.Second), "WithRetryAfter(1s)", requests},
		{hookguard.WithAckTimeout(time.Second), "WithAckTimeout(1s)", requests},
		{hookguard.WithPublicURL("https://hooks.example.com"), `WithPublicURL("https://hooks.example.com")`, requests},
		{hookguard.WithKeepDedupeOnDeadLetter(), "WithKeepDedupeOnDeadLetter()", "New New+WithQueue"},
		{hookguard.WithQueue(q), "WithQueue(...)", "New New+WithQueue"}, // New with a Handler: TestNewErrors
		{hookguard.WithCapacity(8), "WithCapacity(8)", queue},
		{hookguard.WithWorkers(8), "WithWorkers(8)", queue},
		{hookguard.WithEnqueueTimeout(time.Second), "WithEnqueueTimeout(1s)", queue},
		{hookguard.WithMaxAttempts(3), "WithMaxAttempts(3)", queue},
		{hookguard.WithBackoff(0, 0), "WithBackoff(0s, 0s)", queue},
		{hookguard.WithAttemptTimeout(time.Second), "WithAttemptTimeout(1s)", queue},
		{hookguard.WithDeadLetter(func(hookguard.Event, error) {}), "WithDeadLetter(...)", queue},
		{hookguard.WithHooks(hookguard.Hooks{}), "WithHooks(...)", "New New+WithQueue Middleware NewMemoryQueue"},
		{hookguard.WithLogger(slog.New(slog.DiscardHandler)), "WithLogger(...)", "New New+WithQueue Middleware NewMemoryQueue NewRouter"},
		{hookguard.On("push", noop), `On("push")`, "NewRouter"},
		{hookguard.OnProvider("github", "push", noop), `OnProvider("github", "push")`, "NewRouter"},
		{hookguard.WithUnmatchedDeadLetter(), "WithUnmatchedDeadLetter()", "NewRouter"},
	}
}

// TestOptionScopes gives every exported option, with a valid value, to
// every constructor, and checks that exactly the constructors it applies
// to accept it, and that the others refuse it with an ErrInvalidOption
// that names it as written.
func TestOptionScopes(t *testing.T) {
	build := constructors(t)
	for _, tt := range optionScopes(t) {
		for ctor, run := range build {
			if tt.name == "WithQueue(...)" && ctor == "New" {
				continue // New with a Handler and WithQueue: TestNewErrors
			}
			t.Run(tt.name+"/"+ctor, func(t *testing.T) {
				err := run(tt.opt)
				if strings.Contains(" "+tt.applies+" ", " "+ctor+" ") {
					require.NoError(t, err, "%s refused %s", ctor, tt.name)
					return
				}
				require.ErrorIs(t, err, hookguard.ErrInvalidOption, "%s(%s)", ctor, tt.name)
				assert.ErrorContains(t, err, "invalid option: "+tt.name+" ", "%s: error does not name %s", ctor, tt.name)
			})
		}
	}
}

// TestMisplacedOptionErrors checks that the error for an option given to
// a constructor it does not apply to says where the option belongs, and
// that the first problem in the order given is the one reported.
func TestMisplacedOptionErrors(t *testing.T) {
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	build := constructors(t)
	tests := []struct {
		ctor string
		opts []hookguard.Option
		want string
	}{
		{"New+WithQueue", []hookguard.Option{hookguard.WithWorkers(8)},
			"WithWorkers(8) configures the receiver's own queue and cannot be combined with WithQueue"},
		{"New+WithQueue", []hookguard.Option{hookguard.WithDeadLetter(func(hookguard.Event, error) {})},
			"WithDeadLetter(...) configures the receiver's own queue and cannot be combined with WithQueue"},
		{"New", []hookguard.Option{hookguard.On("push", noop)},
			`On("push") configures a Router: pass it to NewRouter`},
		{"NewMemoryQueue", []hookguard.Option{hookguard.WithUnmatchedDeadLetter()},
			"WithUnmatchedDeadLetter() configures a Router: pass it to NewRouter"},
		{"NewMemoryQueue", []hookguard.Option{hookguard.WithMaxBodySize(1 << 20)},
			"WithMaxBodySize(1048576) applies to New and Middleware, not to NewMemoryQueue"},
		{"NewMemoryQueue", []hookguard.Option{hookguard.WithQueue(&countingQueue{})},
			"WithQueue(...) applies to New, not to NewMemoryQueue"},
		{"Middleware", []hookguard.Option{hookguard.WithMaxAttempts(3)},
			"WithMaxAttempts(3) applies to New and NewMemoryQueue, not to Middleware, which has no queue"},
		{"Middleware", []hookguard.Option{hookguard.WithQueue(&countingQueue{})},
			"WithQueue(...) applies to New, not to Middleware, which has no queue and no dead letters"},
		{"NewRouter", []hookguard.Option{hookguard.WithWorkers(8)},
			"WithWorkers(8) applies to New and NewMemoryQueue, not to NewRouter; give it to the New that runs the Router"},
		{"NewRouter", []hookguard.Option{hookguard.WithHooks(hookguard.Hooks{})},
			"WithHooks(...) applies to New, Middleware and NewMemoryQueue, not to NewRouter"},
		{"New", []hookguard.Option{hookguard.WithWorkers(0), hookguard.On("push", noop)},
			"WithWorkers(0): at least one worker"},
		{"New", []hookguard.Option{hookguard.On("push", noop), hookguard.WithWorkers(0)},
			`On("push") configures a Router`},
		{"NewMemoryQueue", []hookguard.Option{hookguard.WithMaxBodySize(0)},
			"WithMaxBodySize(0) applies to New and Middleware, not to NewMemoryQueue"},
	}
	for _, tt := range tests {
		t.Run(tt.ctor+"/"+tt.want, func(t *testing.T) {
			err := build[tt.ctor](tt.opts...)
			require.ErrorIs(t, err, hookguard.ErrInvalidOption, tt.ctor)
			assert.ErrorContains(t, err, tt.want, tt.ctor)
		})
	}
}

func debugLogger(b *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestSharedOptionsTakeEffect checks that WithHooks and WithLogger, one
// option each, take effect in every constructor that accepts them, New
// passing them on to the queue it builds.
func TestSharedOptionsTakeEffect(t *testing.T) {
	p := newProvider(t, "stripe")
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	fail := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		return hookguard.Permanent(errors.New("handler bug"))
	})
	tests := []struct {
		name string
		run  func(t *testing.T) (got, want string)
	}{
		{"WithHooks on NewMemoryQueue", func(t *testing.T) (string, string) {
			var enq, handled atomic.Int64
			q := testkit.NewMemoryQueue(t, noop, hookguard.WithHooks(hookguard.Hooks{
				OnEnqueued: func(hookguard.Event) { enq.Add(1) },
				OnHandled:  func(hookguard.Event, int, error, time.Duration) { handled.Add(1) },
			}))
			require.NoError(t, q.Enqueue(context.Background(), hookguard.Event{ID: "evt_q"}))
			require.NoError(t, q.Shutdown(context.Background()))
			return strings.Repeat("enqueued ", int(enq.Load())) + strings.Repeat("handled ", int(handled.Load())), "enqueued handled "
		}},
		{"WithLogger on NewMemoryQueue", func(t *testing.T) (string, string) {
			var buf syncBuffer
			q := testkit.NewMemoryQueue(t, fail, hookguard.WithLogger(debugLogger(&buf)))
			require.NoError(t, q.Enqueue(context.Background(), hookguard.Event{ID: "evt_q"}))
			require.NoError(t, q.Shutdown(context.Background()))
			return buf.String(), `msg="hookguard: event dead-lettered"`
		}},
		{"WithLogger on NewRouter", func(t *testing.T) (string, string) {
			var buf syncBuffer
			r, err := hookguard.NewRouter(hookguard.On("push", noop), hookguard.WithLogger(debugLogger(&buf)))
			require.NoError(t, err)
			require.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Provider: "github", ID: "d1", Type: "ping"}))
			return buf.String(), `msg="hookguard: no route for event; acknowledged and dropped" provider=github event_id=d1 type=ping`
		}},
		{"WithHooks on New reaches its queue", func(t *testing.T) (string, string) {
			var accepted, handled atomic.Int64
			r := mustNew(t, p, noop, hookguard.WithClock(clock), hookguard.WithHooks(hookguard.Hooks{
				OnAccepted: func(hookguard.Event) { accepted.Add(1) },
				OnHandled:  func(hookguard.Event, int, error, time.Duration) { handled.Add(1) },
			}))
			require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "evt_new", eventBody("evt_new")).request()).Code)
			shutdown(t, r)
			return strings.Repeat("accepted ", int(accepted.Load())) + strings.Repeat("handled ", int(handled.Load())), "accepted handled "
		}},
		{"WithLogger on New reaches its queue", func(t *testing.T) (string, string) {
			var buf syncBuffer
			r := mustNew(t, p, fail, hookguard.WithClock(clock), hookguard.WithLogger(debugLogger(&buf)))
			require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "evt_log", eventBody("evt_log")).request()).Code)
			shutdown(t, r)
			got := buf.String()
			assert.Contains(t, got, `msg="hookguard: webhook"`, "no request record")
			return got, `msg="hookguard: event dead-lettered"`
		}},
		{"WithHooks on Middleware", func(t *testing.T) (string, string) {
			var accepted atomic.Int64
			mw := testkit.Middleware(t, p, hookguard.WithClock(clock),
				hookguard.WithHooks(hookguard.Hooks{OnAccepted: func(hookguard.Event) { accepted.Add(1) }}))
			testkit.Serve(mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), sign(t, p, "evt_mw", eventBody("evt_mw")).request())
			return strings.Repeat("accepted ", int(accepted.Load())), "accepted "
		}},
		{"WithLogger on Middleware", func(t *testing.T) (string, string) {
			var buf syncBuffer
			mw := testkit.Middleware(t, p, hookguard.WithClock(clock), hookguard.WithLogger(debugLogger(&buf)))
			testkit.Serve(mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), sign(t, p, "evt_mw", eventBody("evt_mw")).request())
			return buf.String(), `msg="hookguard: webhook"`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tt.run(t)
			assert.Contains(t, got, want)
		})
	}
}

// TestQueueSettingsGivenToNew checks that the options of a MemoryQueue,
// given straight to New, configure the queue New builds.
func TestQueueSettingsGivenToNew(t *testing.T) {
	p := newProvider(t, "stripe")
	t.Run("WithWorkers", func(t *testing.T) {
		for _, workers := range []int{1, 2} {
			// Two events whose handler blocks until released: with one
			// worker the second must wait for the first, with two both
			// run at once.
			var running, most atomic.Int64
			started := make(chan string, 2)
			release := make(chan struct{})
			h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				started <- e.ID
				<-release
				running.Add(-1)
				return nil
			})
			r := mustNew(t, p, h, hookguard.WithClock(clock), hookguard.WithWorkers(workers))
			for _, id := range []string{"evt_a", "evt_b"} {
				require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, id, eventBody(id)).request()).Code, id)
			}
			<-started
			select {
			case id := <-started:
				assert.NotEqual(t, 1, workers, "WithWorkers(1): %s started while the other event was running", id)
			case <-time.After(200 * time.Millisecond):
				assert.NotEqual(t, 2, workers, "WithWorkers(2): the second event did not start while the first was running")
			}
			close(release)
			shutdown(t, r)
			assert.Equal(t, int64(workers), most.Load(), "WithWorkers(%d): most handlers running at once", workers)
		}
	})
	t.Run("WithMaxAttempts", func(t *testing.T) {
		for _, attempts := range []int{1, 2, 3} {
			var calls atomic.Int64
			h := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
				calls.Add(1)
				return errors.New("down")
			})
			dead := make(chan hookguard.Event, 1)
			r := mustNew(t, p, h, hookguard.WithClock(clock), hookguard.WithBackoff(0, 0),
				hookguard.WithMaxAttempts(attempts), hookguard.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
			require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "evt_dl", eventBody("evt_dl")).request()).Code)
			select {
			case e := <-dead:
				assert.Equal(t, "evt_dl", e.ID, "dead letter")
			case <-time.After(10 * time.Second):
				require.Failf(t, "no dead letter", "WithMaxAttempts(%d)", attempts)
			}
			shutdown(t, r)
			assert.Equal(t, int64(attempts), calls.Load(), "WithMaxAttempts(%d): handler runs before the dead letter", attempts)
		}
	})
}

// TestOptionsTableInDoc checks the table of the "Options" section of the
// package documentation against the constructors' behaviour, as listed by
// optionScopes, so that the table cannot go stale.
func TestOptionsTableInDoc(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	// The table's columns: New, Middleware, NewMemoryQueue, NewRouter.
	// In the New column, "own" marks an option of New's own queue, which
	// New refuses with WithQueue.
	_, section, ok := strings.Cut(string(src), "// # Options\n")
	require.True(t, ok, `doc.go has no "Options" section`)
	section, _, _ = strings.Cut(section, "// #")
	doc := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if !strings.HasPrefix(line, "//\t") || len(f) != 5 || f[0] == "Option" {
			continue
		}
		var applies []string
		switch f[1] {
		case "yes":
			applies = append(applies, "New", "New+WithQueue")
		case "own":
			applies = append(applies, "New")
		}
		for i, ctor := range []string{"Middleware", "NewMemoryQueue", "NewRouter"} {
			if f[i+2] == "yes" {
				applies = append(applies, ctor)
			}
		}
		doc[f[0]] = strings.Join(applies, " ")
	}
	scopes := optionScopes(t)
	assert.Len(t, doc, len(scopes), "options in the table in doc.go")
	for _, o := range scopes {
		name, _, _ := strings.Cut(o.name, "(")
		if !assert.Contains(t, doc, name, "%s is missing from the table in doc.go", name) {
			continue
		}
		want := strings.Fields(o.applies)
		slices.Sort(want)
		have := strings.Fields(doc[name])
		slices.Sort(have)
		assert.Equal(t, want, have, "the constructors doc.go says %s applies to", name)
	}
}
