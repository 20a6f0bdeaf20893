package bolt

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/storetest"
	bbolt "go.etcd.io/bbolt"
)

// mentions lists where the file still holds anything of source src: keys
// of the shared indexes and buckets that name it.
func mentions(t *testing.T, db *DB, src string) []string {
	t.Helper()
	var out []string
	named := []byte("\x00" + src + "\x00")
	err := db.bdb.View(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketItems, bucketByTime, bucketSeen} {
			if tx.Bucket(name).Bucket([]byte(src)) != nil {
				out = append(out, string(name)+"/"+src)
			}
		}
		for _, name := range [][]byte{bucketState, bucketCounts} {
			if tx.Bucket(name).Get([]byte(src)) != nil {
				out = append(out, string(name)+" "+src)
			}
		}
		for _, name := range [][]byte{bucketLinks, bucketTitles} {
			tx.Bucket(name).ForEach(func(k, _ []byte) error {
				// KEY 0 TIME(8) SOURCE 0 ID
				if i := bytes.IndexByte(k, 0); i >= 0 && len(k) > i+9 && bytes.HasPrefix(k[i+9:], named[1:]) {
					out = append(out, string(name)+" "+string(k[:i]))
				}
				return nil
			})
		}
		return tx.Bucket(bucketEdits).ForEachBucket(func(sec []byte) error {
			return tx.Bucket(bucketEdits).Bucket(sec).ForEach(func(k, _ []byte) error {
				if bytes.HasPrefix(k, named[1:]) {
					out = append(out, "editorial/"+string(sec)+" "+string(k))
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPurgeLeavesNoKey: a source's removal mark survives a restart, and
// once the source is purged, in transactions of store.PurgeBatch items, no key
// in the file names it (items, time index, link and title indexes,
// tombstones, count, state, editorial decisions) while the source that
// stays keeps every key it had. (What a purge means through the store's
// methods is storetest's PurgeRemovedSource.)
func TestPurgeLeavesNoKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.PurgeFixture(t, db, store.PurgeBatch*2+1000) // three purge transactions
	if m := mentions(t, db, "b"); len(m) < 5 {
		t.Fatalf("before: b is stored in %q; want items, indexes, tombstones, state, decisions", m)
	}
	before := mentions(t, db, "a")
	if _, err := db.MarkOrphans([]string{"a"}, storetest.T0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orphans, err := db.Orphans([]string{"a"})
	if err != nil || len(orphans) != 1 || !orphans[0].RemovedAt.Equal(storetest.T0) {
		t.Fatalf("after a restart, Orphans() = %+v, %v; want b removed at %s", orphans, err, storetest.T0)
	}
	if n, err := db.Purge("b"); err != nil || n != store.PurgeBatch*2+500 {
		t.Fatalf("Purge(b) = %d, %v; want %d items", n, err, store.PurgeBatch*2+500)
	}
	if m := mentions(t, db, "b"); len(m) > 0 {
		t.Errorf("after the purge, b is still in %q", m)
	}
	if after := mentions(t, db, "a"); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a after b's purge: %q, want it untouched: %q", after, before)
	}
	err = db.bdb.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyRemoved); v != nil {
			t.Errorf("meta removed = %s after the last orphan was purged, want it gone", v)
		}
		if v := tx.Bucket(bucketCounts).Get([]byte("a")); binary.BigEndian.Uint64(v) != 3 {
			t.Errorf("count of a = %d, want 3", binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
