package providers

// asymmetricPresets are the presets whose senders sign with a private key,
// sign the URL, or answer handshakes by GET.
var asymmetricPresets = []registered{
	{name: "discord", new: ctor(NewDiscord), testSecret: discordTestKey},
	{name: "dropbox", new: ctor(NewDropbox)},
	{name: "hubspot", new: ctor(NewHubSpot)},
	{name: "instagram", new: ctor(NewInstagram)},
	{name: "meta", new: ctor(NewMeta)},
	{name: "okta", new: ctor(NewOkta)},
	{name: "plaid", new: ctor(NewPlaid), testSecret: p256TestKey},
	{name: "sendgrid", new: ctor(NewSendGrid), testSecret: p256TestKey},
	{name: "square", new: ctor(NewSquare)},
	{name: "twilio", new: ctor(NewTwilio)},
	{name: "twitch", new: ctor(NewTwitch)},
	{name: "whatsapp", new: ctor(NewWhatsApp)},
	{name: "zoom", new: ctor(NewZoom)},
}
