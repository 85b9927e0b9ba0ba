//go:build race

package kernel

// raceEnabled says the race detector is on: it instruments allocations,
// so allocation bounds do not hold.
const raceEnabled = true
