//go:build race

package verify_test

// raceEnabled is true under -race, where sync.Pool drops items at random
// and allocation counts are meaningless.
const raceEnabled = true
