//go:build unix

package kernel

import "syscall"

// cpuSeconds returns the CPU time (user+system) used by the process so far. Benchmarks
// report flops per CPU-second too, which is far less sensitive than wall time to other
// processes sharing the machine.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)*1e-6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
