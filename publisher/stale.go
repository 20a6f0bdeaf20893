package publisher

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockDir takes an exclusive lock on the export folder for one WriteDir,
// so that two exports into it (cron's run and a hand-run export) take
// turns, and one never removes the temporary files of the other.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, err
	}
	return func() { d.Close() }, nil
}

// removeStaleTemps removes the temporary files (".NAME.RANDOM.tmp", see
// writeFileAtomic) that an export killed before its renames left in dir.
// The caller holds dir's lock, so none of them is being written.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
