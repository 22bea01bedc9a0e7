package providers

// hmacPresets are the shared-secret presets added after the first release.
var hmacPresets = []registered{}
