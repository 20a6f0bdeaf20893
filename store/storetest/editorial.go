package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// testPinnedFirstHiddenNever: pinned items come first (latest pin first)
// whatever the rules say, hidden ones never, only in their section, and
// re-fetches do not undo decisions.
func testPinnedFirstHiddenNever(t *testing.T, open Open) {
	db := open(t)
	items := Feed("a", 10, T0) // a-000 newest ... a-009 oldest
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0}, items, NoLimit); err != nil {
		t.Fatal(err)
	}
	ref := func(id string) newsdesk.ItemRef { return newsdesk.ItemRef{SourceID: "a", ID: id} }
	// The rules keep only even items; a-009 (odd, oldest) is pinned anyway.
	even := func(it *newsdesk.Item) bool { return (it.ID[len(it.ID)-1]-'0')%2 == 0 }
	q := newsdesk.Query{SectionID: "s", Sources: []string{"a"}, Keep: even, Limit: 4}
	for _, d := range []struct {
		id string
		d  newsdesk.Decision
	}{{"a-009", newsdesk.Pin}, {"a-005", newsdesk.Pin}, {"a-002", newsdesk.Hide}} {
		if err := db.SetDecision("s", ref(d.id), d.d, T0.Add(time.Duration(len(d.id))*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetDecision("s", ref("a-005"), newsdesk.Pin, T0.Add(time.Hour)); err != nil { // pinned again later
		t.Fatal(err)
	}
	got, err := db.Section(q)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(IDs(got)); s != "[a/a-005 a/a-009 a/a-000 a/a-004]" {
		t.Errorf("Section() = %s, want the pinned (latest pin first), then the kept, without the hidden a-002", s)
	}
	// Another section is not affected; a re-fetch does not undo decisions.
	if got, _ := db.Section(newsdesk.Query{SectionID: "other", Sources: []string{"a"}, Keep: even, Limit: 2}); fmt.Sprint(IDs(got)) != "[a/a-000 a/a-002]" {
		t.Errorf("other section = %v, want no decisions applied", IDs(got))
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0.Add(time.Hour)}, items, NoLimit); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDecision("s", ref("a-009"), "", T0); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Section(q)
	if s := fmt.Sprint(IDs(got)); s != "[a/a-005 a/a-000 a/a-004 a/a-006]" {
		t.Errorf("after unpinning a-009: %s", s)
	}
}

// testPinnedStoryIsNotShownTwice: pinning one source's copy of a story keeps
// the other sources' copies out; a pin whose source left the section lapses.
func testPinnedStoryIsNotShownTwice(t *testing.T, open Open) {
	db := open(t)
	a := Item("a", "a1", T0)
	b := Item("b", "b1", T0.Add(time.Hour))
	a.Link, b.Link = "https://example.com/story", "https://example.com/story"
	for i, it := range []newsdesk.Item{b, a} { // b seen first
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: it.SourceID, LastFetch: T0.Add(time.Duration(i) * time.Minute)}, []newsdesk.Item{it}, NoLimit); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetDecision("s", newsdesk.ItemRef{SourceID: "a", ID: "a1"}, newsdesk.Pin, T0); err != nil {
		t.Fatal(err)
	}
	got, err := db.Section(newsdesk.Query{SectionID: "s", Sources: []string{"a", "b"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(IDs(got)); s != "[a/a1]" {
		t.Errorf("Section() = %s, want only the pinned copy", s)
	}
	got, _ = db.Section(newsdesk.Query{SectionID: "s", Sources: []string{"b"}, Limit: 10})
	if s := fmt.Sprint(IDs(got)); s != "[b/b1]" {
		t.Errorf("without source a: %s, want b's copy and no lapsed pin", s)
	}
}

// testDecisionOnLongID: an id just under bbolt's key limit is stored as it is; a decision
// about it, whose key adds the source id, must still be recorded and undone.
func testDecisionOnLongID(t *testing.T, open Open) {
	db := open(t)
	src := strings.Repeat("s", 60)
	long := strings.Repeat("x", 32768-8) // the longest id stored unhashed: bbolt keys hold 32,768 bytes
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: T0}, []newsdesk.Item{Item(src, long, T0)}, NoLimit); err != nil {
		t.Fatal(err)
	}
	ref := newsdesk.ItemRef{SourceID: src, ID: long}
	if err := db.SetDecision("s", ref, newsdesk.Hide, T0); err != nil {
		t.Fatalf("SetDecision(hide) on a %d-byte id: %v", len(long), err)
	}
	edits, err := db.Edits("s")
	if err != nil || len(edits) != 1 || edits[0].Ref != ref || edits[0].Decision != newsdesk.Hide {
		t.Fatalf("Edits() = %d edits, %v; want the hide of the long id", len(edits), err)
	}
	got, err := db.Section(newsdesk.Query{SectionID: "s", Sources: []string{src}, Limit: 5})
	if err != nil || len(got) != 0 {
		t.Errorf("Section() = %d items, %v; want the hidden item left out", len(got), err)
	}
	if err := db.SetDecision("s", ref, "", T0); err != nil {
		t.Fatal(err)
	}
	if edits, err := db.Edits("s"); err != nil || len(edits) != 0 {
		t.Errorf("Edits() after unhide = %d edits, %v; want none", len(edits), err)
	}
}
