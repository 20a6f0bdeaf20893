package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// PurgeItems is n items of source src with links and titles long enough
// to be indexed as duplicates, one a minute back from T0.
func PurgeItems(src string, n int) []newsdesk.Item {
	items := make([]newsdesk.Item, n)
	for i := range items {
		id := fmt.Sprintf("%s-%05d", src, i)
		items[i] = newsdesk.Item{ID: id, Title: "A story long enough to be indexed " + id, Link: "https://example.com/" + id, Published: T0.Add(-time.Duration(i) * time.Minute)}
	}
	return items
}

// PurgeFixture stores source a (3 items) and source b (big items, beyond
// retention so that it has tombstones too), each with its state, and pins
// an item of each in sections s1 and s2.
func PurgeFixture(t testing.TB, db store.Store, big int) {
	t.Helper()
	keep := newsdesk.Retention{MaxItems: big - 500}
	for src, n := range map[string]int{"a": 3, "b": big} {
		st := newsdesk.FetchState{SourceID: src, URL: "https://" + src + ".example/", LastFetch: T0, Result: newsdesk.ResultOK}
		if _, err := db.SaveFetch(st, PurgeItems(src, n), keep); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []newsdesk.ItemRef{{SourceID: "b", ID: "b-00001"}, {SourceID: "a", ID: "a-00001"}} {
		for _, sec := range []string{"s1", "s2"} {
			if err := db.SetDecision(sec, ref, newsdesk.Pin, T0); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// testPurgeRemovedSource: a source removed from feeds.yaml is an orphan
// from the first time it is seen missing (a time later marking does not
// move), comes back with nothing lost, and once purged leaves nothing the
// store can read — items, count, state, editorial decisions — while the
// sources that stay are untouched. b is big enough for a purge in several
// transactions.
func testPurgeRemovedSource(t *testing.T, open Open) {
	db := open(t)
	const big = 11_000
	PurgeFixture(t, db, big)
	kept := big - 500
	orphans, err := db.MarkOrphans([]string{"a"}, T0)
	if err != nil || len(orphans) != 1 || orphans[0].SourceID != "b" || orphans[0].Items != kept || !orphans[0].RemovedAt.Equal(T0) {
		t.Fatalf("MarkOrphans() = %+v, %v; want b with %d items removed at %s", orphans, err, kept, T0)
	}
	if orphans, err = db.MarkOrphans([]string{"a"}, T0.Add(24*time.Hour)); err != nil || len(orphans) != 1 || !orphans[0].RemovedAt.Equal(T0) {
		t.Fatalf("marked again, MarkOrphans() = %+v, %v; want b still removed at %s", orphans, err, T0)
	}
	// Within the grace period nothing goes.
	grace := 30 * 24 * time.Hour
	if purged, kept, err := db.PurgeExpired([]string{"a"}, T0.Add(grace-time.Second), grace); err != nil || len(purged) != 0 || len(kept) != 1 {
		t.Fatalf("PurgeExpired() within the grace period = %+v, %+v, %v; want b kept", purged, kept, err)
	}
	// Back in feeds.yaml: un-orphaned, nothing lost, and a later removal
	// starts a new grace period.
	if orphans, err = db.MarkOrphans([]string{"a", "b"}, T0.Add(time.Hour)); err != nil || len(orphans) != 0 {
		t.Fatalf("MarkOrphans(a, b) = %+v, %v; want no orphans", orphans, err)
	}
	if n, _ := db.CountItems("b"); n != kept {
		t.Fatalf("b back in feeds.yaml has %d items, want all %d", n, kept)
	}
	if _, err := db.Purge("b"); err == nil || !strings.Contains(err.Error(), "not marked") {
		t.Fatalf("Purge(b) of a configured source: %v, want a refusal", err)
	}
	if orphans, err = db.MarkOrphans([]string{"a"}, T0.Add(48*time.Hour)); err != nil || len(orphans) != 1 || !orphans[0].RemovedAt.Equal(T0.Add(48*time.Hour)) {
		t.Fatalf("removed again: %+v, %v; want a new mark", orphans, err)
	}
	purged, left, err := db.PurgeExpired([]string{"a"}, T0.Add(48*time.Hour+grace), grace)
	if err != nil || len(purged) != 1 || purged[0].SourceID != "b" || len(left) != 0 {
		t.Fatalf("PurgeExpired() after the grace period = %+v, %+v, %v; want b purged", purged, left, err)
	}
	wantPurged(t, db, "b")
	if orphans, err := db.Orphans([]string{"a"}); err != nil || len(orphans) != 0 {
		t.Errorf("Orphans() after the purge = %+v, %v; want none", orphans, err)
	}
	if n, _ := db.CountItems("a"); n != 3 {
		t.Errorf("CountItems(a) = %d, want 3", n)
	}
	items, err := db.Section(newsdesk.Query{SectionID: "s1", Sources: []string{"a"}, Limit: 10})
	if err != nil || len(items) != 3 || items[0].ID != "a-00001" {
		t.Errorf("section of a = %d items (first %v), %v; want all 3, the pinned a-00001 first", len(items), items, err)
	}
}

// wantPurged checks that nothing the store can read is left of src.
func wantPurged(t *testing.T, db store.Store, src string) {
	t.Helper()
	if n, err := db.CountItems(src); n != 0 || err != nil {
		t.Errorf("CountItems(%s) after the purge = %d, %v; want 0", src, n, err)
	}
	if _, err := db.State(src); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("State(%s) after the purge: %v, want ErrNotFound", src, err)
	}
	n := 0
	if err := db.Items(src, func(newsdesk.Item) bool { n++; return true }); err != nil || n != 0 {
		t.Errorf("Items(%s) after the purge = %d items, %v; want none", src, n, err)
	}
	for _, sec := range []string{"s1", "s2"} {
		edits, err := db.Edits(sec)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range edits {
			if e.Ref.SourceID == src {
				t.Errorf("Edits(%s) after the purge still has %+v", sec, e)
			}
		}
	}
}

// testPurgeNeverWithZeroGrace: storage.purge_removed_after: 0 keeps
// orphans for good (newsdesk purge still removes them).
func testPurgeNeverWithZeroGrace(t *testing.T, open Open) {
	db := open(t)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "b", LastFetch: T0}, PurgeItems("b", 2), newsdesk.DefaultRetention); err != nil {
		t.Fatal(err)
	}
	purged, kept, err := db.PurgeExpired(nil, T0.Add(10*365*24*time.Hour), 0)
	if err != nil || len(purged) != 0 || len(kept) != 1 {
		t.Errorf("PurgeExpired(grace 0) = %+v, %+v, %v; want b kept", purged, kept, err)
	}
	if n, err := db.Purge("b"); err != nil || n != 2 {
		t.Errorf("Purge(b) = %d, %v; want its 2 items", n, err)
	}
}
