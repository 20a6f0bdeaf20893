package store

import (
	"fmt"
	"time"
)

// The purging of orphaned sources, which every engine does alike around
// its own MarkOrphans and batch of removals.

// PurgeInBatches purges a source with some, which removes up to PurgeBatch
// of its items in one transaction (n) or, when none are left, the rest of
// what is stored about it (done), and returns how many items it removed.
func PurgeInBatches(sourceID string, some func(sourceID string) (n int, done bool, err error)) (int, error) {
	removed := 0
	for {
		n, done, err := some(sourceID)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("purge %s: %w", sourceID, err)
		}
		if done {
			return removed, nil
		}
	}
}

// PurgeExpired is Store.PurgeExpired for any engine: it marks the orphans
// of configured and purges those first seen missing at least grace before
// now; a grace of 0 purges nothing.
func PurgeExpired(s Store, configured []string, now time.Time, grace time.Duration) (purged, kept []Orphan, err error) {
	orphans, err := s.MarkOrphans(configured, now)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range orphans {
		if grace <= 0 || now.Sub(o.RemovedAt) < grace {
			kept = append(kept, o)
			continue
		}
		if _, err := s.Purge(o.SourceID); err != nil {
			return purged, kept, err
		}
		purged = append(purged, o)
	}
	return purged, kept, nil
}
