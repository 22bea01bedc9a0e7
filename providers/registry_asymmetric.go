package providers

// asymmetricPresets are the presets whose senders sign with a private key
// or answer handshakes by GET.
var asymmetricPresets = []registered{}
