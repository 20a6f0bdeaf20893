package main

import (
	"fmt"
	"syscall"
)

// raiseOpenFiles makes sure this process, and the newsdesk children it
// starts, may hold need open files: one listener per source of the origin,
// the origin's connections, and the children's own. It raises the soft
// limit up to the hard one, and the hard one too where the process may
// (root, or CAP_SYS_RESOURCE). Children inherit the limit set here: Go
// gives a child the limit its parent set with Setrlimit.
func raiseOpenFiles(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur >= need { // Go raised it at start; set it so that children get it too
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	want := syscall.Rlimit{Cur: need, Max: max(lim.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return nil
	}
	if lim.Max < need {
		return fmt.Errorf("%d sources need about %d open files (a loopback listener each), and the hard limit is %d (ulimit -Hn): raise it (as root: ulimit -n %d; under systemd: LimitNOFILE=%d), or give fewer sources", need-filesMargin, need, lim.Max, need, need)
	}
	want.Max = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("raise the open-file limit from %d to %d for %d sources: %w (ulimit -n %d before running the benchmark)", lim.Cur, need, need-filesMargin, err, need)
	}
	return nil
}

// filesMargin is what the origin needs beyond one listener per source:
// its connections (newsdesk keeps at most 100 idle, and fetches
// fetch.concurrency at once), the readers', the store's, the standard ones.
const filesMargin = 1024

// openFilesFor is the open-file limit an origin of n sources needs.
func openFilesFor(n int) uint64 { return uint64(n) + filesMargin }
