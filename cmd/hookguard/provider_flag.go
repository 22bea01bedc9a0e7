package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hookguard/hookguard/providers"
)

// maxSchemeFileSize bounds a --scheme file; providers.ParseScheme refuses
// more than this anyway.
const maxSchemeFileSize = 64 << 10

// providerFlags are --provider and --scheme, the two ways sign, verify and
// send pick the provider.
type providerFlags struct {
	name   *string // --provider NAME
	scheme *string // --scheme FILE
}

// addProviderFlags adds --provider and --scheme to fs.
func addProviderFlags(fs *flagSet) providerFlags {
	return providerFlags{
		name:   fs.String("provider", "", "provider `NAME` (see the list below)"),
		scheme: fs.String("scheme", "", "`FILE` describing a custom signature scheme in JSON, instead of --provider"),
	}
}

// check reports bad usage of the flags, as [checkProviderFlags] does.
func (f providerFlags) check() error { return checkProviderFlags(*f.name, *f.scheme) }

// provider returns the provider the flags select, for secret and opts,
// as [newProvider] does.
func (f providerFlags) provider(e *env, secret string, opts ...providers.Option) (*providers.Preset, error) {
	return newProvider(e, *f.name, *f.scheme, secret, opts...)
}

// checkProviderFlags reports bad usage of --provider and --scheme: exactly
// one of them is required.
func checkProviderFlags(name, schemePath string) error {
	switch {
	case name != "" && schemePath != "":
		return errors.New("--provider and --scheme are alternatives: give one")
	case name == "" && schemePath == "":
		return fmt.Errorf("--provider is required, or --scheme FILE for a custom scheme; providers: %s", strings.Join(providers.Names(), ", "))
	case schemePath == "-":
		return errors.New("--scheme needs a file: standard input is for the body")
	}
	return nil
}

// readScheme reads and validates the --scheme file at path.
func readScheme(e *env, path string) (providers.Scheme, error) {
	data, err := e.readInput(path, maxSchemeFileSize)
	if err != nil {
		return providers.Scheme{}, fmt.Errorf("--scheme: %w", err)
	}
	s, err := providers.ParseScheme(data)
	if err != nil {
		return providers.Scheme{}, fmt.Errorf("--scheme %s: %w", path, err)
	}
	return s, nil
}

// newProvider returns the provider that --provider NAME or --scheme FILE
// selects, for secret and opts. Call [checkProviderFlags] first.
func newProvider(e *env, name, schemePath, secret string, opts ...providers.Option) (*providers.Preset, error) {
	if err := checkProviderFlags(name, schemePath); err != nil {
		return nil, err
	}
	if name != "" {
		return providers.New(name, secret, opts...)
	}
	s, err := readScheme(e, schemePath)
	if err != nil {
		return nil, err
	}
	return newCustomProvider(s, secret, opts...)
}

// newCustomProvider is [providers.NewCustom] returning a Provider: a nil
// *Custom in the interface would not be nil.
func newCustomProvider(s providers.Scheme, secret string, opts ...providers.Option) (*providers.Preset, error) {
	return providers.NewCustom(s, secret, opts...)
}

// readSchemes reads serve's --scheme files. Two schemes cannot share a
// name: the name is the URL path and the --secret key.
func readSchemes(e *env, paths []string) ([]providers.Scheme, error) {
	schemes := make([]providers.Scheme, 0, len(paths))
	for _, path := range paths {
		if path == "" || path == "-" {
			return nil, errors.New("--scheme needs a file: standard input is for the body")
		}
		s, err := readScheme(e, path)
		if err != nil {
			return nil, err
		}
		for _, o := range schemes {
			if o.Name == s.Name {
				return nil, fmt.Errorf("--scheme %s: another --scheme is also named %q; each needs its own name", path, s.Name)
			}
		}
		schemes = append(schemes, s)
	}
	return schemes, nil
}

func schemeNames(schemes []providers.Scheme) []string {
	names := make([]string, len(schemes))
	for i, s := range schemes {
		names[i] = s.Name
	}
	return names
}

// checkSchemeSecrets requires a --secret NAME=SECRET for every scheme.
func checkSchemeSecrets(specs []providerSpec, schemes []providers.Scheme) error {
	for _, sc := range schemes {
		if !slices.ContainsFunc(specs, func(s providerSpec) bool { return s.name == sc.Name }) {
			return fmt.Errorf("--scheme %q has no secret: add --secret %s=SECRET", sc.Name, sc.Name)
		}
	}
	return nil
}

// providerFor builds serve's provider for spec: the --scheme of its name,
// which takes the place of a preset of the same name, or else the preset.
func providerFor(spec providerSpec, schemes []providers.Scheme, opts ...providers.Option) (providers.Provider, error) {
	for _, sc := range schemes {
		if sc.Name == spec.name {
			all := make([]providers.Option, 0, len(spec.secrets)-1+len(opts))
			for _, sec := range spec.secrets[1:] {
				all = append(all, providers.WithSecret(sec))
			}
			return newCustomProvider(sc, spec.secrets[0], append(all, opts...)...)
		}
	}
	return spec.provider(opts...)
}
