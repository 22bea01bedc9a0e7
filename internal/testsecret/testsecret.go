// Package testsecret gives tests, demos and the hookguard command a
// fresh secret for any preset: "whsec_" and base64 of 32 random bytes for
// the HMAC presets (each decodes it as its scheme requires), a new private
// key in the preset's documented form for the asymmetric ones, so that the
// preset can sign with it.
//
// Which form each preset takes is kept next to the preset, in package
// providers' registry, which registers its generator here when it is
// initialised: any program that builds a preset has it.
package testsecret

import (
	"errors"
	"sync/atomic"
)

var gen atomic.Pointer[func(name string) (string, error)]

// Register sets the generator [For] calls. Package providers calls it once,
// at initialisation.
func Register(f func(name string) (string, error)) { gen.Store(&f) }

// For returns a fresh, random secret that providers.New(name, secret)
// accepts and that can sign. It returns the error providers.New returns
// for an unknown name (wrapping providers.ErrUnknownProvider).
func For(name string) (string, error) {
	f := gen.Load()
	if f == nil {
		return "", errors.New("testsecret: no generator registered: import package providers")
	}
	return (*f)(name)
}
