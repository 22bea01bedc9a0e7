package providers

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// constructor builds a preset from its positional secret and options.
type constructor func(secret string, opts ...Option) (Provider, error)

// registered is one entry of the registry behind [New] and [Names].
type registered struct {
	name string
	new  constructor
	// testSecret, when set, returns a fresh secret for [TestSecret]:
	// asymmetric presets return a private key they can sign with. Nil
	// means a random "whsec_" secret, which every HMAC preset accepts.
	testSecret func() (string, error)
}

// ctor adapts a typed constructor such as NewStripe. It returns a nil
// Provider on error: a nil *Stripe stored in an interface would not be nil.
func ctor[T Provider](f func(string, ...Option) (T, error)) constructor {
	return func(secret string, opts ...Option) (Provider, error) {
		p, err := f(secret, opts...)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// corePresets are the presets of the first release.
var corePresets = []registered{
	{name: "github", new: ctor(NewGitHub)},
	{name: "shopify", new: ctor(NewShopify)},
	{name: "slack", new: ctor(NewSlack)},
	{name: "standardwebhooks", new: ctor(NewStandardWebhooks)},
	{name: "stripe", new: ctor(NewStripe)},
	{name: "svix", new: ctor(NewSvix)},
}

// registry maps each name to its constructor. Each group of presets keeps
// its own list in its own file, so adding a preset touches one file.
var registry = func() map[string]registered {
	m := make(map[string]registered)
	for _, group := range [][]registered{corePresets, asymmetricPresets, hmacPresets} {
		for _, p := range group {
			if _, dup := m[p.name]; dup {
				panic("providers: preset " + p.name + " registered twice")
			}
			m[p.name] = p
		}
	}
	return m
}()

// Names returns the names [New] accepts, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the preset called name (lowercase, see [Names]) for secret.
// It returns an error wrapping [ErrUnknownProvider] for any other name.
func New(name string, secret string, opts ...Option) (Provider, error) {
	p, ok := registry[name]
	if !ok {
		return nil, unknown(name)
	}
	return p.new(secret, opts...)
}

func unknown(name string) error {
	return fmt.Errorf("%w %q: use one of %s", ErrUnknownProvider, name, strings.Join(Names(), ", "))
}

// TestSecret returns a fresh, random secret that New(name, secret) accepts
// and that can sign: "whsec_" and base64 of 32 random bytes for the HMAC
// presets (each decodes it as its scheme requires), a new private key in
// the preset's documented form for the asymmetric ones. It is meant for
// tests, demos and local tools.
func TestSecret(name string) (string, error) {
	p, ok := registry[name]
	if !ok {
		return "", unknown(name)
	}
	if p.testSecret != nil {
		return p.testSecret()
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:]), nil
}
