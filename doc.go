// Package hookguard receives webhooks safely in Go services.
//
// A [Receiver] is an [net/http.Handler] for one webhook endpoint. It takes a
// provider preset (from package providers, or any [Verifier]) and a
// [Handler], answers the sender within milliseconds, and runs the handler
// later, with retries, on a [Queue]:
//
//	gh, err := providers.NewGitHub(secret)
//	...
//	recv, err := hookguard.New(gh, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
//		return process(ctx, e.Type, e.Body)
//	}))
//	...
//	mux.Handle("POST /webhooks/github", recv)
//	...
//	srv.Shutdown(ctx) // first stop HTTP intake,
//	recv.Shutdown(ctx) // then drain the queue.
//
// [Middleware] runs the same checks in front of an ordinary http.Handler
// for applications that handle the request synchronously; the handler reads
// the verified [Event] with [FromContext].
//
// # Pipeline
//
// For each request a Receiver:
//
//  1. refuses anything but POST, and GET for the presets whose sender
//     verifies the endpoint with a GET handshake (Dropbox, Okta, Meta,
//     WhatsApp, Instagram);
//  2. applies the global and per-client rate limits ([WithRateLimit],
//     [WithPerIPRateLimit]) before reading the body, so floods cost little;
//  3. reads the body under a limit ([WithMaxBodySize], 1 MiB by default),
//     refusing a larger Content-Length without reading and never reading
//     more than the limit plus one byte; memory grows with the bytes that
//     arrive, never with the length a sender announces, and after a 413
//     the rest of the body is read and discarded for a bounded time so
//     that the sender sees the answer, not a reset;
//  4. verifies the signature and timestamp with the preset, using the
//     clock set with [WithClock];
//  5. answers a provider handshake (Slack's url_verification) directly,
//     touching no store and enqueuing nothing;
//  6. reserves the event ID in a dedupe store (as
//     "provider:endpoint:id:<id>"), and for schemes that sign neither a
//     timestamp nor the ID (GitHub, Shopify), or deliveries that carry no
//     event ID (Slack slash commands and interactive payloads), also a
//     digest of the signed content ("provider:endpoint:digest:<hex>"), so a
//     captured request replayed under a fresh ID, or inside the replay
//     window, is still a duplicate; the two kinds of key never collide;
//  7. enqueues the event, then marks it seen and answers 200; if the
//     enqueue fails it releases the reservation and answers 503, so the
//     sender's retry is accepted later.
//
// Nothing touches the store or the queue before the signature verified.
// Reserving is atomic: of two concurrent copies of an event, one is
// enqueued and the other is told to retry (409) until the first is either
// enqueued (then the retry is a duplicate) or failed (then the retry goes
// through). With the default in-memory store and queue there is no such
// window: [dedupe.Memory.Once] checks the keys, enqueues and marks them seen
// in one step, so the second copy is answered as a duplicate. An event
// without an ID is enqueued without dedupe by ID.
//
// A [MemoryQueue] runs the handler on a fixed pool of workers with a
// per-attempt timeout, retries failures with exponential backoff and full
// jitter, recovers panics, and gives every event it abandons (retries
// exhausted, a [Permanent] error, shutdown deadline) to
// [Hooks.OnDeadLetter] with its last error.
//
// WARNING: the in-memory queue holds accepted events in process memory. If
// the process crashes, events that were answered 200 but not yet handled
// are lost; senders will not retry them. A clean [Receiver.Shutdown] drains
// the queue or dead-letters what is left. For a durable queue shared by
// several instances use package rediskit (Redis Streams), or plug any
// [Queue] in with [WithQueue].
//
// # Status codes
//
//	200  verified and enqueued; or a duplicate (header Hookguard-Duplicate: true);
//	     or a handshake, with the provider's reply body
//	400  missing or malformed signature or timestamp; unreadable body; an
//	     event ID or type that is ambiguous in the verified body
//	401  signature mismatch; timestamp outside the window
//	403  plain HTTP for a shared-token preset (GitLab, Postmark, Okta), or
//	     for any preset with [WithRequireTLS]; refused before the body is read
//	405  a method the preset does not take (with Allow)
//	409  another copy of the event is still being accepted (with Retry-After)
//	413  body over the limit (Connection: close; the rest is discarded
//	     after the answer, within bounds, so that the sender reads it)
//	415  compressed body (a Content-Encoding other than identity), refused
//	     before a byte is read
//	429  rate limit exceeded (with Retry-After)
//	503  queue full, shutting down, or dedupe store down with [WithFailClosed]
//	     (with Retry-After); the event is not marked seen
//
// Transient trouble is always 503 or 429, never another 4xx, because some
// senders stop retrying, or disable the endpoint, on a 4xx. Answers are a
// short plain-text reason; they never contain the body or a signature.
//
// # Security
//
// Signatures are compared in constant time by package verify, against
// every configured secret, so secrets can be rotated. Handlers receive a
// copy of the headers without Authorization, Cookie or any header whose
// name contains "signature", "hmac", "token", "secret" or "verification".
// One log record is written per request (provider, event ID, type,
// outcome, status, duration) through [WithLogger]; secrets, signatures
// and bodies are never logged.
//
// GitLab, Postmark and Okta sign nothing: they send a shared token, which
// anyone on the path can read and replay over plain HTTP. For such
// presets (see [SharedTokenVerifier]) a request that did not arrive over
// TLS is answered 403 with [ErrInsecureTransport] before its body is read,
// so the token is never compared. Arriving over TLS means the connection
// was TLS, or the peer is a proxy listed in [WithTrustedProxies] that sets
// X-Forwarded-Proto: https. For local development, plain HTTP is accepted
// from a loopback peer whose request carries no forwarding header; New
// and Middleware log this rule once at Info level. [WithRequireTLS]
// applies the rule to every preset, and [WithAllowPlainHTTP] lifts it for
// an endpoint behind a TLS front end whose addresses cannot be listed.
//
// The per-client rate limit uses the peer address unless trusted proxies
// are listed with [WithTrustedProxies]; then it uses the right-most
// X-Forwarded-For address that is not a trusted proxy.
//
// When the dedupe store fails, a Receiver by default falls back to a local
// in-memory store and reports it with [Hooks.OnStoreFallback]; with
// [WithFailClosed] it answers 503 instead and enqueues nothing.
//
// Serve receivers from an http.Server with ReadHeaderTimeout, ReadTimeout
// and MaxHeaderBytes set: a body limit does not stop a slow sender.
//
// # Options
//
// [New], [Middleware], [NewMemoryQueue] and [NewRouter] all take
// [Option] values. Each option applies to the constructors marked below;
// the others refuse it with an error wrapping [ErrInvalidOption] that
// names it and says where it belongs, and build nothing. New builds its
// own [MemoryQueue] from the queue options given to it, and passes
// [WithHooks] and [WithLogger] on to that queue; with [WithQueue] there is
// no such queue, so New refuses the options marked "own" (configure the
// given queue instead).
//
//	Option                      New   Middleware  NewMemoryQueue  NewRouter
//	WithMaxBodySize             yes   yes         -               -
//	WithStore                   yes   yes         -               -
//	WithDedupeTTL               yes   yes         -               -
//	WithPendingTTL              yes   yes         -               -
//	WithFailClosed              yes   yes         -               -
//	WithContentDedupe           yes   yes         -               -
//	WithEndpoint                yes   yes         -               -
//	WithClock                   yes   yes         -               -
//	WithRateLimit               yes   yes         -               -
//	WithPerIPRateLimit          yes   yes         -               -
//	WithTrustedProxies          yes   yes         -               -
//	WithRequireTLS              yes   yes         -               -
//	WithAllowPlainHTTP          yes   yes         -               -
//	WithRetryAfter              yes   yes         -               -
//	WithAckTimeout              yes   yes         -               -
//	WithPublicURL               yes   yes         -               -
//	WithQueue                   yes   -           -               -
//	WithKeepDedupeOnDeadLetter  yes   -           -               -
//	WithCapacity                own   -           yes             -
//	WithWorkers                 own   -           yes             -
//	WithEnqueueTimeout          own   -           yes             -
//	WithMaxAttempts             own   -           yes             -
//	WithBackoff                 own   -           yes             -
//	WithAttemptTimeout          own   -           yes             -
//	WithDeadLetter              own   -           yes             -
//	WithHooks                   yes   yes         yes             -
//	WithLogger                  yes   yes         yes             yes
//	On                          -     -           -               yes
//	OnProvider                  -     -           -               yes
//	WithUnmatchedDeadLetter     -     -           -               yes
//
// # Errors and panics
//
// Every constructor returns an error for a bad value: [New], [Middleware],
// [NewMemoryQueue], [NewRouter], dedupe.NewMemory, rediskit.NewStore and
// rediskit.NewQueue, and the provider presets (providers.NewGitHub and the
// others). An option never panics where it is called; it records what is
// wrong, and the constructor returns the first such error, or the first
// option that does not apply to it (see "Options" above), wrapping
// [ErrInvalidOption] (dedupe.ErrInvalidOption, rediskit.ErrInvalidOption
// in those packages) with the option's name and value, before any worker
// starts or any connection is made. A worker count of 0 read from the
// environment is thus an error at startup, never a crash.
//
// Nothing in the library panics on a value that may come from
// configuration or from a request. The few panics left guard internal
// invariants, which no input can break: a panic from hookguard is a bug in
// hookguard. The test kits queuetest and dedupetest report a bad option as
// a failure of the test that runs them.
//
// # Testing
//
// Package webhooktest signs requests as each sender does, ships fixtures,
// and its Recorder watches the Receiver you ship (its MemoryQueue, retry
// policy and your handler) through [Hooks], with [WithBackoff](0, 0) so
// that retries run at once: a test sends a delivery and waits for the
// event to be handled or dead-lettered, without sleeping. [WithClock] pins
// the time used for timestamp windows. Queue backoff otherwise runs on the
// time package's timers, so retry tests can also run inside
// testing/synctest.
package hookguard
