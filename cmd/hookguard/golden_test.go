package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/sign-*.txt from the current output of sign")

// Inputs of the golden sign runs. The secret is the same for every HMAC
// preset (each decodes "whsec_" + base64 as its scheme requires); presets
// that need a private key get one from providers.TestSecret when their
// golden file is first written, and it is stored in that file.
const (
	goldenSecret    = "whsec_aG9va2d1YXJkLWdvbGRlbi1zZWNyZXQtMzItYnl0ZXM="
	goldenID        = "golden-0001"
	goldenType      = "golden.test"
	goldenTimestamp = "1716480205"
	goldenBody      = `{"id":"evt_1GoldenHookguard0001","object":"event","type":"golden.test","event_id":"Ev0GOLDEN0001","created":1716480205}`
	secretPrefix    = "# secret: "
)

// TestGoldenSign checks that "hookguard sign" prints, for every provider,
// exactly what testdata/golden/sign-PROVIDER.txt holds, so that a change
// in what a preset signs, or how, is caught. Regenerate the files with
//
//	go test ./cmd/hookguard -run Golden -update
func TestGoldenSign(t *testing.T) {
	bodies := []goldenInput{
		{writeFile(t, "body.json", goldenBody), "application/json"},
		// Twilio signs the parameters of a form body.
		{writeFile(t, "body.form", goldenForm), "application/x-www-form-urlencoded"},
	}
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", "sign-"+name+".txt")
			secret, want, err := readGolden(path)
			exists := err == nil
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if !exists {
				secret = goldenSecret
				if _, err := providers.New(name, secret); err != nil || signGolden(t, name, secret, bodies).code != 0 {
					if secret, err = testsecret.For(name); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := signGolden(t, name, secret, bodies)
			if got.code != 0 {
				t.Fatalf("sign = %d: %s", got.code, got.stderr)
			}
			again := signGolden(t, name, secret, bodies)
			out, randomSig := maskRandom(t, name, secret, got.stdout, again.stdout)
			if randomSig {
				t.Skipf("%s signs with randomness (ECDSA): two signatures of the same input differ, so there is no golden output", name)
			}
			if *update {
				data := secretPrefix + secret + "\n" + out
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !exists {
				t.Fatalf("no golden file %s for %s: run go test ./cmd/hookguard -run Golden -update, and review the new file", path, name)
			}
			if out != want {
				t.Errorf("sign output for %s changed; if that is intended, run go test ./cmd/hookguard -run Golden -update\n--- got\n%s--- want (%s)\n%s", name, out, path, want)
			}
		})
	}
}

// goldenInput is a body file and its content type.
type goldenInput struct{ path, contentType string }

// goldenForm is the form body for presets that sign form parameters.
const goldenForm = "AccountSid=AC00000000000000000000000000golden&CallSid=CA00000000000000000000000000golden&CallStatus=ringing&From=%2B14155550100&To=%2B14155550199"

// signGolden runs sign for provider with the golden inputs: the JSON body,
// or, when the preset refuses it, the form body.
func signGolden(t *testing.T, provider, secret string, bodies []goldenInput) result {
	t.Helper()
	var bodyOut string
	if p, err := providers.New(provider, secret); err == nil {
		if p.Info().SignedInBody {
			bodyOut = filepath.Join(t.TempDir(), "signed")
		}
	}
	var got result
	for _, b := range bodies {
		args := []string{"sign", "--provider", provider, "--secret", secret, "--id", goldenID, "--type", goldenType,
			"--timestamp", goldenTimestamp, "--url", "https://hooks.example.com/webhooks/" + provider,
			"--content-type", b.contentType, "--body", b.path}
		if bodyOut != "" {
			args = append(args, "--body-out", bodyOut)
		}
		got = runCmd(t, "", args...)
		if got.code == 0 {
			if bodyOut != "" {
				// The signature lives in the body: it is part of what
				// sign produces, so it is part of the golden output.
				signed, err := os.ReadFile(bodyOut)
				if err != nil {
					t.Fatal(err)
				}
				got.stdout += "Body-Out: " + string(signed) + "\n"
			}
			return got
		}
	}
	return got
}

func maskRandom(t *testing.T, provider, secret, a, b string) (masked string, randomSig bool) {
	t.Helper()
	p, err := providers.New(provider, secret)
	if err != nil {
		t.Fatal(err)
	}
	sigHeader := strings.ToLower(p.Info().SignatureHeader)
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		t.Fatalf("two sign runs printed %d and %d lines", len(la), len(lb))
	}
	for i := range la {
		if la[i] == lb[i] {
			continue
		}
		name, _, _ := strings.Cut(la[i], ":")
		if strings.ToLower(name) == sigHeader {
			return "", true
		}
		la[i] = name + ": <random>"
	}
	return strings.Join(la, "\n"), false
}

// readGolden returns the secret recorded in a golden file and the output
// it holds.
func readGolden(path string) (secret, output string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	if !strings.HasPrefix(string(first), secretPrefix) {
		return "", "", &os.PathError{Op: "read golden", Path: path, Err: os.ErrInvalid}
	}
	return strings.TrimPrefix(string(first), secretPrefix), string(rest), nil
}
