package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Fixture says what Fill stored, for SameStore to compare.
type Fixture struct {
	Sources    []string // every source stored
	Configured []string // the sources feeds.yaml lists; the rest are marked orphans
	Sections   []string // the sections with decisions or versions
	Queries    []newsdesk.Query
	// Refetch is, by source, a fetch to repeat on each store: pruned,
	// undated and unchanged items, whose outcome shows the tombstones, the
	// dated flags and the first-seen times.
	Refetch map[string][]newsdesk.Item
}

// CopyBig is how many items Fill stores in source a: more records than
// one load transaction takes (store.LoadBatch).
const CopyBig = store.LoadBatch + 1500

// Fill stores one of everything a store keeps: source a (CopyBig items
// fetched, the oldest 1,000 pruned into tombstones, with validators), b
// (copies of a's stories by link and by title, seen later; undated items;
// an id too long to store as it is), c (a state only: 304s), gone (removed
// from feeds.yaml, marked), decisions in two sections and their versions,
// two hub subscriptions (one with failed deliveries) and a's push
// subscription.
func Fill(t testing.TB, db store.Store) Fixture {
	t.Helper()
	keep := newsdesk.Retention{MaxItems: CopyBig - 1000}
	a := PurgeItems("a", CopyBig)
	st := newsdesk.FetchState{SourceID: "a", URL: "https://a.example/feed", ETag: `W/"a-1"`, LastModified: "Thu, 19 Nov 2026 09:00:00 GMT",
		FeedTitle: "A", LastFetch: T0, LastSuccess: T0, Result: newsdesk.ResultOK, NextDue: T0.Add(time.Hour),
		History: []newsdesk.Attempt{{At: T0, Result: newsdesk.ResultOK}}}
	mustSave(t, db, st, a, keep)
	b := []newsdesk.Item{
		{ID: "b-link", Title: "Another headline entirely", Link: a[1].Link, Published: T0.Add(-time.Minute)},
		{ID: "b-title", Title: a[2].Title, Link: "https://b.example/title", Published: T0.Add(-2 * time.Minute)},
		{ID: "b-undated", Title: "An undated story of b", Link: "https://b.example/undated"},
		{ID: "b-undated-2", Title: "Another undated story of b", Summary: "<p>text</p>"},
		{ID: strings.Repeat("L", store.MaxStoredID+10), Title: "A story with an absurdly long id", Link: "https://b.example/long", Published: T0},
	}
	// The undated items come in two fetches: undated items of one fetch
	// share a date, and the engines order such ties apart.
	mustSave(t, db, newsdesk.FetchState{SourceID: "b", URL: "https://b.example/", LastFetch: T0.Add(time.Hour), Result: newsdesk.ResultOK}, slices.Delete(slices.Clone(b), 3, 4), NoLimit)
	mustSave(t, db, newsdesk.FetchState{SourceID: "b", URL: "https://b.example/", LastFetch: T0.Add(2 * time.Hour), Result: newsdesk.ResultOK}, b, NoLimit)
	if err := db.SaveState(newsdesk.FetchState{SourceID: "c", URL: "https://c.example/", ETag: `"c"`, LastFetch: T0, Result: newsdesk.ResultNotModified}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, db, newsdesk.FetchState{SourceID: "gone", LastFetch: T0, Result: newsdesk.ResultOK}, PurgeItems("gone", 3), NoLimit)
	configured := []string{"a", "b", "c"}
	if _, err := db.MarkOrphans(configured, T0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		section string
		ref     newsdesk.ItemRef
		d       newsdesk.Decision
	}{
		{"s1", newsdesk.ItemRef{SourceID: "a", ID: a[CopyBig-1500].ID}, newsdesk.Pin},
		{"s1", newsdesk.ItemRef{SourceID: "b", ID: "b-undated"}, newsdesk.Hide},
		{"s2", newsdesk.ItemRef{SourceID: "b", ID: b[4].ID}, newsdesk.Pin},
		{"s2", newsdesk.ItemRef{SourceID: "gone", ID: "gone-00001"}, newsdesk.Hide},
	} {
		if err := db.SetDecision(d.section, d.ref, d.d, T0.Add(time.Duration(len(d.ref.ID))*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.RecordSectionVersions(map[string]string{"s1": "hash-1", "s2": "hash-2"}, T0.Add(4*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	failing := HubSub("s2", "https://reader.example/cb?token=x")
	failing.Failures, failing.NextTry, failing.LastAttempt, failing.LastResult = 3, T0.Add(time.Hour), T0, "http 500"
	saveHub(t, db, HubSub("s1", "https://reader.example/cb"), failing)
	if err := db.SavePushSubscription(PushSub("a")); err != nil {
		t.Fatal(err)
	}
	return Fixture{
		Sources:    []string{"a", "b", "c", "gone"},
		Configured: configured,
		Sections:   []string{"s1", "s2"},
		Queries: []newsdesk.Query{
			{SectionID: "s1", Sources: []string{"a", "b"}, Limit: 20},
			{SectionID: "s1", Sources: []string{"a", "b"}, Limit: 20, DedupeTitles: true},
			{SectionID: "s2", Sources: []string{"b", "gone"}, Limit: 10},
		},
		Refetch: map[string][]newsdesk.Item{"a": {a[CopyBig-1], a[CopyBig-2], a[0]}, "b": {b[2], b[3], b[4]}},
	}
}

func mustSave(t testing.TB, db store.Store, st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) {
	t.Helper()
	if _, err := db.SaveFetch(st, items, keep); err != nil {
		t.Fatal(err)
	}
}

// SameStore checks that got holds what want holds, as f describes it,
// through the store's reads: states, counts, every item (with its
// first-seen time), orphans and their marks, decisions, section versions,
// section queries (which use the indexes a load rebuilds), the records a
// Dumper gives, and then the outcome of the same fetch on each (which
// shows the tombstones and the dated flags). The fetch changes both.
func SameStore(t *testing.T, want, got store.Store, f Fixture) {
	t.Helper()
	same := func(what string, read func(db store.Store) (any, error)) {
		t.Helper()
		w, err := read(want)
		if err != nil {
			t.Fatalf("%s of the original: %v", what, err)
		}
		g, err := read(got)
		if err != nil {
			t.Fatalf("%s of the copy: %v", what, err)
		}
		if wj, gj := asJSON(t, w), asJSON(t, g); wj != gj {
			t.Errorf("%s differ:\ncopy:     %.2000s\noriginal: %.2000s", what, gj, wj)
		}
	}
	same("states", func(db store.Store) (any, error) { return sortedStates(db) })
	same("orphans", func(db store.Store) (any, error) { return db.Orphans(f.Configured) })
	same("section versions", func(db store.Store) (any, error) { return db.SectionVersions() })
	same("hub subscriptions", func(db store.Store) (any, error) { return allHubSubs(db) })
	same("push subscriptions", func(db store.Store) (any, error) { return db.PushSubscriptions() })
	for _, src := range f.Sources {
		same("count of "+src, func(db store.Store) (any, error) { return db.CountItems(src) })
		same("items of "+src, func(db store.Store) (any, error) { return allItems(db, src) })
	}
	for _, sec := range f.Sections {
		same("decisions of "+sec, func(db store.Store) (any, error) { return db.Edits(sec) })
	}
	for i, q := range f.Queries {
		same(fmt.Sprintf("query %d (%s)", i, q.SectionID), func(db store.Store) (any, error) { return sectionWithDuplicates(db, q) })
	}
	if _, ok := want.(store.Dumper); ok {
		same("records", func(db store.Store) (any, error) { return dumpLines(db) })
	}
	for src, items := range f.Refetch {
		same("refetch of "+src, func(db store.Store) (any, error) {
			st, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: T0.Add(24 * time.Hour)}, items, NoLimit)
			return []int{st.New, st.Updated, st.Skipped}, err
		})
		same("items of "+src+" after the refetch", func(db store.Store) (any, error) { return allItems(db, src) })
	}
}

func asJSON(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sortedStates(db store.Store) ([]newsdesk.FetchState, error) {
	states, err := db.States()
	slices.SortFunc(states, func(a, b newsdesk.FetchState) int { return strings.Compare(a.SourceID, b.SourceID) })
	return states, err
}

func allHubSubs(db store.Store) ([]newsdesk.HubSubscription, error) {
	var out []newsdesk.HubSubscription
	err := db.HubSubscriptions(func(s newsdesk.HubSubscription) bool { out = append(out, s); return true })
	return out, err
}

func allItems(db store.Store, src string) ([]newsdesk.Item, error) {
	var out []newsdesk.Item
	err := db.Items(src, func(it newsdesk.Item) bool { out = append(out, it); return true })
	return out, err
}

// sectionWithDuplicates is a section's items with their duplicates.
func sectionWithDuplicates(db store.Store, q newsdesk.Query) ([]string, error) {
	items, err := db.Section(q)
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s/%.40s dup %v", it.SourceID, it.ID, it.Duplicates))
	}
	return out, err
}

// dumpLines is every record a Dumper gives, as sorted JSON lines.
func dumpLines(db store.Store) ([]string, error) {
	var out []string
	err := db.(store.Dumper).Dump(context.Background(), func(r store.Entry) error {
		data, err := json.Marshal(r)
		out = append(out, string(data))
		return err
	})
	slices.Sort(out)
	return out, err
}

// testCopy: a filled store dumped and loaded into an empty one of the same
// engine holds the same: everything SameStore compares. The copy is then
// not empty, and a second load into it is refused.
func testCopy(t *testing.T, open Open) {
	src := open(t)
	if _, ok := src.(store.Dumper); !ok {
		t.Skip("this engine cannot be copied (store.Dumper)")
	}
	f := Fill(t, src)
	dst := open(t)
	rep, err := store.Copy(context.Background(), src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := store.CopyReport{Sources: 4, Items: CopyBig - 1000 + 5 + 3, Tombstones: 1000, Decisions: 4, Sections: 2, WebSub: 3, Total: CopyBig - 1000 + 5 + 3}
	if asJSON(t, rep) != asJSON(t, want) || rep.Total != want.Total {
		t.Errorf("Copy() = %+v, want %+v", rep, want)
	}
	if _, err := store.Copy(context.Background(), src, dst, nil); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("a second Copy() into the copy: %v, want ErrNotEmpty", err)
	}
	SameStore(t, src, dst, f)
}

// testCopyFailureLeavesEmpty: a copy that fails after some load
// transactions were committed leaves the store it was loading empty, so
// that the copy can simply be run again.
func testCopyFailureLeavesEmpty(t *testing.T, open Open) {
	src := open(t)
	if _, ok := src.(store.Dumper); !ok {
		t.Skip("this engine cannot be copied (store.Dumper)")
	}
	Fill(t, src)
	dst := open(t)
	broken := failingDumper{Store: src, after: store.LoadBatch + 10}
	if _, err := store.Copy(context.Background(), broken, dst, nil); err == nil || !strings.Contains(err.Error(), "disk unplugged") {
		t.Fatalf("Copy() from a failing store: %v, want its error", err)
	}
	for _, src := range []string{"a", "b"} {
		if n, err := dst.CountItems(src); n != 0 || err != nil {
			t.Errorf("CountItems(%s) after the failed copy = %d, %v; want 0", src, n, err)
		}
	}
	if _, err := store.Copy(context.Background(), src, dst, nil); err != nil {
		t.Errorf("Copy() again after the failure: %v", err)
	}
}

// failingDumper is a store whose Dump fails after a number of records.
type failingDumper struct {
	store.Store
	after int
}

func (f failingDumper) Dump(ctx context.Context, fn func(store.Entry) error) error {
	n := 0
	return f.Store.(store.Dumper).Dump(ctx, func(r store.Entry) error {
		if n++; n > f.after {
			return errors.New("disk unplugged")
		}
		return fn(r)
	})
}
