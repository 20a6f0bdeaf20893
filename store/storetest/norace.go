//go:build !race

package storetest

// raceDetector is false without the race detector (see race.go).
const raceDetector = false
