package main

import (
	"errors"
	"fmt"
	"strings"
)

// maxSecretFileSize bounds a --secret-file: the largest secrets are PEM or
// JWK public keys of a few hundred bytes.
const maxSecretFileSize = 64 << 10

// Where a secret comes from.
const (
	secretInline = iota // --secret VALUE: visible in the process list
	secretFile          // --secret-file PATH
	secretEnv           // --secret-env VAR
)

// secretSource is one --secret, --secret-file or --secret-env argument, as
// given: the value is resolved by [secretSource.resolve].
type secretSource struct {
	kind int
	arg  string // VALUE, PATH or VAR; for serve prefixed with PROVIDER=
}

// flagName is the flag the source was given with.
func (s secretSource) flagName() string {
	switch s.kind {
	case secretFile:
		return "--secret-file"
	case secretEnv:
		return "--secret-env"
	}
	return "--secret"
}

// secretList collects --secret, --secret-file and --secret-env in the
// order given, so that the first is the primary secret whichever flag
// brought it. Its Set never fails, so the flag package never echoes a
// value.
type secretList []secretSource

// secretFlag is one of the three flags of a [secretList].
type secretFlag struct {
	list *secretList
	kind int
}

func (f secretFlag) String() string { return "" }

func (f secretFlag) Set(s string) error {
	*f.list = append(*f.list, secretSource{kind: f.kind, arg: s})
	return nil
}

// addSecretFlags adds --secret, --secret-file and --secret-env to fs, all
// filling one list. perProvider makes the arguments PROVIDER=... (serve);
// usage is the text of --secret.
func addSecretFlags(fs *flagSet, perProvider bool, usage string) *secretList {
	var l secretList
	val, file, env, repeat := "`SECRET`", "`PATH`: the secret", "`VAR`: the secret", "; used like --secret, in the order given with it"
	if perProvider {
		val, file, env = "`PROVIDER=SECRET`", "`PROVIDER=PATH`: PROVIDER's secret", "`PROVIDER=VAR`: PROVIDER's secret"
		repeat = "; repeatable like --secret, the secrets of a provider keep the order given across --secret, --secret-file and --secret-env"
	}
	fs.Var(secretFlag{&l, secretInline}, "secret", val+": "+usage+". Any local user can read it in the process list: prefer --secret-file or --secret-env")
	fs.Var(secretFlag{&l, secretFile}, "secret-file", file+" read from the file at PATH (one trailing newline is dropped)"+repeat)
	fs.Var(secretFlag{&l, secretEnv}, "secret-env", env+" read from the environment variable VAR"+repeat)
	return &l
}

// errEmptySecret is wrapped by the errors of a secret that resolves to "".
var errEmptySecret = errors.New("empty secret")

// resolve returns the secret that arg (s.arg without any PROVIDER=) names.
// Errors name the flag and the file or variable, never the value.
func (s secretSource) resolve(e *env, arg string) (string, error) {
	switch s.kind {
	case secretFile:
		if arg == "" || arg == "-" {
			return "", fmt.Errorf("%s: want a file path; standard input is for the body", s.flagName())
		}
		data, err := readInput(arg, nil, maxSecretFileSize)
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", s.flagName(), arg, err)
		}
		v := string(data)
		if strings.HasSuffix(v, "\n") {
			v = strings.TrimSuffix(strings.TrimSuffix(v, "\n"), "\r")
		}
		if v == "" {
			return "", fmt.Errorf("%s %s: %w: the file holds no secret", s.flagName(), arg, errEmptySecret)
		}
		return v, nil
	case secretEnv:
		if arg == "" {
			return "", fmt.Errorf("%s: want the name of an environment variable", s.flagName())
		}
		v, ok := e.getenv(arg)
		if !ok {
			return "", fmt.Errorf("%s %s: the environment variable %s is not set", s.flagName(), arg, arg)
		}
		if v == "" {
			return "", fmt.Errorf("%s %s: %w: the environment variable %s is set but empty", s.flagName(), arg, errEmptySecret, arg)
		}
		return v, nil
	}
	if arg == "" {
		return "", fmt.Errorf("%s: %w", s.flagName(), errEmptySecret)
	}
	return arg, nil
}

// values resolves every source of a single-provider command (sign, verify,
// send), in order.
func (l secretList) values(e *env) ([]string, error) {
	out := make([]string, 0, len(l))
	for _, s := range l {
		v, err := s.resolve(e, s.arg)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// providerSecret is one resolved PROVIDER=... argument of serve.
type providerSecret struct {
	provider string
	secret   string
}

// perProvider resolves serve's PROVIDER=VALUE, PROVIDER=PATH and
// PROVIDER=VAR arguments, in order. Errors name an argument by its
// position among the secret flags (1-based), never by its value.
func (l secretList) perProvider(e *env) ([]providerSecret, error) {
	out := make([]providerSecret, 0, len(l))
	for i, s := range l {
		name, arg, ok := strings.Cut(s.arg, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || arg == "" {
			shape := map[int]string{secretInline: "PROVIDER=SECRET, as in --secret stripe=whsec_xxx", secretFile: "PROVIDER=PATH, as in --secret-file stripe=/run/secrets/stripe", secretEnv: "PROVIDER=VAR, as in --secret-env stripe=STRIPE_SECRET"}[s.kind]
			return nil, fmt.Errorf("%s %d: want %s", s.flagName(), i+1, shape)
		}
		v, err := s.resolve(e, arg)
		if err != nil {
			if s.kind == secretInline {
				return nil, fmt.Errorf("secret argument %d for %s: %w", i+1, name, err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, providerSecret{provider: name, secret: v})
	}
	return out, nil
}

// singleSecret resolves the one secret of sign and send.
func singleSecret(e *env, l secretList) (string, error) {
	switch len(l) {
	case 0:
		return "", errors.New("--secret is required, or --secret-file PATH or --secret-env VAR (which keep it out of the process list)")
	case 1:
		vs, err := l.values(e)
		if err != nil {
			return "", err
		}
		return vs[0], nil
	}
	return "", fmt.Errorf("%d secrets given; this command signs with one: give one of --secret-file, --secret-env or --secret", len(l))
}
