//go:build !unix

package format

// cpuSeconds is not measured here: the cpu-MB/s metric is left out.
func cpuSeconds() float64 { return 0 }
