// Command hookguard signs, checks and receives webhooks from the command
// line, using the same provider presets as the hookguard library.
//
// Usage:
//
//	hookguard <command> [flags]
//
// The commands are:
//
//	sign     print the headers a provider would send for a body
//	verify   check a captured request: signature, timestamp window, event ID
//	serve    receive webhooks on POST /webhooks/{provider} and print each event
//	send     sign fixtures or a file and POST them to a running receiver
//	migrate  create or update the PostgreSQL schema serve --postgres needs
//	dead     list, show, replay or drop the dead letters of a --redis or
//	         --postgres queue
//	demo     run every provider's valid, duplicate, tampered and stale cases
//	         against an in-process receiver and print a table
//	help     print this list
//
// Run "hookguard <command> -h" for the flags of a command; "hookguard
// verify -h" also lists the provider names.
//
// # Sign and verify
//
// sign prints every header the provider would send, signed or not (with a
// typical event type when --type is absent), one "Name: value" per line,
// sorted by name, so the output is stable:
//
//	hookguard sign --provider stripe --secret whsec_test --timestamp 1700000000 --body event.json
//
// verify checks a request captured from a sender. Headers are given with -H
// (repeatable) or read from a file of "Name: value" lines with
// --header-file, which is what sign prints:
//
//	hookguard verify --provider stripe --secret whsec_test --now 1700000000 \
//	    -H 'Stripe-Signature: t=1700000000,v1=...' --body event.json
//
// It prints "valid" and what it extracted (event ID, type, which secret
// matched) and exits 0, or prints "invalid: REASON" and exits 1. Text taken
// from the request is printed with control characters escaped, and quoted
// when it holds any, so a request cannot drive the terminal. Repeat
// --secret to check rotation secrets: the first is the primary, the index
// printed says which one matched. --now sets the clock, so a capture can be
// checked long after it was sent; --tolerance sets the allowed clock
// difference in both directions. --url is the URL the provider called and
// --method its method, for schemes that sign them (Twilio, Square,
// HubSpot). For asymmetric schemes --secret takes the public key as the
// provider hands it out (hex for Discord, base64 DER for SendGrid), and
// sign takes the private key. sign, verify and send also read the secret
// from a file (--secret-file PATH) or the environment (--secret-env VAR),
// out of the process list.
//
// Mailgun and Linear sign inside the body; sign then needs --body-out FILE
// and writes the body to send there.
//
// Every command that takes --provider NAME also takes --scheme FILE, a
// custom scheme described in JSON (see package providers).
//
// # Serve
//
// serve runs a receiver per provider given a secret with
// --secret-file PROVIDER=PATH, --secret-env PROVIDER=VAR or
// --secret PROVIDER=SECRET (repeat them for more providers, and for
// rotation secrets of one provider). Prefer the file or the variable: any
// local user can read command-line arguments in the process list.
//
//	hookguard serve --addr 127.0.0.1:8080 --secret-file stripe=/run/secrets/stripe --secret-env github=GITHUB_WEBHOOK_SECRET
//
// Webhooks are received on POST /webhooks/{provider}; the GET verification
// requests of dropbox, meta, instagram, whatsapp (with --verify-token
// PROVIDER=TOKEN) and okta reach their receivers there too. twilio, square
// and hubspot sign the URL the sender called: serve needs --public-url
// (the scheme and host they are configured with) to receive them, or
// --allow-host-url to trust the request's Host header for local tests.
// Every handled event is printed to standard output as one JSON line with
// provider, id, type, attempt and received_at; logs go to standard error,
// one line per request, and never hold a body, a secret or a signature.
// Values taken from requests are escaped in both. SIGINT or SIGTERM stop
// intake, let queued events finish (see --shutdown-timeout) and print the
// counts of accepted, duplicate, rejected, handled and dead-lettered
// events.
//
// With --redis URL, serve keeps dedupe and its queue in Redis, so several
// serve processes share the work. With --postgres URL (a PostgreSQL URL
// such as postgres://USER:PASSWORD@HOST:5432/DATABASE; give one of
// --redis and --postgres) it keeps them in PostgreSQL instead, on River
// (package riverkit): a receiver records an event's dedupe keys and
// inserts its River job in one transaction and answers 200 after it
// commits, and every serve process on the same database works the same
// River queue. serve never changes the database's schema on its own: run
// "hookguard migrate --postgres URL" once first (see Migrate), or pass
// --migrate to serve to do the same at start; on a database without the
// schema, serve exits 1 saying so. --table NAME (the same for migrate and
// serve) names the dedupe table. serve logs the database's host, port and
// name and the River queue at start; the URL's password is never printed
// or logged. On a listener of their own, --ui-addr
// (loopback, a free port by default; the URL is logged at start), serve
// shows at / a live inspector of recent deliveries (masked signatures,
// pretty-printed bodies, a re-send button) and at /metrics the
// OpenTelemetry metrics in the Prometheus format; --no-ui turns the page
// off. That listener answers only requests addressed to localhost, a
// loopback address, the --ui-addr host or its own address, and refuses
// cross-site requests, so a web page cannot read it through DNS rebinding.
//
// With --tls-cert FILE --tls-key FILE (PEM; both or neither), serve
// receives webhooks over HTTPS: TLS 1.2 at least, HTTP/2 offered. It logs
// the certificate's subject and expiry at start, refuses to start with a
// pair that does not load, and reads the pair again when either file
// changes (looked at once a second at most, on a new connection), so a
// renewed certificate needs no restart; a renewal that does not load is
// logged as a warning and the previous pair stays in use. The --ui-addr
// listener stays plain HTTP, for loopback.
//
// gitlab, postmark and okta prove themselves with a shared token, which
// anyone on the path could read over plain HTTP: serve refuses their
// deliveries (403) unless they arrive over TLS, from loopback, or from a
// TLS-terminating proxy listed with --trusted-proxy CIDR whose
// X-Forwarded-Proto says https. It warns at start when such a provider is
// served in plain HTTP on an address other than loopback.
//
//	hookguard serve --addr :8443 --tls-cert /etc/hookguard/tls.crt --tls-key /etc/hookguard/tls.key --secret-file gitlab=/run/secrets/gitlab
//
// # Migrate
//
// migrate creates, or brings up to date, what serve --postgres needs:
// River's tables (River's migrations) and the table of the dedupe records
// (--table NAME, default hookguard_dedupe):
//
//	hookguard migrate --postgres postgres://hookguard@db.internal:5432/hookguard
//
// It prints one line saying what it did ("migrated HOST:PORT/DB: ...", or
// "HOST:PORT/DB is up to date, nothing changed: ..."), so a deploy step
// can run it every time. It exits 1 with one line on standard error when
// the database cannot be reached or the migration fails, and 2 when the
// URL or the table name is bad; messages name the database by host, port
// and name, never with its password (prefer PGPASSWORD or ~/.pgpass to a
// password in the URL, which other local users can read in the process
// list).
//
// # Dead letters
//
// dead works on the events a durable queue gave up on (its dead letters):
// those of serve --redis or --postgres, or of rediskit's and riverkit's
// Queue in an application. Give it the queue as serve was given it:
// --redis URL (and --name NAME, the queue's name, default hookguard), or
// --postgres URL (and --queue NAME, the River queue, default hookguard,
// and --table NAME). It opens the queue without workers: it runs no
// handler and takes no event from the queue.
//
//	hookguard dead list --redis redis://127.0.0.1:6379/0 --provider stripe --since 2h
//	hookguard dead show 1712345678901-0 --redis redis://127.0.0.1:6379/0
//	hookguard dead replay --all --error "db timeout" --postgres postgres://hookguard@db.internal/hookguard
//	hookguard dead drop 1712345678901-0 --redis redis://127.0.0.1:6379/0
//
// list prints a table, oldest first: the reference (REF: the entry ID in
// the Redis dead-letter stream, the River job ID in PostgreSQL), how long
// ago the event was given up, its provider, type and ID, the attempts
// made, how many times it was replayed, and the first line of the last
// error. --json prints one JSON object per line instead. --provider,
// --type, --error TEXT (held in the error, case-sensitive), --since and
// --until (a duration ago such as 2h, or an RFC 3339 time) filter;
// --limit N bounds the listing (default 100; list says on standard error
// when more may match).
//
// show prints one dead letter in full: its fields, the headers as taken in
// (credentials were removed then), the body (JSON indented) and the whole
// error.
//
// replay puts each dead letter given, or with --all every one the filters
// select, back through dedupe and the queue: the event keeps its original
// ID, body and headers and is handled by the queue's workers (serve
// processes on the same queue). It prints "REF: replayed" or "REF:
// already handled (duplicate)" per dead letter and the counts at the end.
// Replaying is idempotent: replaying the same dead letter again, or one
// whose event the sender redelivered since, enqueues nothing. The dead
// letter stays (with its replay count) until it is dropped or retention
// removes it.
//
// drop deletes the dead letters given, or with --all those the filters
// select. It asks "drop N dead letters? [y/N]" on the terminal first;
// --yes skips the question, and without a terminal on standard input drop
// refuses to run unless --yes is given, so a script never drops by
// accident.
//
// Values taken from events (type, ID, headers, body, errors) are printed
// with control characters escaped, and quoted where they hold any, so an
// event cannot drive the terminal; --json escapes them as \uXXXX. dead
// exits 0 when everything went well, 1 when the queue cannot be reached
// or a dead letter failed (each failure is printed), and 2 on bad usage;
// messages never print the URL's password.
//
// # Send
//
// send signs a fixture (--fixture PROVIDER/EVENT; "send --list" lists
// them) or a file (--body) and POSTs it to a running receiver. With
// --count N each copy gets a fresh event ID except the --duplicates
// fraction, --concurrency bounds the requests in flight and --tamper
// spoils the requests (signature, body, timestamp, secret,
// missing-signature). It prints a histogram of status codes and the p50
// and p99 latency, never follows redirects, and exits 1 when any answer was
// not 2xx. An https:// URL is verified against the system's CAs, or with
// --cacert FILE against only the CAs in FILE (a private CA); a certificate
// that does not verify fails with one line saying what to fix. --insecure
// verifies nothing, so anyone on the path can impersonate the receiver; it
// prints a warning and is for local use only.
//
// # Demo
//
// demo needs no flags: it starts a receiver on a free loopback port, over
// HTTPS with a throwaway CA and certificate made in memory that only its
// sender trusts, with a fresh secret per provider and, for every provider, sends a valid event,
// the same event again, a tampered body, and a stale request (for schemes
// that sign no timestamp, a replay under a fresh delivery ID), then prints
// what each answered. It exits 0 only when every answer and every handled
// count is the expected one.
//
// # Exit status
//
// 0 on success; 1 when a request is invalid, a demo row does not match or
// the server fails; 2 on bad usage (unknown flag, bad header line, unknown
// provider, unreadable body), with a message on standard error.
//
// # Limits
//
// Bodies are read from a file or, with "-" (the default), from standard
// input, and at most 25 MiB is read: larger bodies are refused with an
// error rather than truncated.
//
// # Secrets
//
// Secrets given on the command line are visible to other local users in
// the process list. hookguard never prints a secret, and error messages
// name a bad header or secret by its position rather than echoing it.
package main
