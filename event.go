package hookguard

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Event is a verified webhook delivery, as handed to a [Handler] or read
// with [FromContext].
//
// An Event is a value: the queue hands the same Body and Header to every
// attempt, so handlers must treat them as read-only.
type Event struct {
	// Provider is the name of the preset that verified the delivery,
	// for example "github".
	Provider string
	// ID is the provider's event ID; empty when the delivery carries none.
	ID string
	// Type is the event type, for example "push" or
	// "payment_intent.succeeded"; empty when unknown.
	Type string
	// Timestamp is the signed timestamp; zero when the scheme signs none.
	Timestamp time.Time
	// ReceivedAt is when the receiver took the request in, by its clock.
	ReceivedAt time.Time
	// Body is the raw body exactly as received and verified.
	Body []byte
	// Header is a copy of the request headers without any credential:
	// every header whose name contains "signature", "hmac", "token",
	// "secret" or "verification", and Authorization, Proxy-Authorization
	// and Cookie, are left out.
	Header http.Header
	// Attempt is 1 on the first call of a handler, 2 on the first retry,
	// and so on. It is 0 in an Event read with [FromContext].
	Attempt int
	// DedupeKeys are the dedupe records the receiver wrote for this event:
	// its ID and, where the preset gives one, its content digest, scoped by
	// provider and endpoint. They are released when the event is
	// dead-lettered, so that the sender's redelivery is handled again: a
	// [MemoryQueue] and rediskit's Queue (with its own store) do it
	// themselves; a queue of your own calls [Receiver.Forget] when it gives
	// the event up, and keeps the keys with the event if it stores events
	// elsewhere. Nil when the event was not deduplicated, when the
	// receiver keeps the records of dead letters
	// ([WithKeepDedupeOnDeadLetter]), and in [Middleware], which has no
	// dead letters. Handlers can ignore it.
	DedupeKeys []string

	// rel releases DedupeKeys in the stores of the receiver that took the
	// event in, when a MemoryQueue dead-letters it; nil otherwise.
	rel *core
}

// ErrNoPayload is returned by [Event.Decode] when a form-encoded body has no
// payload field to decode.
var ErrNoPayload = errors.New("hookguard: form-encoded body has no payload field; decode Body yourself")

// Decode unmarshals the event's JSON payload into v, like
// [encoding/json.Unmarshal]. A body sent as
// application/x-www-form-urlencoded with a payload field (GitHub's form
// content type, Slack's interactive messages) is unwrapped first.
func (e Event) Decode(v any) error {
	body := e.Body
	if isForm(e.Header.Get("Content-Type")) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fmt.Errorf("hookguard: decode form body: %w", err)
		}
		p, ok := form["payload"]
		if !ok || len(p) == 0 {
			return ErrNoPayload
		}
		body = []byte(p[0])
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("hookguard: decode %s event payload: %w", e.Provider, err)
	}
	return nil
}

func isForm(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// safeHeader returns a copy of h without credential headers. The map is
// new, so adding or deleting keys never touches the request, but the value
// slices are shared with the request (read-only, as Event says): copying
// them cost one more allocation and a copy of every value per request.
// Inserting only the safe headers into a map sized for h measured faster
// than maps.Clone and deleting the credentials (Clone copies every slot,
// and the delete hashes its key anyway); both allocate the same.
func safeHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !secretHeader(k) {
			out[k] = v
		}
	}
	return out
}

// secretHeader reports whether a header named k may carry a signature or
// another credential and so must never reach a handler or a log.
//
// "token": GitLab sends its secret as it is in X-Gitlab-Token;
// "verification": Plaid's signed JWT is Plaid-Verification.
func secretHeader(k string) bool {
	if commonSafeHeader(k) {
		return false
	}
	switch len(k) { // the whole-name matches differ in length: one EqualFold at most
	case len("Cookie"):
		if strings.EqualFold(k, "Cookie") {
			return true
		}
	case len("Authorization"):
		if strings.EqualFold(k, "Authorization") {
			return true
		}
	case len("Proxy-Authorization"):
		if strings.EqualFold(k, "Proxy-Authorization") {
			return true
		}
	}
	// One pass over k, comparing only the words that start with the
	// letter at hand: five containsFold scans read k five times.
	for i := 0; i < len(k); i++ {
		switch lowerASCII(k[i]) {
		case 's':
			if hasFoldAt(k, i, "signature") || hasFoldAt(k, i, "secret") {
				return true
			}
		case 'h':
			if hasFoldAt(k, i, "hmac") {
				return true
			}
		case 't':
			if hasFoldAt(k, i, "token") {
				return true
			}
		case 'v':
			if hasFoldAt(k, i, "verification") {
				return true
			}
		}
	}
	return false
}

// commonSafeHeader reports whether k is, exactly as net/http spells it,
// one of the headers that most deliveries carry and that holds no
// credential. A switch on the whole name is a few comparisons; the scan in
// secretHeader reads every byte. TestCommonSafeHeaders holds every name
// here to secretHeader's definition.
func commonSafeHeader(k string) bool {
	switch k {
	case "Accept", "Accept-Encoding", "Connection", "Content-Length", "Content-Type",
		"Traceparent", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
		"Webhook-Id", "Webhook-Timestamp", "Svix-Id", "Svix-Timestamp",
		"X-Github-Delivery", "X-Github-Event", "X-Github-Hook-Id",
		"X-Github-Hook-Installation-Target-Id", "X-Github-Hook-Installation-Target-Type",
		"X-Gitlab-Event", "X-Gitlab-Event-Uuid", "X-Gitlab-Instance", "X-Gitlab-Webhook-Uuid",
		"X-Shopify-Api-Version", "X-Shopify-Event-Id", "X-Shopify-Shop-Domain", "X-Shopify-Topic",
		"X-Shopify-Triggered-At", "X-Shopify-Webhook-Id", "X-Slack-Request-Timestamp":
		return true
	}
	return false
}

// hasFoldAt reports whether s holds word, a lower-case ASCII word, at i,
// ignoring ASCII case. The caller has matched word's first letter.
func hasFoldAt(s string, i int, word string) bool {
	if len(s)-i < len(word) {
		return false
	}
	for j := 1; j < len(word); j++ {
		if lowerASCII(s[i+j]) != word[j] {
			return false
		}
	}
	return true
}

// containsFold reports whether s contains sub, a lower-case ASCII word,
// ignoring ASCII case, without allocating. Tests check secretHeader
// against it.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
