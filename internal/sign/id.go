package sign

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// IDPlace says where a preset reads a delivery's event ID from.
type IDPlace struct {
	// Header is true when the ID travels in a header, set from
	// [Spec.ID].
	Header bool
	// Field is the top-level JSON field of the body that holds the ID,
	// such as "id" for Stripe or "event_id" for Slack; empty when the ID
	// is in a header or the body carries none.
	Field string
	// Value is the ID the body holds in Field.
	Value string
}

// FindID learns where p reads the event ID of body from, by signing body
// with a probe ID and verifying it: if p reports the probe, the ID is a
// header; if it reports a value that a top-level string field of body
// holds, that field is the ID. Both are empty when p finds no ID (a Slack
// url_verification, a body without one). It works for any preset, so
// presets added later need no table here.
func FindID(p providers.Provider, body []byte, url, contentType string) (IDPlace, error) {
	probe := "hookguard-probe-" + randomHex(8)
	now := time.Now()
	d, err := Build(p, Spec{Body: body, ID: probe, Time: now, URL: url, ContentType: contentType})
	if err != nil {
		return IDPlace{}, err
	}
	got, err := p.Verify(verify.Request{Method: d.Method, URL: d.URL, Header: d.Header, Body: d.Body}, now)
	if err != nil {
		return IDPlace{}, fmt.Errorf("%s does not verify its own signature: %w", p.Name(), err)
	}
	switch got.ID {
	case "":
		return IDPlace{}, nil
	case probe:
		return IDPlace{Header: true}, nil
	}
	field, err := fieldWithValue(body, got.ID)
	if err != nil {
		return IDPlace{}, err
	}
	return IDPlace{Field: field, Value: got.ID}, nil
}

// ErrNoIDField means the event ID is not the value of a top-level string
// field of the body, so a fresh one cannot be written into it.
var ErrNoIDField = errors.New("the event ID is not a top-level string field of the body")

// fieldWithValue returns the first top-level field of the JSON object body
// (or of the first object of a JSON array, as HubSpot and SendGrid send)
// whose value is the string want, or the number want spells.
func fieldWithValue(body []byte, want string) (string, error) {
	var found string
	err := walkTop(body, func(key string, raw json.RawMessage, _, _ int) bool {
		var s string
		if json.Unmarshal(raw, &s) == nil && s == want || isNumber(raw) && string(raw) == want {
			found = key
			return false
		}
		return true
	})
	if err != nil {
		return "", err
	}
	if found == "" {
		return "", ErrNoIDField
	}
	return found, nil
}

// SetField returns a copy of the JSON object body (or of a JSON array whose
// first element is an object: then that object's field) in which the
// top-level field's value is replaced by value, byte for byte: everything
// else, including spacing, key order and nested fields of the same name,
// is left as it was. A string value is replaced by the JSON string value;
// a number by value, which must then be digits. It fails when body is not
// such JSON or the field is missing, of another kind, or appears more than
// once.
func SetField(body []byte, field, value string) ([]byte, error) {
	start, end, n := -1, -1, 0
	number := false
	err := walkTop(body, func(key string, raw json.RawMessage, s, e int) bool {
		if key == field {
			n++
			number = isNumber(raw)
			if len(raw) == 0 || raw[0] != '"' && !number {
				start = -2
				return false
			}
			start, end = s, e
		}
		return true
	})
	switch {
	case err != nil:
		return nil, err
	case start == -2:
		return nil, fmt.Errorf("field %q is not a string or a number", field)
	case n == 0:
		return nil, fmt.Errorf("no top-level field %q", field)
	case n > 1:
		return nil, fmt.Errorf("field %q appears %d times", field, n)
	}
	var enc []byte
	if number {
		if value == "" || strings.Trim(value, "0123456789") != "" || len(value) > 1 && value[0] == '0' {
			return nil, fmt.Errorf("field %q is a number; %q is not one", field, value)
		}
		enc = []byte(value)
	} else if enc, err = json.Marshal(value); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)-(end-start)+len(enc))
	out = append(out, body[:start]...)
	out = append(out, enc...)
	return append(out, body[end:]...), nil
}

// walkTop calls fn with each top-level key of the JSON object body (or of
// the first element of a JSON array, when that is an object), its raw
// value and the value's byte offsets, until fn returns false.
func walkTop(body []byte, fn func(key string, raw json.RawMessage, start, end int) bool) error {
	if !json.Valid(body) {
		return errors.New("body is not JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); ok && d == '[' {
		if tok, err = dec.Token(); err != nil {
			return errors.New("body is an empty JSON array")
		}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("body is not a JSON object, nor an array of objects")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("body is not JSON: %w", err)
		}
		key, _ := tok.(string)
		afterKey := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("body is not JSON: %w", err)
		}
		end := int(dec.InputOffset())
		// The value is the last len(raw) bytes before end: Decode
		// consumed the colon and any space before it.
		start := end - len(raw)
		if start < int(afterKey) || !bytes.Equal(body[start:end], raw) {
			return errors.New("body is not canonical enough to rewrite")
		}
		if !fn(key, raw, start, end) {
			return nil
		}
	}
	return nil // json.Valid vouched for the rest
}

// isNumber reports whether raw is a JSON number.
func isNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9')
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b)
}

// FreshID returns a new random ID shaped like old: its prefix up to and
// including the last '_' or '-' is kept (evt_, Ev, msg_), the rest is
// replaced by random characters of the same length (at least 16), upper
// and lower case letters and digits as old used them.
func FreshID(old string) string {
	cut := 0
	for i := 0; i < len(old); i++ {
		if old[i] == '_' || old[i] == '-' {
			cut = i + 1
		}
	}
	prefix, rest := old[:cut], old[cut:]
	n := max(len(rest), 16)
	var upper, lower, digit bool
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		upper = upper || 'A' <= c && c <= 'Z'
		lower = lower || 'a' <= c && c <= 'z'
		digit = digit || '0' <= c && c <= '9'
	}
	alphabet := ""
	if upper {
		alphabet += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	}
	if lower {
		alphabet += "abcdefghijklmnopqrstuvwxyz"
	}
	if digit || alphabet == "" {
		alphabet += "0123456789"
	}
	if prefix == "" && rest != "" && !upper && !lower {
		// A numeric ID (Shopify, HubSpot) stays a number of the same
		// length, without a leading zero.
		n = len(rest)
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	if prefix == "" && alphabet == "0123456789" && b[0] == '0' {
		b[0] = '1' + b[0]%9
	}
	return prefix + string(b)
}
