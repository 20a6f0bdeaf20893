package postgres

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// snapshot is a parsed pg_snapshot ("xmin:xmax:xip,..."): which
// transactions a read taken then saw as done. Every transaction id below
// xmax that is not in xip was done; those from xmax on had not started.
type snapshot struct {
	xmin, xmax uint64
	xip        []uint64 // in progress, sorted
}

func parseSnapshot(s string) (snapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return snapshot{}, fmt.Errorf("not a snapshot (xmin:xmax:xip,...)")
	}
	var sn snapshot
	var err error
	if sn.xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return snapshot{}, fmt.Errorf("xmin: %w", err)
	}
	if sn.xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return snapshot{}, fmt.Errorf("xmax: %w", err)
	}
	if sn.xmin > sn.xmax {
		return snapshot{}, fmt.Errorf("xmin %d is after xmax %d", sn.xmin, sn.xmax)
	}
	if parts[2] != "" {
		for _, f := range strings.Split(parts[2], ",") {
			x, err := strconv.ParseUint(f, 10, 64)
			if err != nil || x < sn.xmin || x >= sn.xmax {
				return snapshot{}, fmt.Errorf("in-progress id %q is not between xmin and xmax", f)
			}
			sn.xip = append(sn.xip, x)
		}
		slices.Sort(sn.xip)
	}
	return sn, nil
}

// done says whether the transaction x was done when s was taken.
func (s snapshot) done(x uint64) bool {
	_, running := slices.BinarySearch(s.xip, x)
	return x < s.xmax && !running
}

// sawMore says whether s saw as done a transaction that b did not: a read
// begun at s may have seen a commit that a read begun at b missed.
func (s snapshot) sawMore(b snapshot) bool {
	for _, x := range b.xip {
		if s.done(x) {
			return true
		}
	}
	if s.xmax <= b.xmax {
		return false
	}
	// The ids from b.xmax to s.xmax had not started at b; s saw every one
	// of them done but those it lists in progress.
	running := 0
	for _, x := range s.xip {
		if x >= b.xmax {
			running++
		}
	}
	return s.xmax-b.xmax > uint64(running)
}

// isBehind says whether a render that began reading at ours is behind the
// stored version's, read at storedPos: that render saw a transaction done
// that ours did not. A stored position unknown, unreadable or not of this
// database's history (past current: a restored dump counts again) is not
// ahead.
func isBehind(ours snapshot, storedPos, current string) bool {
	stored, err := parseSnapshot(storedPos)
	if err != nil {
		return false
	}
	cur, err := parseSnapshot(current)
	if err != nil || stored.xmax > cur.xmax {
		return false
	}
	return stored.sawMore(ours)
}
