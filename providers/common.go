package providers

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// This file holds small steps that many presets take the same way, so
// that each preset's file shows only what is particular to its sender.

// newPresetConfig starts a constructor: it applies opts after secret (see
// newConfig) and refuses WithLegacySHA1 and every option of
// options_asymmetric.go outside allowed (see onlyAsym).
func newPresetConfig(name, secret string, opts []Option, allowed asymOption) (*config, error) {
	c, err := newConfig(name, secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.onlyAsym(name, allowed); err != nil {
		return nil, err
	}
	return c, nil
}

// newHMACPreset is newPresetConfig for a preset keyed with raw shared
// secrets for HMAC-SHA256: it also returns the keyed HMAC.
func newHMACPreset(name, secret string, opts []Option, allowed asymOption) (*config, *verify.HMAC, error) {
	c, err := newPresetConfig(name, secret, opts, allowed)
	if err != nil {
		return nil, nil, err
	}
	mac, err := hmacSecrets(name, c.secrets)
	if err != nil {
		return nil, nil, err
	}
	return c, mac, nil
}

// unixHeaderTime checks a timestamp header read with single (ts, present,
// one): it must be there, with one value, a Unix time in seconds. display
// is the header's name as the errors write it.
func unixHeaderTime(name, display, ts string, present, one bool) (time.Time, error) {
	if !present {
		return time.Time{}, verify.Fail(name, verify.ErrMissingTimestamp, "no "+display+" header")
	}
	t, err := verify.ParseUnix(ts)
	if err != nil || !one {
		return time.Time{}, verify.Fail(name, verify.ErrMalformedTimestamp, display+" must be one Unix time in seconds")
	}
	return t, nil
}

// lenientUnixTime is the timestamp a preset built with
// InsecureSkipVerification reports: the header's time when it holds one
// valid Unix time in seconds, the zero time otherwise.
func lenientUnixTime(ts string, one bool) time.Time {
	if t, err := verify.ParseUnix(ts); err == nil && one {
		return t
	}
	return time.Time{}
}

// parseP256Key reads a P-256 public key as base64 DER or PEM or, when
// private is true, a private key too (returned with its public half). The
// error is the public-key parser's.
func parseP256Key(s string, private bool) (*ecdsa.PublicKey, *ecdsa.PrivateKey, error) {
	pub, err := verify.ParseP256PublicKey(s)
	if err == nil {
		return pub, nil, nil
	}
	if private {
		if k, perr := verify.ParseP256PrivateKey(s); perr == nil {
			return &k.PublicKey, k, nil
		}
	}
	return nil, nil, err
}

// bodySHA256Matches reports whether hexSum, in either case, is the hex
// SHA-256 of body, comparing in constant time. Plaid (a JWT claim) and
// Twilio (a URL parameter) sign this digest instead of the body.
func bodySHA256Matches(body []byte, hexSum string) bool {
	sum := sha256.Sum256(body)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], sum[:])
	return subtle.ConstantTimeCompare(want[:], []byte(strings.ToLower(hexSum))) == 1
}

// checkSigValues fails when the values of a signature header are missing
// or too long together. display names the header in the errors; hint,
// what to check when it is missing. The reasons are built only on failure,
// so that a verification that passes allocates nothing here.
func checkSigValues(name string, vals []string, display, hint string) error {
	if len(vals) == 0 {
		return verify.Fail(name, verify.ErrMissingSignature, "no "+display+" header: "+hint)
	}
	if tooLong(vals) {
		return verify.Fail(name, verify.ErrMalformedSignature, display+" header is too long")
	}
	return nil
}
