package bolt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/newsdesk/newsdesk"
	bbolt "go.etcd.io/bbolt"
)

// bucketSections holds each section's version:
//
//	sections              SECTION_ID -> storedVersion (JSON {"hash", "changed_at", "pos"})
//
// A database without the bucket has no versions yet; the first version
// written creates it.
var bucketSections = []byte("sections")

// storedVersion is a section's version and the Position its content was
// read after: the id of the last transaction committed before the render
// began reading (0: unknown, as in files written before it was kept).
type storedVersion struct {
	newsdesk.SectionVersion
	Pos uint64 `json:"pos,omitempty"`
}

// Position returns the id of the last committed write transaction: a read
// begun after it sees that commit and every one before it.
func (db *DB) Position() (string, error) {
	var id int
	if err := db.view(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		return "", fmt.Errorf("position: %w", err)
	}
	return strconv.Itoa(id), nil
}

// SectionVersions returns the stored version of every section that has one,
// by section id.
func (db *DB) SectionVersions() (map[string]newsdesk.SectionVersion, error) {
	out := map[string]newsdesk.SectionVersion{}
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSections)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var sv newsdesk.SectionVersion
			if err := json.Unmarshal(v, &sv); err != nil {
				return fmt.Errorf("section %s: version: %w", k, err)
			}
			out[string(k)] = sv
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("section versions: %w", err)
	}
	return out, nil
}

// RecordSectionVersions records that each section of hashes (section id ->
// hash of its content) now has that content, read after Position returned
// pos, and returns the versions of those sections: a section whose stored
// hash is the same keeps its version; any other gets the next one
// (SectionVersion.Next) at now, unless its stored version was read after a
// later Position (a commit pos does not cover), which it keeps. It writes
// only when a version changes, in one transaction.
func (db *DB) RecordSectionVersions(hashes map[string]string, now time.Time, pos string) (map[string]newsdesk.SectionVersion, error) {
	var readAt uint64
	if pos != "" {
		var err error
		if readAt, err = strconv.ParseUint(pos, 10, 64); err != nil {
			return nil, fmt.Errorf("record section versions: position %q is not one of this store's", pos)
		}
	}
	stored, err := db.SectionVersions()
	if err != nil {
		return nil, err
	}
	if out, changed := nextVersions(stored, hashes, now); !changed {
		return out, nil
	}
	var out map[string]newsdesk.SectionVersion
	err = db.update(func(tx *bbolt.Tx) error {
		// Read again inside the transaction: another render may have
		// recorded a version since, and a version never goes back.
		b, err := tx.CreateBucketIfNotExists(bucketSections)
		if err != nil {
			return err
		}
		stored := map[string]newsdesk.SectionVersion{}
		behind := map[string]bool{}
		committed := uint64(tx.ID() - 1) // this transaction's id is the next
		for id := range hashes {
			if v := b.Get([]byte(id)); v != nil {
				var sv storedVersion
				if err := json.Unmarshal(v, &sv); err != nil {
					return fmt.Errorf("section %s: version: %w", id, err)
				}
				stored[id] = sv.SectionVersion
				// A position past the last commit is not this file's
				// (a compacted copy starts counting again): not newer.
				behind[id] = pos != "" && sv.Pos > readAt && sv.Pos <= committed
			}
		}
		out, _ = nextVersions(stored, hashes, now)
		for id, sv := range out {
			if behind[id] && sv.Hash != stored[id].Hash {
				out[id] = stored[id]
				continue
			}
			if old, ok := stored[id]; !ok || !sameVersion(sv, old) {
				if err := putJSON(b, []byte(id), storedVersion{sv, readAt}); err != nil {
					return fmt.Errorf("section %s: version: %w", id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record section versions: %w", err)
	}
	return out, nil
}

// nextVersions is the version of each section of hashes after stored, and
// whether any of them differs from what is stored.
func nextVersions(stored map[string]newsdesk.SectionVersion, hashes map[string]string, now time.Time) (map[string]newsdesk.SectionVersion, bool) {
	out := make(map[string]newsdesk.SectionVersion, len(hashes))
	changed := false
	for id, hash := range hashes {
		old := stored[id]
		out[id] = old.Next(hash, now)
		changed = changed || !sameVersion(out[id], old)
	}
	return out, changed
}

func sameVersion(a, b newsdesk.SectionVersion) bool {
	return a.Hash == b.Hash && a.ChangedAt.Equal(b.ChangedAt)
}
