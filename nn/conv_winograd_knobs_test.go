package nn

// Benchmark knobs: TEMPER_WINOBLOCK=n sets winoBlock, TEMPER_WINOGRAD=0 turns the
// Winograd path off (im2col for every layer), TEMPER_WINOSAVE=0 recomputes V in the
// backward pass instead of saving it.

import (
	"os"
	"strconv"
)

func init() {
	if v, err := strconv.Atoi(os.Getenv("TEMPER_WINOBLOCK")); err == nil && v > 0 {
		winoBlock = v
	}
}

func init() {
	if os.Getenv("TEMPER_WINOGRAD") == "0" {
		useWinograd = false
	}
}

func init() {
	if os.Getenv("TEMPER_WINOSAVE") == "0" {
		winoSave = false
	}
}
