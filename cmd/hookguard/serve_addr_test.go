package main

import (
	"net"
	"strings"
	"testing"
)

// serve listens on loopback port 8080 unless --addr says otherwise. The
// help text prints the flag's default, so the test reads it there without
// binding the port.
func TestServeDefaultAddr(t *testing.T) {
	for _, args := range [][]string{{"serve", "-h"}, {"help", "serve"}} {
		got := runCmd(t, "", args...)
		if got.code != 0 {
			t.Fatalf("%q = exit %d; want 0\n%s", args, got.code, got.stderr)
		}
		// The flag's entry is its name line and its description line.
		_, entry, ok := strings.Cut(got.stdout, "\n  --addr HOST:PORT\n")
		if !ok {
			t.Fatalf("%q does not list --addr:\n%s", args, got.stdout)
		}
		entry, _, _ = strings.Cut(entry, "\n")
		_, def, ok := strings.Cut(entry, "(default ")
		def = strings.TrimSuffix(def, ")")
		if !ok || def != "127.0.0.1:8080" {
			t.Fatalf("%q: --addr default = %q (entry %q); want 127.0.0.1:8080", args, def, entry)
		}
		host, _, err := net.SplitHostPort(def)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Errorf("default address %q is not a loopback address", def)
		}
	}
}
