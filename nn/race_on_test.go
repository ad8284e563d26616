//go:build race

package nn_test

// raceEnabled: the race detector makes sync.Pool drop items, so allocation counts are
// meaningless under -race.
const raceEnabled = true
