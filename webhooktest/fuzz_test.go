package webhooktest

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// FuzzLoadFixture: any body and sidecar either load or fail with an
// error wrapping ErrInvalidFixture; nothing panics, and a loaded fixture
// keeps its body byte for byte.
//
//	go test -run='^$' -fuzz='^FuzzLoadFixture$' -fuzztime=10s ./webhooktest
func FuzzLoadFixture(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1"}`), []byte(`{"description":"d"}`), false)
	f.Add([]byte(`payload=%7B%7D`), []byte(`{"description":"d","content_type":"application/x-www-form-urlencoded"}`), true)
	f.Add([]byte(`{`), []byte(`{"description":"d","headers":{"X-A":"1"}}`), false)
	f.Add([]byte(`a=%zz`), []byte(`{"description":"d","content_type":"text/plain; charset="}`), true)
	f.Fuzz(func(t *testing.T, body, meta []byte, form bool) {
		ext := ".json"
		if form {
			ext = ".form"
		}
		fsys := fstest.MapFS{
			"r/p/e" + ext:     {Data: body},
			"r/p/e.meta.json": {Data: meta},
		}
		got, err := loadFixtures(fsys, "r")
		if err != nil {
			require.ErrorContains(t, err, "invalid fixture", "the error must wrap ErrInvalidFixture")
			return
		}
		require.Len(t, got, 1, "loaded fixtures")
		require.Equal(t, string(body), string(got[0].Body), "a loaded fixture must keep its body byte for byte")
		require.Equal(t, "p/e", got[0].Name, "loaded fixture name")
	})
}
