//go:build race

package photo

// raceEnabled skips allocation measurements and the slowest decodes
// under the race detector, which changes allocations and slows pixel
// loops tenfold without telling anything about them.
const raceEnabled = true
