// Package hardening holds hookguard's reliability and security test plan,
// run against real sockets, real subprocesses and, where Redis is involved,
// real redis-server processes.
//
// The package is a module of its own (toxiproxy, which the chaos tests use,
// stays out of the graphs of the modules users import). The tests come in
// two tiers. The fast tier runs with every "go test work" from the
// repository root (or "go test ./..." in this directory) and stays within
// a few seconds per test, even under the race detector on two cores. The
// long tier sits behind the build tag chaos and stops by itself:
//
//	go test -tags chaos -run . -timeout 30m ./hardening/
//
// It fuzzes every fuzz target of the repository for a bounded time each, and
// runs the slowloris, load and chaos tests. All traffic goes to loopback.
//
// The package exports nothing: it is a test suite, not a library. Its
// scripted webhook sender (sender_test.go) retries the way real senders do
// (exponential backoff, at-least-once, out of order), so that tests can
// check end to end that every event a sender was answered 2xx for is
// handled.
package hardening
