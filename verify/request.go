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
	// Secret is the index of the secret or key that matched, so that an old
	// secret can be retired once it stops matching.
	Secret int
	// Replayable is true when the scheme signs neither a timestamp nor the
	// ID (GitHub, Shopify): a captured request could be sent again under a
	// fresh ID, and only a dedupe on Digest stops it.
	Replayable bool
	// Digest is a fingerprint of the signed content (a SHA-256 of the
	// matching MAC), set when Replayable is true. It is not a signature.
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
