//go:build !unix

package storetest

import "time"

// cpuTime is the wall clock where the CPU time of the process is not at
// hand.
func cpuTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
