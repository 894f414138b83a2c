//go:build !race

package gui

// raceEnabled reports that the tests run under the race detector.
const raceEnabled = false
