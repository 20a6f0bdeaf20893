package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// Sources removed from feeds.yaml ("orphans") keep their items until they
// are purged. When a source was first seen missing is kept under
//
//	meta                  "removed" -> {"SOURCE_ID": TIME, ...} (JSON)
//
// so the grace period before a purge survives restarts; an older newsdesk
// ignores the key, and no schema change is needed. A source that comes
// back before it is purged loses its mark and nothing else.

var keyRemoved = []byte("removed")

// Orphans returns the stored sources that are not in configured, by id.
func (db *DB) Orphans(configured []string) ([]store.Orphan, error) {
	var out []store.Orphan
	err := db.view(func(tx *bbolt.Tx) error {
		removed, err := removedMarks(tx)
		if err != nil {
			return err
		}
		out = orphans(tx, configured, removed)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("orphaned sources: %w", err)
	}
	return out, nil
}

// MarkOrphans records now as the time each stored source missing from
// configured was first seen missing, unless it has a time already, and
// forgets the mark of sources that are configured again or no longer
// stored. It returns the orphans.
func (db *DB) MarkOrphans(configured []string, now time.Time) ([]store.Orphan, error) {
	var out []store.Orphan
	err := db.update(func(tx *bbolt.Tx) error {
		removed, err := removedMarks(tx)
		if err != nil {
			return err
		}
		out = orphans(tx, configured, removed)
		marks := make(map[string]time.Time, len(out))
		for i, o := range out {
			if o.RemovedAt.IsZero() {
				out[i].RemovedAt = now.UTC()
			}
			marks[o.SourceID] = out[i].RemovedAt
		}
		return putRemovedMarks(tx, marks)
	})
	if err != nil {
		return nil, fmt.Errorf("mark orphaned sources: %w", err)
	}
	return out, nil
}

// Purge removes everything stored about an orphaned source: its items, their
// articles and pages, their link and title index entries, its tombstones, count and fetch state, and
// the editorial decisions about its items in every section. It works in
// transactions of store.PurgeBatch items; a purge cut short leaves a smaller
// orphan that the next purge finishes. It refuses a source that
// MarkOrphans has not marked (or has un-marked since: it is configured
// again), and returns how many items it removed.
func (db *DB) Purge(sourceID string) (int, error) {
	return store.PurgeInBatches(sourceID, db.purgeSome)
}

// purgeSome removes up to store.PurgeBatch items of the source in one
// transaction, or, when none are left, the rest of what is stored about it.
func (db *DB) purgeSome(sourceID string) (n int, done bool, err error) {
	err = db.update(func(tx *bbolt.Tx) error {
		marks, err := removedMarks(tx)
		if err != nil {
			return err
		}
		if _, ok := marks[sourceID]; !ok {
			return fmt.Errorf("source %q is not marked as removed from feeds.yaml", sourceID)
		}
		id := []byte(sourceID)
		if tx.Bucket(bucketItems).Bucket(id) != nil {
			// The same source and unindex that SaveFetch and pruning use,
			// so the index entries removed are the ones they wrote.
			src, err := openSource(tx, sourceID)
			if err != nil {
				return err
			}
			c := src.items.Cursor()
			for k, v := c.First(); k != nil && n < store.PurgeBatch; k, v = c.First() {
				it, err := decodeItem(sourceID, k, v)
				if err != nil {
					return fmt.Errorf("item %q: %w", k, err)
				}
				if err := src.unindex(it); err != nil {
					return err
				}
				if err := src.deleteItem(slices.Clone(k)); err != nil {
					return err
				}
				n++
			}
			if n > 0 { // more may be left: keep the count true meanwhile
				src.count -= min(src.count, uint64(n))
				return src.saveCount()
			}
		}
		done = true
		for _, parent := range [][]byte{bucketItems, bucketByTime, bucketSeen, bucketArticles, bucketPages} {
			if nested(tx, parent, sourceID) != nil {
				if err := tx.Bucket(parent).DeleteBucket(id); err != nil {
					return err
				}
			}
		}
		if err := tx.Bucket(bucketCounts).Delete(id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketState).Delete(id); err != nil {
			return err
		}
		if err := deleteEdits(tx, sourceID); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPushSubs).Delete(id); err != nil {
			return err
		}
		delete(marks, sourceID)
		return putRemovedMarks(tx, marks)
	})
	return n, done, err
}

// deleteEdits removes the editorial decisions about a source's items from
// every section.
func deleteEdits(tx *bbolt.Tx, sourceID string) error {
	prefix := []byte(sourceID + "\x00")
	return tx.Bucket(bucketEdits).ForEachBucket(func(section []byte) error {
		b := tx.Bucket(bucketEdits).Bucket(section)
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// orphans lists the stored sources (with a state, items or a count) that
// are not configured, with their marks.
func orphans(tx *bbolt.Tx, configured []string, removed map[string]time.Time) []store.Orphan {
	ids := map[string]bool{}
	add := func(k, _ []byte) error {
		if !slices.Contains(configured, string(k)) {
			ids[string(k)] = true
		}
		return nil
	}
	for _, name := range [][]byte{bucketState, bucketCounts, bucketItems} {
		if b := tx.Bucket(name); b != nil { // a read-only open of a new file has none
			b.ForEach(add)
		}
	}
	out := make([]store.Orphan, 0, len(ids))
	for id := range ids {
		o := store.Orphan{SourceID: id, RemovedAt: removed[id]}
		if v := tx.Bucket(bucketCounts).Get([]byte(id)); len(v) == 8 { // there when ids is not empty
			o.Items = int(binary.BigEndian.Uint64(v))
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b store.Orphan) int { return strings.Compare(a.SourceID, b.SourceID) })
	return out
}

func removedMarks(tx *bbolt.Tx) (map[string]time.Time, error) {
	marks := map[string]time.Time{}
	if meta := tx.Bucket(bucketMeta); meta != nil {
		v := meta.Get(keyRemoved)
		if v == nil {
			return marks, nil
		}
		if err := json.Unmarshal(v, &marks); err != nil {
			return nil, fmt.Errorf("meta %s: %w", keyRemoved, err)
		}
	}
	return marks, nil
}

func putRemovedMarks(tx *bbolt.Tx, marks map[string]time.Time) error {
	if len(marks) == 0 {
		return tx.Bucket(bucketMeta).Delete(keyRemoved)
	}
	return putJSON(tx.Bucket(bucketMeta), keyRemoved, marks)
}

// PurgeExpired marks the orphans of configured (MarkOrphans) and purges
// those first seen missing at least grace before now. A grace of 0 purges
// nothing. It returns the orphans purged and those kept.
func (db *DB) PurgeExpired(configured []string, now time.Time, grace time.Duration) (purged, kept []store.Orphan, err error) {
	return store.PurgeExpired(db, configured, now, grace)
}
