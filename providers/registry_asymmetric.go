package providers

// asymmetricPresets are the presets whose senders sign with a private key,
// sign the URL, or answer handshakes by GET.
var asymmetricPresets = []registered{
	{name: "discord", new: NewDiscord, testSecret: discordTestKey},
	{name: "dropbox", new: NewDropbox},
	{name: "hubspot", new: NewHubSpot},
	{name: "instagram", new: NewInstagram},
	{name: "meta", new: NewMeta},
	{name: "okta", new: NewOkta},
	{name: "plaid", new: NewPlaid, testSecret: p256TestKey},
	{name: "sendgrid", new: NewSendGrid, testSecret: p256TestKey},
	{name: "square", new: NewSquare},
	{name: "twilio", new: NewTwilio},
	{name: "twitch", new: NewTwitch},
	{name: "whatsapp", new: NewWhatsApp},
	{name: "zoom", new: NewZoom},
}
