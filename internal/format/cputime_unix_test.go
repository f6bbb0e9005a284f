//go:build unix

package format

import "syscall"

// cpuSeconds is the CPU time the process has used, user and system. With
// -cpu 1 it measures throughput per core even on a machine shared with
// other work, where wall-clock time does not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
