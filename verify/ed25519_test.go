package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hookguard/hookguard/verify"
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
	if err != nil {
		t.Fatal(err)
	}
	if v.Keys() != 2 {
		t.Errorf("Keys() = %d, want 2", v.Keys())
	}
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
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("Match = %d, %v; want %d, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}

	// Any change to the signed content fails.
	var sigs verify.Signatures
	sigs.AddRaw(sig1)
	for _, mm := range []verify.Message{
		{Prefix: [4]string{"msg_2", ".", "1700000000", "."}, Body: body},
		{Prefix: m.Prefix, Body: body[1:]},
		{Prefix: m.Prefix, Body: body, Suffix: "x"},
	} {
		if _, err := v.Match(&mm, &sigs); !errors.Is(err, verify.ErrSignatureMismatch) {
			t.Errorf("altered message: err = %v, want mismatch", err)
		}
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
			if !errors.Is(err, tc.want) || v != nil {
				t.Errorf("NewEd25519 = %v, %v; want nil, %v", v, err, tc.want)
			}
		})
	}
	// The verifier keeps its own copy of the keys.
	key := append(ed25519.PublicKey(nil), pub...)
	v, err := verify.NewEd25519(key)
	if err != nil {
		t.Fatal(err)
	}
	_, priv := testKey(1)
	m := verify.Message{Body: []byte("x")}
	var sigs verify.Signatures
	sigs.AddRaw(signEd25519(priv, &m))
	key[0] ^= 0xff
	if i, err := v.Match(&m, &sigs); i != 0 || err != nil {
		t.Errorf("Match after mutating the caller's key = %d, %v; want 0, nil", i, err)
	}
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
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !got.Equal(pub) {
				t.Errorf("key = %x, want %x", got, pub)
			}
			if err != nil && got != nil {
				t.Errorf("failed parse returned key %x", got)
			}
		})
	}
}

func TestEd25519LargeAndConcurrent(t *testing.T) {
	pub, priv := testKey(4)
	v, err := verify.NewEd25519(pub)
	if err != nil {
		t.Fatal(err)
	}
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
		t.Errorf("concurrent Match: %v", err)
	}
}
