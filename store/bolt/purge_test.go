package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	bbolt "go.etcd.io/bbolt"
)

var p0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func purgeItems(src string, n int) []newsdesk.Item {
	items := make([]newsdesk.Item, n)
	for i := range items {
		id := fmt.Sprintf("%s-%05d", src, i)
		items[i] = newsdesk.Item{ID: id, Title: "A story long enough to be indexed " + id, Link: "https://example.com/" + id, Published: p0.Add(-time.Duration(i) * time.Minute)}
	}
	return items
}

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

// TestPurgeRemovedSource: a source removed from feeds.yaml is an orphan
// from the first time it is seen missing (a time that survives a restart
// and does not move), comes back with nothing lost, and once purged leaves
// nothing behind — items, index entries, tombstones, count, state and
// editorial decisions — in transactions of purgeBatch items, while the
// sources that stay are untouched.
func TestPurgeRemovedSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	keep := newsdesk.Retention{MaxItems: purgeBatch*2 + 500}
	for _, src := range []string{"a", "b"} {
		n := 3
		if src == "b" {
			n = purgeBatch*2 + 1000 // three purge transactions, and tombstones
		}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, URL: "https://" + src + ".example/", LastFetch: p0, Result: newsdesk.ResultOK}, purgeItems(src, n), keep); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []newsdesk.ItemRef{{SourceID: "b", ID: "b-00001"}, {SourceID: "a", ID: "a-00001"}} {
		for _, sec := range []string{"s1", "s2"} {
			if err := db.SetDecision(sec, ref, newsdesk.Pin, p0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if m := mentions(t, db, "b"); len(m) < 5 {
		t.Fatalf("before: b is stored in %q; want items, indexes, tombstones, state, decisions", m)
	}
	before := mentions(t, db, "a")

	// Removed from feeds.yaml: an orphan, marked once.
	orphans, err := db.MarkOrphans([]string{"a"}, p0)
	if err != nil || len(orphans) != 1 || orphans[0].SourceID != "b" || orphans[0].Items != purgeBatch*2+500 || !orphans[0].RemovedAt.Equal(p0) {
		t.Fatalf("MarkOrphans() = %+v, %v; want b with %d items removed at %s", orphans, err, purgeBatch*2+500, p0)
	}
	// The mark survives a restart and later marking does not move it.
	db.Close()
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if orphans, err = db.MarkOrphans([]string{"a"}, p0.Add(24*time.Hour)); err != nil || len(orphans) != 1 || !orphans[0].RemovedAt.Equal(p0) {
		t.Fatalf("after a restart, MarkOrphans() = %+v, %v; want b still removed at %s", orphans, err, p0)
	}
	// Within the grace period nothing goes.
	grace := 30 * 24 * time.Hour
	if purged, kept, err := db.PurgeExpired([]string{"a"}, p0.Add(grace-time.Second), grace); err != nil || len(purged) != 0 || len(kept) != 1 {
		t.Fatalf("PurgeExpired() within the grace period = %+v, %+v, %v; want b kept", purged, kept, err)
	}
	// Back in feeds.yaml: un-orphaned, nothing lost, and a later removal
	// starts a new grace period.
	if orphans, err = db.MarkOrphans([]string{"a", "b"}, p0.Add(time.Hour)); err != nil || len(orphans) != 0 {
		t.Fatalf("MarkOrphans(a, b) = %+v, %v; want no orphans", orphans, err)
	}
	if n, _ := db.CountItems("b"); n != purgeBatch*2+500 {
		t.Fatalf("b back in feeds.yaml has %d items, want all %d", n, purgeBatch*2+500)
	}
	if _, err := db.Purge("b"); err == nil || !strings.Contains(err.Error(), "not marked") {
		t.Fatalf("Purge(b) of a configured source: %v, want a refusal", err)
	}
	if orphans, err = db.MarkOrphans([]string{"a"}, p0.Add(48*time.Hour)); err != nil || !orphans[0].RemovedAt.Equal(p0.Add(48*time.Hour)) {
		t.Fatalf("removed again: %+v, %v; want a new mark", orphans, err)
	}

	purged, kept, err := db.PurgeExpired([]string{"a"}, p0.Add(48*time.Hour+grace), grace)
	if err != nil || len(purged) != 1 || purged[0].SourceID != "b" || len(kept) != 0 {
		t.Fatalf("PurgeExpired() after the grace period = %+v, %+v, %v; want b purged", purged, kept, err)
	}
	if m := mentions(t, db, "b"); len(m) > 0 {
		t.Errorf("after the purge, b is still in %q", m)
	}
	if after := mentions(t, db, "a"); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a after b's purge: %q, want it untouched: %q", after, before)
	}
	if orphans, err := db.Orphans([]string{"a"}); err != nil || len(orphans) != 0 {
		t.Errorf("Orphans() after the purge = %+v, %v; want none", orphans, err)
	}
	items, err := db.Section(newsdesk.Query{SectionID: "s1", Sources: []string{"a"}, Limit: 10})
	if err != nil || len(items) != 3 || items[0].ID != "a-00001" {
		t.Errorf("section of a = %d items (first %v), %v; want all 3, the pinned a-00001 first", len(items), items, err)
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

// TestPurgeNeverWithZeroGrace: storage.purge_removed_after: 0 keeps
// orphans for good (newsdesk purge still removes them).
func TestPurgeNeverWithZeroGrace(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "newsdesk.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "b", LastFetch: p0}, purgeItems("b", 2), newsdesk.DefaultRetention); err != nil {
		t.Fatal(err)
	}
	purged, kept, err := db.PurgeExpired(nil, p0.Add(10*365*24*time.Hour), 0)
	if err != nil || len(purged) != 0 || len(kept) != 1 {
		t.Errorf("PurgeExpired(grace 0) = %+v, %+v, %v; want b kept", purged, kept, err)
	}
	if n, err := db.Purge("b"); err != nil || n != 2 {
		t.Errorf("Purge(b) = %d, %v; want its 2 items", n, err)
	}
}
