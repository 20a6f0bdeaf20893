package bolt

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/newsdesk/newsdesk/store"
)

// lockedError is the error of Open when another process holds the
// database; it matches store.ErrLocked with errors.Is.
type lockedError struct {
	path   string
	holder string // "process 1234 (newsdesk serve)", when it can be told
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("database %s is in use by %s", e.path, e.holder)
}

func (e *lockedError) Is(target error) bool { return target == store.ErrLocked }

// LockHolder finds the process that holds a lock on the file at path, from
// /proc/locks (Linux): its pid and a description such as "process 1234
// (newsdesk serve)"; 0 and "" when it cannot tell.
func LockHolder(path string) (pid int, what string) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, ""
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	// "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": the device is
	// major:minor in hex, the inode in decimal.
	dev := fmt.Sprintf("%02x:%02x:%d", unixMajor(uint64(st.Dev)), unixMinor(uint64(st.Dev)), st.Ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != dev {
			continue
		}
		pid, err := strconv.Atoi(fields[4])
		if err != nil || pid == os.Getpid() {
			continue
		}
		holder := "process " + fields[4]
		if cmd, err := os.ReadFile("/proc/" + fields[4] + "/cmdline"); err == nil && len(cmd) > 0 {
			args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
			if len(args) > 4 {
				args = append(args[:4], "...")
			}
			holder += " (" + strings.Join(args, " ") + ")"
		}
		return pid, holder
	}
	return 0, ""
}

func unixMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func unixMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }
