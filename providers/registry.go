package providers

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/hookguard/hookguard/internal/testsecret"
)

// constructor builds a preset from its positional secret and options.
type constructor func(secret string, opts ...Option) (*Preset, error)

// registered is one entry of the registry behind [New] and [Names].
type registered struct {
	name string
	new  constructor
	// testSecret, when set, returns a fresh secret for testSecret:
	// asymmetric presets return a private key they can sign with. Nil
	// means a random "whsec_" secret, which every HMAC preset accepts.
	testSecret func() (string, error)
}

// corePresets are the presets of the first release.
var corePresets = []registered{
	{name: "github", new: NewGitHub},
	{name: "shopify", new: NewShopify},
	{name: "slack", new: NewSlack},
	{name: "standardwebhooks", new: NewStandardWebhooks},
	{name: "stripe", new: NewStripe},
	{name: "svix", new: NewSvix},
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

func init() { testsecret.Register(testSecret) }

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
func New(name string, secret string, opts ...Option) (*Preset, error) {
	p, ok := registry[name]
	if !ok {
		return nil, unknown(name)
	}
	return p.new(secret, opts...)
}

func unknown(name string) error {
	return fmt.Errorf("%w %q: use one of %s", ErrUnknownProvider, name, strings.Join(Names(), ", "))
}

// testSecret returns a fresh, random secret that New(name, secret)
// accepts and that can sign: "whsec_" and base64 of 32 random bytes for
// the HMAC presets (each decodes it as its scheme requires), a new private
// key in the preset's documented form for the asymmetric ones. Tests, the
// demo and the command reach it through internal/testsecret.
func testSecret(name string) (string, error) {
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
