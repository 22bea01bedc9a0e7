// Package providers holds hookguard's signature presets: one verifier per
// webhook sender, built from the primitives of package verify.
//
// Each preset knows where its sender puts the signature, which bytes it
// signs, how the secret is used, where the event ID and type are, and which
// handshake it must answer. Every constructor returns a [*Preset], one
// type for all senders with the same methods (it implements [Provider]);
// pick one by constructor, or by name with [New]:
//
//	p, err := providers.NewStripe(os.Getenv("STRIPE_WEBHOOK_SECRET"))
//	// or: p, err := providers.New("stripe", secret)
//	d, err := p.Verify(verify.Request{Header: r.Header, Body: body}, time.Now())
//
// # Presets
//
// There are 34 presets; [Names] lists them and each one's [Preset.Info]
// says where its signature, event ID and type are (the README's provider
// table is generated from it). By what the sender signs:
//
//   - HMAC over a signed timestamp, checked against a replay window:
//     calendly, clerk, hubspot (v3), linear, mailgun, mux, paddle, resend,
//     slack, standardwebhooks, stripe, svix, twitch, zoom;
//   - HMAC without a timestamp (deliveries are [verify.Delivery.Replayable]
//     and deduped on their content too): bitbucket, dropbox, github,
//     instagram, intercom, lemonsqueezy, meta, sentry, shopify, square,
//     twilio, typeform, vercel, whatsapp;
//   - public-key signatures: discord (Ed25519), sendgrid (ECDSA P-256),
//     plaid (an ES256 JWT), standardwebhooks with a whsk_ key (Ed25519);
//   - a shared token and no signature (serve these over HTTPS only):
//     gitlab, okta, postmark.
//
// The six first documented:
//
//	name              signature header       algorithm                             signed bytes  event ID                             event type
//	----------------  ---------------------  ------------------------------------  ------------  -----------------------------------  ---------------------
//	stripe            Stripe-Signature       HMAC-SHA256 hex, v1=                  t.body        body id                              body type
//	github            X-Hub-Signature-256    HMAC-SHA256 hex, sha256=              body          X-GitHub-Delivery                    X-GitHub-Event
//	shopify           X-Shopify-Hmac-Sha256  HMAC-SHA256 base64                    body          X-Shopify-Event-Id (or -Webhook-Id)  X-Shopify-Topic
//	slack             X-Slack-Signature      HMAC-SHA256 hex, v0=                  v0:ts:body    body event_id                        body type, event.type
//	standardwebhooks  webhook-signature      v1 HMAC-SHA256 / v1a Ed25519, base64  id.ts.body    webhook-id                           body type
//	svix              svix-signature         as standardwebhooks                   id.ts.body    svix-id                              body type
//
// Stripe, Slack, Standard Webhooks and Svix sign a timestamp, which must
// lie within [verify.DefaultTolerance] of now in both directions (see
// [WithTolerance]). GitHub and Shopify sign neither a timestamp nor the ID
// header, so their deliveries are marked [verify.Delivery.Replayable]:
// dedupe them on [verify.Delivery.Digest]. Slack's url_verification
// handshake is answered through [verify.Delivery.Reply], and only after
// its signature verified.
//
// Every preset sets [verify.Delivery.Digest] on a delivery that has no
// event ID (Slack slash commands and interactive payloads, a Stripe body
// without "id", a SendGrid batch without sg_event_id, and so on) and on
// every Replayable one, so that the same signed request sent again inside
// the replay window is a duplicate. The Digest fingerprints exactly the
// signed content and never the signature bytes where those are not unique
// to it: for HMAC schemes it is the SHA-256 of the MAC, for Ed25519 and
// ECDSA schemes the SHA-256 of the signed message (an ECDSA signature
// (r, s) has a twin (r, n-s) that verifies too). A delivery with an event
// ID gets no Digest unless it is Replayable, and costs nothing more.
//
// # Secrets and rotation
//
// The positional secret signs and verifies; each [WithSecret] adds one more
// that verifies, and [verify.Delivery.SecretIndex] says which one matched, so an
// old secret can be retired once it stops matching. An empty secret is
// always a construction error: no preset reads "no secret" as "do not
// verify". [InsecureSkipVerification] exists for local development only.
//
// # Errors
//
// Verify returns a [*verify.Error] that wraps one of the sentinels of
// package verify (match them with [errors.Is]) and carries the HTTP status
// to answer with. Its text says what to check; it never contains a
// computed signature, a secret or the body, so it is safe to send back.
//
// # Signing
//
// Every preset can also sign an [Outgoing] delivery the way its sender
// does, so that tests and tools can produce requests that verify:
// [Preset.SignBody] returns the body and headers to send, a new body for
// the senders whose signed data lives in the body ([Info].SignedInBody).
//
// # Custom schemes
//
// A sender without a preset is described declaratively by a [Scheme], in
// Go or in JSON ([ParseScheme]; the CLI takes the file as --scheme FILE),
// and verified by [NewCustom]: the signature header, its prefix or
// key=value layout and separator, the algorithm (HMAC-SHA1/256/512 or
// Ed25519), the encoding, the secret's format, the signed content as a
// template such as "{id}.{timestamp}.{body}", where the timestamp is and
// its unit and tolerance, and where the event ID and type are (a header or
// a JSON path). A Scheme is validated when it is built, and every problem
// is reported in one error wrapping [ErrInvalidScheme]. The Stripe,
// GitHub, Shopify, Slack, Standard Webhooks and Svix presets are each
// expressible as a Scheme (see testdata/schemes), and verify the same
// published vectors. What a Scheme cannot express stays with the presets:
// handshakes such as Slack's url_verification, GitHub's legacy SHA-1
// header fallback, Shopify's second header name and Svix's fallback to
// webhook-* headers.
package providers
