package providers

// hmacPresets are the shared-secret presets added after the first release:
// HMAC schemes, shared tokens (GitLab, Postmark) and named aliases of the
// Svix scheme.
var hmacPresets = []registered{
	{name: "bitbucket", new: ctor(NewBitbucket)},
	{name: "calendly", new: ctor(NewCalendly)},
	{name: "clerk", new: ctor(NewClerk)},
	{name: "gitlab", new: ctor(NewGitLab)},
	{name: "intercom", new: ctor(NewIntercom)},
	{name: "lemonsqueezy", new: ctor(NewLemonSqueezy)},
	{name: "linear", new: ctor(NewLinear)},
	{name: "mailgun", new: ctor(NewMailgun)},
	{name: "mux", new: ctor(NewMux)},
	{name: "paddle", new: ctor(NewPaddle)},
	{name: "postmark", new: ctor(NewPostmark), testSecret: postmarkTestSecret},
	{name: "resend", new: ctor(NewResend)},
	{name: "sentry", new: ctor(NewSentry)},
	{name: "typeform", new: ctor(NewTypeform)},
	{name: "vercel", new: ctor(NewVercel)},
}

// postmarkTestSecret returns random basic-auth credentials.
func postmarkTestSecret() (string, error) {
	return "hookguard:" + randomID(""), nil
}
