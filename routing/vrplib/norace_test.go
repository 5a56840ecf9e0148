//go:build !race

package vrplib

const raceEnabled = false
