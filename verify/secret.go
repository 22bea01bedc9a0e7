package verify

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/hookguard/hookguard/internal/keyfmt"
)

const redacted = "verify.Secret(REDACTED)"

// Secret is a key for HMAC verification. Its String, GoString, Format and
// LogValue methods print a fixed redaction, so a stray log line or %+v
// cannot leak it. The zero Secret is empty and is rejected wherever a secret
// is required.
type Secret struct {
	// key points to a string, not a slice or struct: fmt prints a struct
	// that holds a Secret in an unexported field (where it cannot call
	// Format) by reflection, and it dereferences pointers to slices and
	// structs for verbs such as %s, but prints only the address of a
	// pointer to a string.
	key *string
}

// bytes returns a copy of the key; nil for the zero Secret.
func (s Secret) bytes() []byte {
	if s.key == nil {
		return nil
	}
	return []byte(*s.key)
}

// NewSecret returns a Secret whose key is the raw bytes of s, as Stripe,
// GitHub, Shopify and Slack use their signing secrets (a Stripe "whsec_"
// secret is used whole, prefix included). It returns [ErrEmptySecret] when
// s is empty.
func NewSecret(s string) (Secret, error) {
	if s == "" {
		return Secret{}, ErrEmptySecret
	}
	return Secret{key: &s}, nil
}

// SecretFromBytes returns a Secret holding a copy of key. It returns
// [ErrEmptySecret] when key is empty.
func SecretFromBytes(key []byte) (Secret, error) {
	if len(key) == 0 {
		return Secret{}, ErrEmptySecret
	}
	k := string(key)
	return Secret{key: &k}, nil
}

// whsecPrefix is the prefix of Standard Webhooks and Svix secrets.
const whsecPrefix = "whsec_"

// ParseWhsec decodes a Standard Webhooks or Svix secret: "whsec_" followed by
// base64 (the prefix is optional, as the reference libraries accept both).
// The key is the decoded bytes. It returns [ErrEmptySecret] for an empty
// secret and an error wrapping [ErrInvalidSecret] when the rest is not
// base64.
func ParseWhsec(s string) (Secret, error) {
	b64 := strings.TrimPrefix(s, whsecPrefix)
	if b64 == "" {
		return Secret{}, ErrEmptySecret
	}
	key, err := keyfmt.Base64Loose(b64)
	if err != nil || len(key) == 0 {
		return Secret{}, fmt.Errorf("%w: a Standard Webhooks secret is %q followed by base64; copy it whole from the sender's dashboard", ErrInvalidSecret, whsecPrefix)
	}
	k := string(key)
	return Secret{key: &k}, nil
}

// IsZero reports whether s holds no key.
func (s Secret) IsZero() bool { return s.Len() == 0 }

// Len returns the key length in bytes.
func (s Secret) Len() int {
	if s.key == nil {
		return 0
	}
	return len(*s.key)
}

// String returns a fixed redaction.
func (Secret) String() string { return redacted }

// GoString returns a fixed redaction.
func (Secret) GoString() string { return redacted }

// Format prints a fixed redaction for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue returns a fixed redaction, so slog never records the key.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns a fixed redaction, so encoders never record the key.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
