package benchmarks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripe "github.com/stripe/stripe-go/v82"
	stripewebhook "github.com/stripe/stripe-go/v82/webhook"
	svix "github.com/svix/svix-webhooks/go"
)

// Sizes are the body sizes every comparison runs at.
var Sizes = []int{1 << 10, 16 << 10, 256 << 10}

// SizeName returns "1KiB", "16KiB" or "256KiB".
func SizeName(n int) string { return strconv.Itoa(n>>10) + "KiB" }

// Secrets shared by every implementation of a scheme.
const (
	// StripeSecret is a Stripe endpoint secret: the HMAC key as written.
	StripeSecret = "whsec_benchmarks_0123456789abcdef"
	// GitHubSecret is a GitHub webhook secret.
	GitHubSecret = "benchmarks-github-secret"
)

// StandardSecret is a Standard Webhooks / Svix secret: "whsec_" and the
// base64 of a 32-byte key.
var StandardSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// Scheme names a signature scheme.
type Scheme string

// The schemes compared.
const (
	Stripe   Scheme = "stripe"
	Svix     Scheme = "svix"
	Standard Scheme = "standardwebhooks"
	GitHub   Scheme = "github"
)

// Schemes lists every scheme, in table order.
var Schemes = []Scheme{Stripe, Standard, Svix, GitHub}

// EventBody returns a Stripe-shaped JSON event of exactly n bytes with the
// given ID: "id" first and "type" last, as Stripe sends them, with invoice
// line items in between, so that finding the type scans the whole body as
// it would in production. Its api_version is stripe-go's, so that
// stripe-go's ConstructEvent accepts it.
func EventBody(n int, id string) []byte {
	var b strings.Builder
	b.Grow(n)
	fmt.Fprintf(&b, `{"id":%q,"object":"event","api_version":%q,"created":1686089970,"data":{"object":{"id":"in_1NG8Dt2eZvKYlo2C","object":"invoice","lines":[`, id, stripe.APIVersion)
	tail := `]}},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"invoice.paid"}`
	for i := 0; ; i++ {
		item := fmt.Sprintf(`{"id":"il_%08d","amount":%d,"currency":"usd","description":"1 x Widget (at $%d.00 / month)","quantity":1}`, i, 1000+i, 10+i%90)
		if i > 0 {
			item = "," + item
		}
		if b.Len()+len(item)+len(tail) > n {
			break
		}
		b.WriteString(item)
	}
	// Pad the last description so that the body is exactly n bytes.
	s := b.String()
	if pad := n - len(s) - len(tail); pad > 0 {
		s = strings.TrimSuffix(s, `","quantity":1}`) + strings.Repeat(".", pad) + `","quantity":1}`
	}
	return []byte(s + tail)
}

// Delivery is one signed request: its body and headers.
type Delivery struct {
	ID     string
	Body   []byte
	Header http.Header
}

// Sign signs body as the scheme's sender would, with the peer's own signer
// where it has one: stripe-go's GenerateTestSignedPayload, svix's and the
// Standard Webhooks library's Sign. GitHub publishes no signer, so its
// X-Hub-Signature-256 is computed here as GitHub documents it.
func Sign(s Scheme, id string, body []byte, ts time.Time) (Delivery, error) {
	d := Delivery{ID: id, Body: body, Header: http.Header{}}
	d.Header.Set("Content-Type", "application/json")
	switch s {
	case Stripe:
		p := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: StripeSecret, Timestamp: ts})
		d.Header.Set("Stripe-Signature", p.Header)
	case Svix:
		wh, err := svix.NewWebhook(StandardSecret)
		if err != nil {
			return d, err
		}
		sig, err := wh.Sign(id, ts, body)
		if err != nil {
			return d, err
		}
		d.Header.Set("Svix-Id", id)
		d.Header.Set("Svix-Timestamp", strconv.FormatInt(ts.Unix(), 10))
		d.Header.Set("Svix-Signature", sig)
	case Standard:
		wh, err := standardwebhooks.NewWebhook(StandardSecret)
		if err != nil {
			return d, err
		}
		sig, err := wh.Sign(id, ts, body)
		if err != nil {
			return d, err
		}
		d.Header.Set("Webhook-Id", id)
		d.Header.Set("Webhook-Timestamp", strconv.FormatInt(ts.Unix(), 10))
		d.Header.Set("Webhook-Signature", sig)
	case GitHub:
		m := hmac.New(sha256.New, []byte(GitHubSecret))
		m.Write(body)
		d.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
		d.Header.Set("X-GitHub-Event", "ping")
		d.Header.Set("X-GitHub-Delivery", id)
	default:
		return d, fmt.Errorf("benchmarks: unknown scheme %q", s)
	}
	return d, nil
}

// Batch returns n distinct deliveries of size bytes, each with its own ID
// (in the body and, where the scheme carries one, in a header), all signed
// at ts. With sameBody, every delivery shares one body (for schemes whose
// ID is in a header, this saves memory at 256 KiB; the signatures still
// differ).
func Batch(s Scheme, size, n int, ts time.Time, sameBody bool) ([]Delivery, error) {
	out := make([]Delivery, n)
	var shared []byte
	if sameBody {
		shared = EventBody(size, "evt_shared_body")
	}
	for i := range out {
		id := fmt.Sprintf("evt_%012d_%s", i, strconv.FormatInt(ts.UnixNano()%1e9, 36))
		body := shared
		if body == nil {
			body = EventBody(size, id)
		}
		d, err := Sign(s, id, body, ts)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}
