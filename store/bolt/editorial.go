package bolt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// SetDecision records an editor's decision about an item in a section, or
// removes the one recorded when d is empty. Decisions are kept apart from
// items, so re-fetches never undo them.
func (db *DB) SetDecision(sectionID string, ref newsdesk.ItemRef, d newsdesk.Decision, at time.Time) error {
	err := db.update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketEdits).CreateBucketIfNotExists([]byte(sectionID))
		if err != nil {
			return err
		}
		key := editKey(ref)
		if d == "" {
			return b.Delete(key)
		}
		return putJSON(b, key, store.Edit{Ref: ref, Decision: d, At: at.UTC()})
	})
	if err != nil {
		return fmt.Errorf("record %s of %s in %s: %w", d, ref.Short(), sectionID, err)
	}
	return nil
}

// editKey is the key of a decision about ref: SOURCE 0 ID, with the id
// hashed as storedID does when the whole would be too long for a bbolt key
// (an id a little under the items' limit, with a long source id). The
// decision itself, with the full ref, is the value.
func editKey(ref newsdesk.ItemRef) []byte {
	if k := ref.SourceID + "\x00" + ref.ID; len(k) <= bbolt.MaxKeySize {
		return []byte(k)
	}
	sum := sha256.Sum256([]byte(ref.ID))
	return []byte(ref.SourceID + "\x00sha256:" + hex.EncodeToString(sum[:]))
}

// Edits returns the editorial decisions of a section, most recent first.
func (db *DB) Edits(sectionID string) ([]store.Edit, error) {
	var out []store.Edit
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		out, err = editsOf(tx, sectionID)
		return err
	})
	return out, err
}

func editsOf(tx *bbolt.Tx, sectionID string) ([]store.Edit, error) {
	if sectionID == "" {
		return nil, nil
	}
	b := tx.Bucket(bucketEdits).Bucket([]byte(sectionID))
	if b == nil {
		return nil, nil
	}
	var out []store.Edit
	err := b.ForEach(func(k, v []byte) error {
		var e store.Edit
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("editorial decision %q: %w", k, err)
		}
		out = append(out, e)
		return nil
	})
	slices.SortStableFunc(out, func(a, b store.Edit) int { return b.At.Compare(a.At) })
	return out, err
}
