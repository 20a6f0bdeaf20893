package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// testDuplicatesAcrossSources: a story several sources carry (the same
// link) is listed once, as the copy seen first among those the section
// shows, with the others as its Duplicates.
func testDuplicatesAcrossSources(t *testing.T, open Open) {
	db := open(t)
	story := "https://example.com/2026/11/26/story"
	wire := Item("wire", "w1", T0)
	wire.Link = story
	paper := Item("paper", "p1", T0.Add(30*time.Minute)) // published later, seen later
	paper.Link = story
	blog := Item("blog", "b1", T0.Add(time.Hour))
	blog.Link = story
	other := Item("paper", "p2", T0.Add(2*time.Hour))
	save := func(src string, at time.Time, items ...newsdesk.Item) {
		t.Helper()
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: at}, items, NoLimit); err != nil {
			t.Fatal(err)
		}
	}
	// The paper is fetched first, so its copy is the earliest seen.
	save("paper", T0.Add(40*time.Minute), paper, other)
	save("wire", T0.Add(50*time.Minute), wire)
	save("blog", T0.Add(70*time.Minute), blog)

	tests := []struct {
		name    string
		q       newsdesk.Query
		want    string
		wantDup string
	}{
		{"all three sources", newsdesk.Query{Sources: []string{"wire", "paper", "blog"}, Limit: 10}, "[paper/p2 paper/p1]", "[{blog b1} {wire w1}]"},
		{"without the first seen", newsdesk.Query{Sources: []string{"wire", "blog"}, Limit: 10}, "[wire/w1]", "[{blog b1}]"},
		{"one source", newsdesk.Query{Sources: []string{"blog"}, Limit: 10}, "[blog/b1]", "[]"},
		{"rules drop the first seen", newsdesk.Query{Sources: []string{"wire", "paper", "blog"}, Limit: 10,
			Keep: func(it *newsdesk.Item) bool { return it.SourceID != "paper" }}, "[wire/w1]", "[{blog b1}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Section(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(IDs(got)); s != tt.want {
				t.Fatalf("Section() = %s, want %s", s, tt.want)
			}
			if s := fmt.Sprint(got[len(got)-1].Duplicates); s != tt.wantDup {
				t.Errorf("duplicates of %s = %s, want %s", got[len(got)-1].ID, s, tt.wantDup)
			}
		})
	}
}

// testDuplicateTitles: with DedupeTitles, near-identical titles from other
// sources within 48 hours are one story.
func testDuplicateTitles(t *testing.T, open Open) {
	db := open(t)
	a := Item("a", "1", T0)
	a.Title = "Kremlin Says Talks With Washington Will Continue"
	b := Item("b", "1", T0.Add(3*time.Hour))
	b.Title = "Kremlin says talks with Washington will continue!"
	c := Item("c", "1", T0.Add(72*time.Hour)) // same title three days later: another story
	c.Title = a.Title
	a.Link, b.Link, c.Link = "https://a.example/1", "https://b.example/1", "https://c.example/1"
	for i, it := range []newsdesk.Item{a, b, c} {
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: it.SourceID, LastFetch: T0.Add(time.Duration(i) * time.Minute)}, []newsdesk.Item{it}, NoLimit); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"a", "b", "c"}
	got, err := db.Section(newsdesk.Query{Sources: all, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(IDs(got)); s != "[c/1 b/1 a/1]" {
		t.Errorf("without dedupe: titles: %s, want all three", s)
	}
	got, err = db.Section(newsdesk.Query{Sources: all, Limit: 10, DedupeTitles: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(IDs(got)); s != "[c/1 a/1]" {
		t.Errorf("with dedupe: titles: %s, want [c/1 a/1]", s)
	}
}
