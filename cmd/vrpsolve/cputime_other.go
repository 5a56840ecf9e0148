//go:build !unix

package main

// cpuSeconds is unknown on this system.
func cpuSeconds() float64 { return -1 }
