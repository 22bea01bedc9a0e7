// Package httpx holds small net/http helpers that the hookguard packages
// share: the root package's middleware, the OpenTelemetry hook and the
// command's inspector each wrap a handler and need to know the status it
// answered with.
//
// It is internal: its API may change with the module and it imports
// nothing but the standard library, so that the core stays light.
package httpx
