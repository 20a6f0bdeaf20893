//go:build race

package storetest

// raceDetector: the race detector's instrumentation multiplies the cost of
// memory access, which a big save suffers most (its working set is out of
// the CPU's caches), so CPU-time ratios between sizes stretch under it.
const raceDetector = true
