//go:build race

package vrplib

// raceEnabled shortens the solver tests under the race detector (about 50x slower).
const raceEnabled = true
