package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/internal/testsecret"
)

// TestVerifyMethodAndURL signs a HubSpot v3 request for one method and URL
// and checks that verify uses --method and --url as what the sender
// signed.
func TestVerifyMethodAndURL(t *testing.T) {
	const (
		secret = "hubspot-client-secret"
		url    = "https://hooks.example.com/hubspot?portal=62515"
		body   = `[{"eventId":1,"subscriptionType":"contact.creation"}]`
	)
	bodyFile := writeFile(t, "body.json", body)
	sign := runCmd(t, "", "sign", "--provider", "hubspot", "--secret", secret, "--method", "PUT", "--url", url, "--timestamp", "1700000000", "--body", bodyFile)
	if sign.code != exitOK || !strings.Contains(sign.stdout, "X-Hubspot-Signature-V3:") {
		t.Fatalf("sign: %d\n%s%s", sign.code, sign.stdout, sign.stderr)
	}
	verifyArgs := func(method, u string) []string {
		args := []string{"verify", "--provider", "hubspot", "--secret", secret, "--now", "1700000000", "--body", bodyFile, "--method", method, "--url", u}
		return append(args, headerArgs(sign.stdout)...)
	}
	if r := runCmd(t, "", verifyArgs("PUT", url)...); r.code != exitOK || !strings.HasPrefix(r.stdout, "valid") || !strings.Contains(r.stdout, "contact.creation") {
		t.Errorf("same method and URL: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, "", verifyArgs("POST", url)...); r.code != exitFail || !strings.HasPrefix(r.stdout, "invalid") {
		t.Errorf("other method: %d\n%s", r.code, r.stdout)
	}
	if r := runCmd(t, "", verifyArgs("PUT", strings.Replace(url, "62515", "62516", 1))...); r.code != exitFail || !strings.HasPrefix(r.stdout, "invalid") {
		t.Errorf("other URL: %d\n%s", r.code, r.stdout)
	}
}

// TestVerifyPublishedVectorsCLI runs published vectors through the
// command: Twilio's (twilio/twilio-go client/request_validator_test.go),
// HubSpot's v1 (developers.hubspot.com docs/faq/v1-request-validation) and
// SendGrid's (sendgrid/sendgrid-go helpers/eventwebhook/eventwebhook_test.go).
func TestVerifyPublishedVectorsCLI(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		body string
	}{
		{"twilio", []string{"--provider", "twilio", "--secret", "12345", "--url", "https://mycompany.com/myapp.php?foo=1&bar=2",
			"-H", "Content-Type: application/x-www-form-urlencoded", "-H", "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8="},
			"Digits=1234&CallSid=CA1234567890ABCDE&To=%2B18005551212&Caller=%2B14158675309&From=%2B14158675309"},
		{"hubspot v1", []string{"--provider", "hubspot", "--signature-version", "v1", "--secret", "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
			"-H", "X-HubSpot-Signature-Version: v1", "-H", "X-HubSpot-Signature: 232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"},
			`[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`},
		{"sendgrid", []string{"--provider", "sendgrid", "--now", "1588788367",
			"--secret", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==",
			"-H", "X-Twilio-Email-Event-Webhook-Timestamp: 1588788367",
			"-H", "X-Twilio-Email-Event-Webhook-Signature: MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="},
			`{"category":"example_payload","event":"test_event","message_id":"message_id"}`},
	} {
		args := append([]string{"verify", "--body", "-"}, tc.args...)
		if r := runCmd(t, tc.body, args...); r.code != exitOK || !strings.HasPrefix(r.stdout, "valid") {
			t.Errorf("%s: %d\n%s%s", tc.name, r.code, r.stdout, r.stderr)
		}
		if r := runCmd(t, tc.body+"x", args...); r.code != exitFail {
			t.Errorf("%s tampered: %d\n%s", tc.name, r.code, r.stdout)
		}
	}
}

// TestAsymmetricSignVerifyCLI signs with a private key and verifies with
// the public key in the form the provider hands it out.
func TestAsymmetricSignVerifyCLI(t *testing.T) {
	priv, err := testsecret.For("discord")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(priv)
	pub := hex.EncodeToString(ed25519.PrivateKey(raw).Public().(ed25519.PublicKey))

	sgPriv, _ := testsecret.For("sendgrid")
	k, err := keys.ParseP256PrivateKey(sgPriv)
	if err != nil {
		t.Fatal(err)
	}
	sgPub, _ := keys.MarshalP256PublicKey(&k.PublicKey)

	for name, pair := range map[string][2]string{"discord": {priv, pub}, "sendgrid": {sgPriv, sgPub}} {
		body := `{"id":"1180000000000000001","type":2}`
		s := runCmd(t, body, "sign", "--provider", name, "--secret", pair[0], "--timestamp", "1700000000")
		if s.code != exitOK {
			t.Fatalf("%s sign: %d %s", name, s.code, s.stderr)
		}
		args := append([]string{"verify", "--provider", name, "--secret", pair[1], "--now", "1700000000"}, headerArgs(s.stdout)...)
		if r := runCmd(t, body, args...); r.code != exitOK {
			t.Errorf("%s verify with the public key: %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		// The public key cannot sign.
		if r := runCmd(t, body, "sign", "--provider", name, "--secret", pair[1]); r.code != exitUsage || !strings.Contains(r.stderr, "cannot sign") {
			t.Errorf("%s sign with the public key: %d %s", name, r.code, r.stderr)
		}
	}
}
