//go:build !race

package riverkit_test

// raceEnabled: the race detector is on (CI runs it so); see scaled.
const raceEnabled = false
