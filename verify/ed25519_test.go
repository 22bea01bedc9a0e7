package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey derives a deterministic key pair from a one-byte seed pattern.
func testKey(b byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b + byte(i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return priv.Public().(ed25519.PublicKey), priv
}

// signEd25519 signs the content m describes, laid out contiguously.
func signEd25519(priv ed25519.PrivateKey, m *verify.Message) []byte {
	return ed25519.Sign(priv, m.AppendTo(nil))
}

func TestEd25519RoundTrip(t *testing.T) {
	pub1, priv1 := testKey(1)
	pub2, priv2 := testKey(2)
	_, priv3 := testKey(3)
	v, err := verify.NewEd25519(pub1, pub2)
	require.NoError(t, err)
	assert.Equal(t, 2, v.Keys(), "Keys()")
	body := []byte(strings.Repeat(`{"type":"ping"}`, 400)) // larger than the pooled buffer
	m := verify.Message{Prefix: [4]string{"msg_1", ".", "1700000000", "."}, Body: body}
	sig1, sig2, sig3 := signEd25519(priv1, &m), signEd25519(priv2, &m), signEd25519(priv3, &m)

	tests := []struct {
		name    string
		sigs    [][]byte
		want    int
		wantErr error
	}{
		{"first key", [][]byte{sig1}, 0, nil},
		{"second key", [][]byte{sig2}, 1, nil},
		{"first key wins", [][]byte{sig2, sig1}, 0, nil},
		{"wrong key", [][]byte{sig3}, -1, verify.ErrSignatureMismatch},
		{"wrong key then right", [][]byte{sig3, sig2}, 1, nil},
		{"short signature", [][]byte{sig1[:63]}, -1, verify.ErrSignatureMismatch},
		{"HMAC-sized signature", [][]byte{sig1[:32]}, -1, verify.ErrSignatureMismatch},
		{"no signatures", nil, -1, verify.ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sigs verify.Signatures
			for _, s := range tc.sigs {
				sigs.AddRaw(s)
			}
			got, err := v.Match(&m, &sigs)
			assert.ErrorIs(t, err, tc.wantErr, "Match error (a nil want means no error)")
			assert.Equal(t, tc.want, got, "Match index")
		})
	}

	// Any change to the signed content fails.
	var sigs verify.Signatures
	sigs.AddRaw(sig1)
	for name, mm := range map[string]verify.Message{
		"other ID":       {Prefix: [4]string{"msg_2", ".", "1700000000", "."}, Body: body},
		"shorter body":   {Prefix: m.Prefix, Body: body[1:]},
		"added a suffix": {Prefix: m.Prefix, Body: body, Suffix: "x"},
	} {
		_, err := v.Match(&mm, &sigs)
		assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "altered message: %s", name)
	}
}

func TestNewEd25519Errors(t *testing.T) {
	pub, _ := testKey(1)
	tests := []struct {
		name string
		keys []ed25519.PublicKey
		want error
	}{
		{"no keys", nil, verify.ErrEmptySecret},
		{"empty key", []ed25519.PublicKey{{}}, verify.ErrInvalidSecret},
		{"short key", []ed25519.PublicKey{pub[:31]}, verify.ErrInvalidSecret},
		{"private-key sized", []ed25519.PublicKey{make([]byte, 64)}, verify.ErrInvalidSecret},
		{"bad second key", []ed25519.PublicKey{pub, pub[:1]}, verify.ErrInvalidSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verify.NewEd25519(tc.keys...)
			assert.ErrorIs(t, err, tc.want, "NewEd25519 error")
			assert.Nil(t, v, "NewEd25519 returned a verifier with an error")
		})
	}
	// The verifier keeps its own copy of the keys.
	key := append(ed25519.PublicKey(nil), pub...)
	v, err := verify.NewEd25519(key)
	require.NoError(t, err)
	_, priv := testKey(1)
	m := verify.Message{Body: []byte("x")}
	var sigs verify.Signatures
	sigs.AddRaw(signEd25519(priv, &m))
	key[0] ^= 0xff
	i, err := v.Match(&m, &sigs)
	assert.NoError(t, err, "Match after mutating the caller's key")
	assert.Equal(t, 0, i, "Match after mutating the caller's key")
}

func TestParseEd25519PublicKey(t *testing.T) {
	pub, _ := testKey(7)
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"whpk base64", "whpk_" + base64.StdEncoding.EncodeToString(pub), nil},
		{"whpk base64 unpadded", "whpk_" + base64.RawStdEncoding.EncodeToString(pub), nil},
		{"hex lower (Discord)", hex.EncodeToString(pub), nil},
		{"hex upper", strings.ToUpper(hex.EncodeToString(pub)), nil},
		{"bare base64", base64.StdEncoding.EncodeToString(pub), nil},
		{"bare url base64", base64.RawURLEncoding.EncodeToString(pub), nil},
		{"surrounding spaces", "  " + hex.EncodeToString(pub) + "\n", nil},
		{"empty", "", verify.ErrEmptySecret},
		{"only spaces", "   ", verify.ErrEmptySecret},
		{"prefix only", "whpk_", verify.ErrInvalidSecret},
		{"wrong prefix", "whsk_" + base64.StdEncoding.EncodeToString(pub), verify.ErrInvalidSecret},
		{"hex too short", hex.EncodeToString(pub[:31]), verify.ErrInvalidSecret},
		{"base64 too long", base64.StdEncoding.EncodeToString(append(pub, 0)), verify.ErrInvalidSecret},
		{"garbage", "not a key at all!", verify.ErrInvalidSecret},
		{"hex behind whpk prefix", "whpk_" + hex.EncodeToString(pub), verify.ErrInvalidSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := verify.ParseEd25519PublicKey(tc.in)
			require.ErrorIs(t, err, tc.wantErr, "ParseEd25519PublicKey error (a nil want means no error)")
			if err == nil {
				assert.Equal(t, pub, got, "key")
			} else {
				assert.Nil(t, got, "failed parse returned a key")
			}
		})
	}
}

func TestEd25519LargeAndConcurrent(t *testing.T) {
	pub, priv := testKey(4)
	v, err := verify.NewEd25519(pub)
	require.NoError(t, err)
	sizes := []int{0, 1, 4096, 70_000, 300_000} // around and past the pooled buffer limits
	type item struct {
		m    verify.Message
		sigs verify.Signatures
	}
	items := make([]*item, len(sizes))
	for i, n := range sizes {
		it := &item{m: verify.Message{Prefix: [4]string{"id", "."}, Body: bytes.Repeat([]byte{byte(i)}, n)}}
		it.sigs.AddRaw(signEd25519(priv, &it.m))
		items[i] = it
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(items))
	for range 4 {
		for _, it := range items {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := v.Match(&it.m, &it.sigs); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "concurrent Match")
	}
}
