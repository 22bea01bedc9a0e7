package providers

import (
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
	{"github", ctor(NewGitHub)},
	{"shopify", ctor(NewShopify)},
	{"slack", ctor(NewSlack)},
	{"standardwebhooks", ctor(NewStandardWebhooks)},
	{"stripe", ctor(NewStripe)},
	{"svix", ctor(NewSvix)},
}

// registry maps each name to its constructor. Each group of presets keeps
// its own list in its own file, so adding a preset touches one file.
var registry = func() map[string]constructor {
	m := make(map[string]constructor)
	for _, group := range [][]registered{corePresets, asymmetricPresets, hmacPresets} {
		for _, p := range group {
			if _, dup := m[p.name]; dup {
				panic("providers: preset " + p.name + " registered twice")
			}
			m[p.name] = p.new
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
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("%w %q: use one of %s", ErrUnknownProvider, name, strings.Join(Names(), ", "))
	}
	return f(secret, opts...)
}
