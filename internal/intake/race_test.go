//go:build race

package intake

// raceEnabled skips the slowest measurements under the race detector,
// which slows pixel loops tenfold without telling anything about them.
const raceEnabled = true
