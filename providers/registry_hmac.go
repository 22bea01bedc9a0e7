package providers

// hmacPresets are the shared-secret presets added after the first release:
// HMAC schemes, shared tokens (GitLab, Postmark) and named aliases of the
// Svix scheme.
var hmacPresets = []registered{
	{name: "bitbucket", new: NewBitbucket},
	{name: "calendly", new: NewCalendly},
	{name: "clerk", new: NewClerk},
	{name: "gitlab", new: NewGitLab},
	{name: "intercom", new: NewIntercom},
	{name: "lemonsqueezy", new: NewLemonSqueezy},
	{name: "linear", new: NewLinear},
	{name: "mailgun", new: NewMailgun},
	{name: "mux", new: NewMux},
	{name: "paddle", new: NewPaddle},
	{name: "postmark", new: NewPostmark, testSecret: postmarkTestSecret},
	{name: "resend", new: NewResend},
	{name: "sentry", new: NewSentry},
	{name: "typeform", new: NewTypeform},
	{name: "vercel", new: NewVercel},
}

// postmarkTestSecret returns random basic-auth credentials.
func postmarkTestSecret() (string, error) {
	return "hookguard:" + randomID(""), nil
}
