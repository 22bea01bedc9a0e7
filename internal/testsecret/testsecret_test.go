package testsecret_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// TestForEveryPreset checks that importing package providers registers
// the generator, that every preset accepts what For returns and can sign
// with it, that two calls differ, and that an unknown name fails as
// providers.New does.
func TestForEveryPreset(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, name := range providers.Names() {
		secret, err := testsecret.For(name)
		if err != nil {
			t.Fatalf("For(%q): %v", name, err)
		}
		if again, _ := testsecret.For(name); again == secret {
			t.Errorf("For(%q) returned the same secret twice", name)
		}
		p, err := providers.New(name, secret)
		if err != nil {
			t.Fatalf("New(%q, For(%q)): %v", name, name, err)
		}
		// The secret can sign: an asymmetric preset gets a private key.
		// (Whether the signature verifies is checked in package
		// providers, with a body each sender accepts.)
		if _, err := p.Sign(providers.Outgoing{Body: []byte(`{}`), Timestamp: now}); errors.Is(err, providers.ErrCannotSign) {
			t.Errorf("%s: cannot sign with For's secret: %v", name, err)
		}
	}
	if _, err := testsecret.For("no-such-sender"); !errors.Is(err, providers.ErrUnknownProvider) {
		t.Errorf("unknown name: %v, want ErrUnknownProvider", err)
	}
}
