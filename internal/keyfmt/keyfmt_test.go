package keyfmt_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/keyfmt"
)

var (
	errEmpty   = errors.New("empty secret")
	errInvalid = errors.New("invalid secret")
)

func TestClassify(t *testing.T) {
	if err := keyfmt.Classify(nil, errEmpty, errInvalid); err != nil {
		t.Errorf("nil: %v", err)
	}
	_, err := keyfmt.DER("  ")
	if got := keyfmt.Classify(err, errEmpty, errInvalid); got != errEmpty {
		t.Errorf("blank text: %v, want the empty sentinel itself", got)
	}
	_, err = keyfmt.DER("-----BEGIN PUBLIC KEY-----\nAAAA")
	got := keyfmt.Classify(err, errEmpty, errInvalid)
	if !errors.Is(got, errInvalid) || got.Error() != "invalid secret: malformed PEM block" {
		t.Errorf("broken PEM: %q, want it to wrap the invalid sentinel and give the reason", got)
	}
}

func TestDERAndEd25519Errors(t *testing.T) {
	tests := []struct {
		name, want string
		err        error
	}{
		{"huge", "longer than", func() error { _, err := keyfmt.DER(strings.Repeat("A", keyfmt.MaxKeyText+1)); return err }()},
		{"wrong PEM type", `PEM block "CERTIFICATE"`, func() error {
			_, err := keyfmt.DER("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "PUBLIC KEY")
			return err
		}()},
		{"not base64", "neither PEM nor base64", func() error { _, err := keyfmt.DER("not a key!"); return err }()},
		{"Ed25519 size", "want an Ed25519 key", func() error { _, err := keyfmt.Ed25519("whpk_AAAA", keyfmt.PublicKeyPrefix, 32); return err }()},
		{"Ed25519 blank", "empty key text", func() error { _, err := keyfmt.Ed25519(" ", keyfmt.PublicKeyPrefix, 32); return err }()},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestEd25519Forms(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	for name, s := range map[string]string{
		"prefixed":  "whpk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"hex":       "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"bare":      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"url bare":  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"surrounds": " \tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	} {
		got, err := keyfmt.Ed25519(s, keyfmt.PublicKeyPrefix, 32)
		if err != nil || string(got) != string(key) {
			t.Errorf("%s: %x, %v", name, got, err)
		}
	}
}
