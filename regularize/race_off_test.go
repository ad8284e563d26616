//go:build !race

package regularize_test

const raceEnabled = false
