package verify_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"sync"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustSecret(t testing.TB, key []byte) verify.Secret {
	t.Helper()
	s, err := verify.SecretFromBytes(key)
	require.NoError(t, err, "SecretFromBytes")
	return s
}

func mustHMAC(t testing.TB, alg verify.Algorithm, keys ...string) *verify.HMAC {
	t.Helper()
	secrets := make([]verify.Secret, len(keys))
	for i, k := range keys {
		secrets[i] = mustSecret(t, []byte(k))
	}
	h, err := verify.NewHMAC(alg, secrets...)
	require.NoError(t, err, "NewHMAC")
	return h
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err, "bad hex in test")
	return b
}

// Known-answer vectors. SHA-1 cases are from RFC 2202 section 3, SHA-256
// and SHA-512 cases from RFC 4231 section 4 (test cases 1, 2, 3 and 6).
func TestHMACKnownAnswers(t *testing.T) {
	rep := func(b byte, n int) string { return string(bytes.Repeat([]byte{b}, n)) }
	tests := []struct {
		name string
		alg  verify.Algorithm
		key  string
		data string
		want string
	}{
		{"RFC 2202 case 1", verify.SHA1, rep(0x0b, 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
		{"RFC 2202 case 2", verify.SHA1, "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"RFC 2202 case 3", verify.SHA1, rep(0xaa, 20), rep(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
		{"RFC 2202 case 6", verify.SHA1, rep(0xaa, 80), "Test Using Larger Than Block-Size Key - Hash Key First", "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
		{"RFC 4231 case 1 SHA-256", verify.SHA256, rep(0x0b, 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"RFC 4231 case 2 SHA-256", verify.SHA256, "Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"RFC 4231 case 3 SHA-256", verify.SHA256, rep(0xaa, 20), rep(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"RFC 4231 case 6 SHA-256", verify.SHA256, rep(0xaa, 131), "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{"RFC 4231 case 1 SHA-512", verify.SHA512, rep(0x0b, 20), "Hi There", "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"RFC 4231 case 2 SHA-512", verify.SHA512, "Jefe", "what do ya want for nothing?", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{"RFC 4231 case 3 SHA-512", verify.SHA512, rep(0xaa, 20), rep(0xdd, 50), "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
		{"RFC 4231 case 6 SHA-512", verify.SHA512, rep(0xaa, 131), "Test Using Larger Than Block-Size Key - Hash Key First", "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHMAC(t, tc.alg, tc.key)
			want := mustHex(t, tc.want)
			// The same content laid out three ways must give one MAC.
			d := tc.data
			layouts := map[string]verify.Message{
				"body":   {Body: []byte(d)},
				"prefix": {Prefix: [4]string{d}},
				"split":  {Prefix: [4]string{d[:1], "", d[1 : len(d)/2]}, Body: []byte(d[len(d)/2 : len(d)-1]), Suffix: d[len(d)-1:]},
			}
			for name, m := range layouts {
				assert.Equal(t, want, h.AppendSum(nil, 0, &m), "%s: AppendSum", name)
				var sigs verify.Signatures
				sigs.AddRaw(want)
				i, err := h.Match(&m, &sigs, nil)
				assert.NoError(t, err, "%s: Match", name)
				assert.Equal(t, 0, i, "%s: Match index", name)
			}
			assert.Equal(t, len(want), tc.alg.Size(), "Size()")
		})
	}
}

func TestAlgorithm(t *testing.T) {
	tests := []struct {
		alg  verify.Algorithm
		name string
		size int
	}{
		{verify.SHA256, "sha256", 32},
		{verify.SHA1, "sha1", 20},
		{verify.SHA512, "sha512", 64},
		{verify.Algorithm(0), "unknown", 0},
		{verify.Algorithm(200), "unknown", 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.name, tc.alg.String(), "Algorithm(%d).String()", uint8(tc.alg))
		assert.Equal(t, tc.size, tc.alg.Size(), "Algorithm(%d).Size()", uint8(tc.alg))
	}
}

// TestHMACAppendSumMatchesStdlib checks AppendSum against crypto/hmac over
// the concatenated message, including prefixes longer than the internal
// scratch buffer.
func TestHMACAppendSumMatchesStdlib(t *testing.T) {
	long := string(bytes.Repeat([]byte("0123456789"), 100))
	msgs := map[string]verify.Message{
		"empty":       {},
		"long prefix": {Prefix: [4]string{long, ".", long[:257]}, Body: []byte("body")},
		"long suffix": {Body: []byte("b"), Suffix: long},
		"all parts":   {Prefix: [4]string{"a", "b", "c", "d"}, Body: bytes.Repeat([]byte{0}, 5000), Suffix: "e"},
	}
	algs := map[verify.Algorithm]func() hash.Hash{verify.SHA1: sha1.New, verify.SHA256: sha256.New, verify.SHA512: sha512.New}
	for alg, newHash := range algs {
		for name, m := range msgs {
			t.Run(alg.String()+"/"+name, func(t *testing.T) {
				keys := []string{"first secret", "second secret"}
				h := mustHMAC(t, alg, keys...)
				for i, k := range keys {
					ref := hmac.New(newHash, []byte(k))
					ref.Write(m.AppendTo(nil))
					want := append([]byte("x"), ref.Sum(nil)...)
					assert.Equal(t, want, h.AppendSum([]byte("x"), i, &m), "AppendSum(secret %d) must append to dst", i)
				}
			})
		}
	}
}

func TestNewHMACErrors(t *testing.T) {
	good := mustSecret(t, []byte("k"))
	tests := []struct {
		name    string
		alg     verify.Algorithm
		secrets []verify.Secret
		want    error
	}{
		{"no secret", verify.SHA256, nil, verify.ErrEmptySecret},
		{"zero secret", verify.SHA256, []verify.Secret{{}}, verify.ErrEmptySecret},
		{"zero secret after a good one", verify.SHA256, []verify.Secret{good, {}}, verify.ErrEmptySecret},
		{"unknown algorithm", verify.Algorithm(0), []verify.Secret{good}, verify.ErrInvalidSecret},
		{"out of range algorithm", verify.Algorithm(9), []verify.Secret{good}, verify.ErrInvalidSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := verify.NewHMAC(tc.alg, tc.secrets...)
			assert.ErrorIs(t, err, tc.want, "NewHMAC error")
			assert.Nil(t, h, "NewHMAC returned a non-nil HMAC with an error")
		})
	}
	h, err := verify.NewHMAC(verify.SHA512, good, good)
	require.NoError(t, err, "NewHMAC(SHA512, 2 secrets)")
	assert.Equal(t, 2, h.Secrets(), "NewHMAC(SHA512, 2 secrets).Secrets()")
	assert.Equal(t, verify.SHA512, h.Algorithm(), "NewHMAC(SHA512, 2 secrets).Algorithm()")
}

func TestHMACMatch(t *testing.T) {
	keys := []string{"old", "new", "newest"}
	h := mustHMAC(t, verify.SHA256, keys...)
	m := verify.Message{Prefix: [4]string{"1700000000", "."}, Body: []byte(`{"id":"evt_1"}`)}
	macs := make([][]byte, len(keys))
	for i := range keys {
		macs[i] = h.AppendSum(nil, i, &m)
	}
	other := mustHMAC(t, verify.SHA256, "unrelated").AppendSum(nil, 0, &m)

	tests := []struct {
		name    string
		sigs    [][]byte
		want    int
		wantErr error
	}{
		{"first secret", [][]byte{macs[0]}, 0, nil},
		{"second secret", [][]byte{macs[1]}, 1, nil},
		{"third secret", [][]byte{macs[2]}, 2, nil},
		{"first secret wins over later signature order", [][]byte{macs[2], macs[0]}, 0, nil},
		{"match after wrong signatures", [][]byte{other, other[:16], macs[1]}, 1, nil},
		{"only wrong", [][]byte{other}, -1, verify.ErrSignatureMismatch},
		{"truncated MAC", [][]byte{macs[0][:31]}, -1, verify.ErrSignatureMismatch},
		{"MAC with extra byte", [][]byte{append(append([]byte(nil), macs[0]...), 0)}, -1, verify.ErrSignatureMismatch},
		{"empty", nil, -1, verify.ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sigs verify.Signatures
			for _, s := range tc.sigs {
				require.True(t, sigs.AddRaw(s), "AddRaw(%x)", s)
			}
			var digest [32]byte
			got, err := h.Match(&m, &sigs, &digest)
			if tc.wantErr == nil {
				require.NoError(t, err, "Match")
			} else {
				require.ErrorIs(t, err, tc.wantErr, "Match")
			}
			require.Equal(t, tc.want, got, "Match index")
			if err != nil {
				assert.Zero(t, digest, "digest written on mismatch")
				return
			}
			assert.Equal(t, sha256.Sum256(macs[got]), digest, "digest must be sha256(mac)")
			assert.NotEqual(t, macs[got], digest[:], "digest equals the MAC itself")
			// A nil digest is allowed.
			i, err := h.Match(&m, &sigs, nil)
			assert.NoError(t, err, "Match with nil digest")
			assert.Equal(t, got, i, "Match with nil digest")
		})
	}
}

func TestHMACMatchBitFlips(t *testing.T) {
	h := mustHMAC(t, verify.SHA256, "secret")
	body := []byte(`{"id":"evt_1","type":"x"}`)
	m := verify.Message{Prefix: [4]string{"1700000000", "."}, Body: body}
	mac := h.AppendSum(nil, 0, &m)
	for i := range len(mac) * 8 {
		bad := append([]byte(nil), mac...)
		bad[i/8] ^= 1 << (i % 8)
		var sigs verify.Signatures
		sigs.AddRaw(bad)
		_, err := h.Match(&m, &sigs, nil)
		require.ErrorIs(t, err, verify.ErrSignatureMismatch, "signature with bit %d flipped", i)
	}
	var sigs verify.Signatures
	sigs.AddRaw(mac)
	for i := range len(body) * 8 {
		b := append([]byte(nil), body...)
		b[i/8] ^= 1 << (i % 8)
		mm := verify.Message{Prefix: m.Prefix, Body: b}
		_, err := h.Match(&mm, &sigs, nil)
		require.ErrorIs(t, err, verify.ErrSignatureMismatch, "body with bit %d flipped", i)
	}
	mm := verify.Message{Prefix: [4]string{"1700000001", "."}, Body: body}
	_, err := h.Match(&mm, &sigs, nil)
	require.ErrorIs(t, err, verify.ErrSignatureMismatch, "changed timestamp prefix")
}

func TestHMACMatchConcurrent(t *testing.T) {
	h := mustHMAC(t, verify.SHA256, "a", "b")
	const goroutines, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				m := verify.Message{Prefix: [4]string{strconv.Itoa(g), "."}, Body: []byte(strconv.Itoa(r))}
				var sigs verify.Signatures
				sigs.AddRaw(h.AppendSum(nil, r%2, &m))
				if i, err := h.Match(&m, &sigs, nil); err != nil || i != r%2 {
					errs <- errors.New("goroutine " + strconv.Itoa(g) + " round " + strconv.Itoa(r) + ": wrong match")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func TestHMACMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	for _, alg := range []verify.Algorithm{verify.SHA1, verify.SHA256, verify.SHA512} {
		t.Run(alg.String(), func(t *testing.T) {
			h := mustHMAC(t, alg, "old", "new")
			long := string(bytes.Repeat([]byte("p"), 700))
			m := verify.Message{Prefix: [4]string{"v0:", "1700000000", ":", long}, Body: bytes.Repeat([]byte("b"), 4096), Suffix: "s"}
			var sigs verify.Signatures
			sigs.AddRaw(make([]byte, alg.Size()))
			sigs.AddRaw(h.AppendSum(nil, 1, &m))
			var digest [32]byte
			h.Match(&m, &sigs, &digest) // warm the pools
			allocs := testing.AllocsPerRun(200, func() {
				if i, err := h.Match(&m, &sigs, &digest); i != 1 || err != nil {
					panic("warm Match failed")
				}
			})
			assert.Zero(t, allocs, "warm Match allocations per run")
		})
	}
}
