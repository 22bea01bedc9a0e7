package verify

import (
	"net/http"
	"time"
)

// Request is what a provider preset inspects: the parts of an HTTP request
// that a signature can cover. Body must be the exact bytes received.
type Request struct {
	// Method is the HTTP method, for schemes that sign it and for
	// handshakes that arrive as GET.
	Method string
	// URL is the absolute URL the sender called, for schemes that sign it.
	URL string
	// Header holds the request headers.
	Header http.Header
	// Body is the raw body, exactly as received.
	Body []byte
}

// Delivery is what a preset learned from a verified request.
type Delivery struct {
	// Provider is the preset's name, for example "github".
	Provider string
	// ID identifies the event for dedupe; empty when the request carries
	// none.
	ID string
	// Type is the event type, for example "payment_intent.succeeded".
	Type string
	// Timestamp is the signed timestamp; zero when the scheme signs none.
	Timestamp time.Time
	// SecretIndex is the index, in the order they were configured, of the
	// secret or key that matched, so that an old secret can be retired once
	// it stops matching; -1 when verification was skipped.
	SecretIndex int
	// Replayable is true when the scheme signs neither a timestamp nor the
	// ID (GitHub, Shopify): a captured request could be sent again under a
	// fresh ID at any time, and only a dedupe on Digest stops it.
	Replayable bool
	// Digest is a fingerprint of exactly the signed content, set when
	// Replayable is true and on every delivery without an ID (other than
	// a handshake with a Reply), so that a replay inside the window is a
	// duplicate. Receivers dedupe on it whenever it is not zero. It is
	// equal for a replay of the same signed request and differs for other
	// signed content, and it never depends on signature bytes that are not
	// unique to the content: it is the SHA-256 of the matching MAC for
	// HMAC schemes and the SHA-256 of the signed message for Ed25519 and
	// ECDSA ones. With verification skipped it is the body's SHA-256. It
	// is not a signature.
	Digest [32]byte
	// Reply, when not nil, is a handshake answer to send at once instead of
	// handing the request to the event handler.
	Reply *Reply
}

// Reply is a synchronous answer to a provider handshake, such as Slack's
// url_verification challenge.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}
