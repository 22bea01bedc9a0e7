package providers

// The receiver builds the absolute request URL for verifiers that read it
// (hookguard.URLReader); these presets sign neither the URL nor read its
// query, so they say so and save the receiver an allocation per request.
// Dropbox, HubSpot, Meta, Square and Twilio read the URL and do not
// implement ReadsURL, so they always get it.

// ReadsURL returns false: Stripe signs the timestamp and body only.
func (*stripe) ReadsURL() bool { return false }

// ReadsURL returns false: GitHub signs the body only.
func (*github) ReadsURL() bool { return false }

// ReadsURL returns false: Shopify signs the body only.
func (*shopify) ReadsURL() bool { return false }

// ReadsURL returns false: the scheme signs the ID, timestamp and body.
func (*standardWebhooks) ReadsURL() bool { return false }

// ReadsURL returns false: the scheme signs the ID, timestamp and body.
func (*svixAlias) ReadsURL() bool { return false }

// ReadsURL returns false: these presets sign the body only.
func (bodyHMAC) ReadsURL() bool { return false }

// ReadsURL returns false: these presets sign the timestamp and body.
func (stamped) ReadsURL() bool { return false }

// ReadsURL returns false: Discord signs the timestamp and body.
func (*discord) ReadsURL() bool { return false }

// ReadsURL returns false: GitLab sends a token header.
func (*gitlab) ReadsURL() bool { return false }

// ReadsURL returns false: Mailgun's signature is in the body.
func (*mailgun) ReadsURL() bool { return false }

// ReadsURL returns false: Okta sends an authorization header and its
// challenge in a header.
func (*okta) ReadsURL() bool { return false }

// ReadsURL returns false: Plaid's JWT covers the body's hash.
func (*plaid) ReadsURL() bool { return false }

// ReadsURL returns false: Postmark sends basic-auth credentials.
func (*postmark) ReadsURL() bool { return false }

// ReadsURL returns false: SendGrid signs the timestamp and body.
func (*sendgrid) ReadsURL() bool { return false }

// ReadsURL returns false: Twitch signs the message ID, timestamp and body.
func (*twitch) ReadsURL() bool { return false }

// ReadsURL returns false: Zoom signs the timestamp and body.
func (*zoom) ReadsURL() bool { return false }

// ReadsURL reports whether the scheme signs {url}.
func (c *custom) ReadsURL() bool {
	for _, p := range c.c.parts {
		if p.kind == partURL {
			return true
		}
	}
	return false
}
