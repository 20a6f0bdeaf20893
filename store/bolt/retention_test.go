package bolt_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// feed builds n items of source src, one an hour back from newest.
func feed(src string, n int, newest time.Time) []newsdesk.Item {
	items := make([]newsdesk.Item, n)
	for i := range items {
		items[i] = item(src, fmt.Sprintf("%s-%03d", src, i), newest.Add(-time.Duration(i)*time.Hour))
	}
	return items
}

func TestRetentionPrunes(t *testing.T) {
	tests := []struct {
		name      string
		keep      newsdesk.Retention
		items     int
		wantCount int
		wantOld   string // the oldest item id still stored
	}{
		{"max_items", newsdesk.Retention{MaxItems: 10, MinItems: 2}, 30, 10, "a-009"},
		{"max_age from the newest item", newsdesk.Retention{MaxAge: 5 * time.Hour, MaxItems: 100}, 30, 6, "a-005"},
		{"min_items beats max_age", newsdesk.Retention{MaxAge: time.Hour, MaxItems: 100, MinItems: 8}, 30, 8, "a-007"},
		{"no limits", newsdesk.Retention{}, 30, 30, "a-029"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			// A source that went quiet a year ago: max_age counts from its
			// newest item, so it does not empty out.
			newest := t0.AddDate(-1, 0, 0)
			if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, feed("a", tt.items, newest), tt.keep); err != nil {
				t.Fatal(err)
			}
			if n, _ := db.CountItems("a"); n != tt.wantCount {
				t.Errorf("CountItems = %d, want %d", n, tt.wantCount)
			}
			got, err := db.Section(newsdesk.Query{Sources: []string{"a"}, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantCount || got[len(got)-1].ID != tt.wantOld {
				t.Errorf("section has %d items, oldest %q; want %d, oldest %q", len(got), got[len(got)-1].ID, tt.wantCount, tt.wantOld)
			}
		})
	}
}

// TestPrunedItemsNeverReturnAsNew: the feed still carries items that
// retention pruned; fetching it again stores nothing new, for as long as
// the feed carries them.
func TestPrunedItemsNeverReturnAsNew(t *testing.T) {
	db := openDB(t)
	keep := newsdesk.Retention{MaxItems: 5}
	items := feed("a", 20, t0)
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, items, keep)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 20 {
		t.Fatalf("first fetch: %d new, want 20", st.New)
	}
	// Re-fetch the same feed daily for 60 days: the tombstones of items the
	// feed still carries never expire.
	for day := 1; day <= 60; day++ {
		st, err = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0.AddDate(0, 0, day)}, items, keep)
		if err != nil {
			t.Fatal(err)
		}
		if st.New != 0 || st.Updated != 0 {
			t.Fatalf("day %d: %d new, %d updated; want 0 and 0", day, st.New, st.Updated)
		}
	}
	if n, _ := db.CountItems("a"); n != 5 {
		t.Errorf("CountItems = %d, want 5", n)
	}
	// A new story still gets in, and pushes the oldest kept one out.
	fresh := item("a", "fresh", t0.Add(time.Hour))
	st, _ = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0.AddDate(0, 0, 61)}, append([]newsdesk.Item{fresh}, items...), keep)
	if st.New != 1 {
		t.Errorf("a new story: %d new, want 1", st.New)
	}
}

// TestTombstonesAreBounded: once the feed stops carrying a pruned item, its
// tombstone is forgotten after 30 days, so the file does not grow forever.
func TestTombstonesAreBounded(t *testing.T) {
	dir := t.TempDir()
	db := openDBAt(t, dir+"/newsdesk.db")
	keep := newsdesk.Retention{MaxItems: 10}
	// A busy source: 100 new items a day for 200 days, the feed carrying the
	// latest 50.
	var sizes []int64
	for day := range 200 {
		now := t0.AddDate(0, 0, day)
		items := make([]newsdesk.Item, 50)
		for i := range items {
			n := day*100 + 99 - i
			items[i] = item("a", fmt.Sprintf("a-%06d", n), now.Add(-time.Duration(i)*time.Minute))
		}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: now}, items, keep); err != nil {
			t.Fatal(err)
		}
		if day%50 == 49 {
			fi, err := os.Stat(dir + "/newsdesk.db")
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, fi.Size())
		}
	}
	if n, _ := db.CountItems("a"); n != 10 {
		t.Errorf("CountItems = %d, want 10", n)
	}
	// Tombstones: 40 a day for 30 days at most; the file stops growing.
	t.Logf("file size after 50, 100, 150, 200 days: %v", sizes)
	if sizes[3] > sizes[1] {
		t.Errorf("file size after 100, 150, 200 days: %v; want it bounded", sizes[1:])
	}
}

func TestDuplicatesAcrossSources(t *testing.T) {
	db := openDB(t)
	story := "https://example.com/2026/11/26/story"
	wire := item("wire", "w1", t0)
	wire.Link = story
	paper := item("paper", "p1", t0.Add(30*time.Minute)) // published later, seen later
	paper.Link = story
	blog := item("blog", "b1", t0.Add(time.Hour))
	blog.Link = story
	other := item("paper", "p2", t0.Add(2*time.Hour))
	save := func(src string, at time.Time, items ...newsdesk.Item) {
		t.Helper()
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: at}, items, noLimit); err != nil {
			t.Fatal(err)
		}
	}
	// The paper is fetched first, so its copy is the earliest seen.
	save("paper", t0.Add(40*time.Minute), paper, other)
	save("wire", t0.Add(50*time.Minute), wire)
	save("blog", t0.Add(70*time.Minute), blog)

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
			if s := fmt.Sprint(ids(got)); s != tt.want {
				t.Fatalf("Section() = %s, want %s", s, tt.want)
			}
			if s := fmt.Sprint(got[len(got)-1].Duplicates); s != tt.wantDup {
				t.Errorf("duplicates of %s = %s, want %s", got[len(got)-1].ID, s, tt.wantDup)
			}
		})
	}
}

func TestDuplicateTitles(t *testing.T) {
	db := openDB(t)
	a := item("a", "1", t0)
	a.Title = "Kremlin Says Talks With Washington Will Continue"
	b := item("b", "1", t0.Add(3*time.Hour))
	b.Title = "Kremlin says talks with Washington will continue!"
	c := item("c", "1", t0.Add(72*time.Hour)) // same title three days later: another story
	c.Title = a.Title
	a.Link, b.Link, c.Link = "https://a.example/1", "https://b.example/1", "https://c.example/1"
	for i, it := range []newsdesk.Item{a, b, c} {
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: it.SourceID, LastFetch: t0.Add(time.Duration(i) * time.Minute)}, []newsdesk.Item{it}, noLimit); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"a", "b", "c"}
	got, err := db.Section(newsdesk.Query{Sources: all, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(ids(got)); s != "[c/1 b/1 a/1]" {
		t.Errorf("without dedupe: titles: %s, want all three", s)
	}
	got, err = db.Section(newsdesk.Query{Sources: all, Limit: 10, DedupeTitles: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(ids(got)); s != "[c/1 a/1]" {
		t.Errorf("with dedupe: titles: %s, want [c/1 a/1]", s)
	}
}
