package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// FuzzHMACMessage checks that the MAC of a Message (prefix parts, body,
// suffix, strings fed through a scratch buffer) equals crypto/hmac over the
// same bytes concatenated, for parts of any length, including ones longer
// than the scratch buffer, and that Match accepts that MAC.
func FuzzHMACMessage(f *testing.F) {
	f.Add("1700000000", ".", "", "", []byte(`{"id":"evt_1"}`), "", uint16(0))
	f.Add("v0:", "1700000000", ":", "", []byte("body"), "", uint16(0))
	f.Add("msg_1", ".", "1700000000", ".", []byte("{}"), "", uint16(0))
	f.Add("", "", "", "", []byte{}, "suffix", uint16(300))
	f.Add("a", "b", "c", "d", []byte("x"), "e", uint16(250))
	f.Fuzz(func(t *testing.T, p0, p1, p2, p3 string, body []byte, suffix string, pad uint16) {
		// pad lengthens p1 past the scratch buffer's size at varying
		// offsets.
		p1 += strings.Repeat("p", int(pad)%600)
		m := verify.Message{Prefix: [4]string{p0, p1, p2, p3}, Body: body, Suffix: suffix}
		key := []byte("fuzz secret")
		s, err := verify.NewSecret(string(key))
		require.NoError(t, err)
		h, err := verify.NewHMAC(verify.SHA256, s)
		require.NoError(t, err)
		ref := hmac.New(sha256.New, key)
		ref.Write([]byte(p0 + p1 + p2 + p3))
		ref.Write(body)
		ref.Write([]byte(suffix))
		want := ref.Sum(nil)
		// Twice, so the second run uses a pooled state after Reset.
		for range 2 {
			require.Equal(t, want, h.AppendSum(nil, 0, &m), "AppendSum must equal crypto/hmac")
		}
		var sigs verify.Signatures
		sigs.AddRaw(want)
		i, err := h.Match(&m, &sigs, nil)
		require.NoError(t, err, "Match")
		require.Equal(t, 0, i, "Match index")
	})
}
