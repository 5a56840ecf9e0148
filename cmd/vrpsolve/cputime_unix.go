//go:build unix

package main

import "syscall"

// cpuSeconds is the user and system CPU time this process has used, or -1
// when unknown. On a shared machine the wall-clock limit buys less search
// than on an idle one; the benchmark tables print both.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
