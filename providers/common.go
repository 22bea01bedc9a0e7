package providers

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash/maphash"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

// This file holds small steps that many presets take the same way, so
// that each preset's file shows only what is particular to its sender.

// newPresetConfig starts a constructor: it applies opts after secret (see
// newConfig) and refuses WithLegacySHA1 and every option of
// options_asymmetric.go outside allowed (see onlyAsym).
func newPresetConfig(name, secret string, opts []Option, allowed asymOption) (*config, error) {
	c, err := parseConfig(name, secret, opts)
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
	t, err := unixtime.Parse(ts)
	if err != nil || !one {
		return time.Time{}, verify.Fail(name, verify.ErrMalformedTimestamp, display+" must be one Unix time in seconds")
	}
	return t, nil
}

// lenientUnixTime is the timestamp a preset built with
// InsecureSkipVerification reports: the header's time when it holds one
// valid Unix time in seconds, the zero time otherwise.
func lenientUnixTime(ts string, one bool) time.Time {
	if t, err := unixtime.Parse(ts); err == nil && one {
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
		if k, perr := keys.ParseP256PrivateKey(s); perr == nil {
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

// typeCache interns event types, so that a type seen before costs no
// allocation: a sender uses a few hundred types, each in many deliveries.
// It is a fixed table with one string per slot, chosen by a hash of the
// type, and a type that collides replaces the one in its slot; so it holds
// at most len(typeCache) strings of at most maxInternedType bytes whatever
// the bodies say, and a miss costs only the allocation it would have cost
// anyway (plus the slot's pointer). Safe for concurrent use.
var (
	typeCache [256]atomic.Pointer[string]
	typeSeed  = maphash.MakeSeed()
)

// maxInternedType bounds the types kept in typeCache; longer ones are
// allocated per delivery.
const maxInternedType = 64

// internType returns string(b), from typeCache when it holds it.
func internType(b []byte) string {
	if len(b) == 0 || len(b) > maxInternedType {
		return string(b)
	}
	slot := &typeCache[maphash.Bytes(typeSeed, b)%uint64(len(typeCache))]
	if p := slot.Load(); p != nil && *p == string(b) { // the comparison does not allocate
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// typeField returns the top-level typeKey of body as bodyField reads it,
// interned: no allocation for a type seen before. A sender that writes the
// type last (Stripe, Standard Webhooks) costs a few bytes read from the
// end: that last member is what encoding/json decodes into a struct and a
// map alike, whatever came before (see jsonscan.LastField). Otherwise
// the forward scan reads the whole object and refuses a name that occurs
// twice.
func typeField(provider string, body []byte, typeKey string) (string, error) {
	var arr [128]byte // on the stack: longer than any type interned
	buf, ok := jsonscan.AppendLastField(arr[:0], body, typeKey)
	if !ok {
		ms := [1]jsonscan.Member{{Key: typeKey}}
		var err error
		if buf, err = jsonscan.AppendMembers(buf, body, ms[:]); err != nil {
			return "", bodyJSONError(provider, err)
		}
		if ms[0].Raw != nil {
			buf = buf[:0]
		}
	}
	return internType(buf), nil
}
