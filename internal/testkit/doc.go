// Package testkit holds the test doubles that the tests of several
// hookguard packages share, so that each is written once: [Counter], a
// real [hookguard.Handler] that counts how often each event ID ran;
// [FlakyStore], a real in-memory dedupe store that can be switched to
// failing; [NewPost], which builds a signed delivery's request; [Serve],
// which runs one request through a handler; and [NewMemory],
// [NewMemoryQueue] and [Middleware], which call the library's constructors
// and stop the test on an error; [Failing], a handler that fails the
// dead-letter tests' [DeadEvents] until it is fixed.
//
// It is internal and meant for tests only; nothing outside the module can
// import it, and the module's production code must not.
package testkit
