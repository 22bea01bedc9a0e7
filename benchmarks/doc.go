// Package benchmarks compares hookguard with a plain HMAC (the floor) and
// with the webhook libraries Go services use today: stripe-go, the svix and
// Standard Webhooks libraries, go-github and go-playground/webhooks.
//
// It is its own module, so that none of those libraries ever enters the
// graph of a hookguard module that users import: `go test ./...` in the
// repository root skips this directory, and `go test work` (every module
// of the workspace) runs its fixture tests.
//
// The benchmarks live in bench_test.go; this package holds what they share
// with the two programs:
//
//	go run ./cmd/ratios   # interleaved runs, one markdown table of ratios
//	go run ./cmd/load     # loopback load test against a bare handler
//
// Every implementation verifies the same payloads (realistic JSON events of
// 1 KiB, 16 KiB and 256 KiB) under the same secret, signed by the peer's own
// signer where it has one.
package benchmarks
