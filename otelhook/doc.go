// Package otelhook records what a hookguard receiver does through
// OpenTelemetry: metrics through the metric API and traces through the trace
// API, so they reach whatever exporter the application configured
// (Prometheus, OTLP, ...).
//
// The root package hookguard does not import OpenTelemetry; this package
// plugs into its observer seam, [hookguard.Hooks]. A [Telemetry] gives three
// things to wire:
//
//   - [Telemetry.Hooks], for [hookguard.WithHooks], given to
//     [hookguard.New] (and to [hookguard.NewMemoryQueue] for a queue built
//     apart): every metric below.
//   - [Telemetry.Middleware], around the receiver: a server span for each
//     HTTP request, annotated with the provider, outcome and reason.
//   - [Telemetry.Handler], around the event handler: a span for each handler
//     attempt, linked to the span of the request that brought the event in,
//     so a trace follows an event from arrival to handling even when it is
//     retried minutes later.
//
// # Metrics
//
//	hookguard.requests           counter    provider, outcome, reason, http.response.status_code
//	hookguard.ack.duration       histogram  s; provider, outcome: how long the sender waited
//	hookguard.secret.matches     counter    provider, secret index: retire a secret once it stops matching
//	hookguard.queue.depth        up-down    provider: events held by the queue
//	hookguard.handler.duration   histogram  s; provider, result (success, failure): one per attempt
//	hookguard.handler.attempts   histogram  provider, result (handled, dead_letter): attempts an event took
//	hookguard.event.age          histogram  s; provider: signed timestamp to the first handler attempt
//	hookguard.timestamp.skew     histogram  s; provider: for a delivery refused for its timestamp, the clock's lead over it
//	hookguard.dead_letters       counter    provider, reason (permanent, exhausted, shutdown)
//	hookguard.store.fallbacks    counter    dedupe store failures served by the local store
//
// The queue depth goes up on OnEnqueued and down when an event is handled
// or dead-lettered, so it needs a queue that reports OnEnqueued, as
// [hookguard.MemoryQueue] does. For a queue shared by several processes,
// sum it across them.
//
// Attribute values come from small fixed sets: provider names, the outcome
// constants of hookguard, the reasons of [Reason], status codes and secret
// indexes. Event IDs and types never become metric attributes, so the
// number of time series cannot grow with traffic; they are set on spans
// only.
//
// Through the OpenTelemetry Prometheus exporter (as `hookguard serve`
// exposes them at /metrics) the names become hookguard_requests_total,
// hookguard_ack_duration_seconds, hookguard_secret_matches_total,
// hookguard_queue_depth, hookguard_handler_duration_seconds,
// hookguard_handler_attempts, hookguard_event_age_seconds,
// hookguard_timestamp_skew_seconds, hookguard_dead_letters_total and
// hookguard_store_fallbacks_total, with
// the dots of attribute keys turned into underscores.
//
// # Trace context
//
// Providers do not send a trace context, and one sent by an outside caller
// is not trusted: [Telemetry.Middleware] continues the trace of the request's
// context (set by an upstream tracing middleware, if any) and never reads
// trace headers. It writes its span's context into the request's
// Hookguard-Traceparent header (replacing any the sender set), which the
// receiver copies into [hookguard.Event.Header] and [Telemetry.Handler] reads
// back to link each attempt to the request.
package otelhook
