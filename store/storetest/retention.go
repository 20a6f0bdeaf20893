package storetest

import (
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// testRetentionPrunes: max_items, max_age (counted from the newest item)
// and min_items decide what a source keeps.
func testRetentionPrunes(t *testing.T, open Open) {
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
			db := open(t)
			// A source that went quiet a year ago: max_age counts from its
			// newest item, so it does not empty out.
			newest := T0.AddDate(-1, 0, 0)
			if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0}, Feed("a", tt.items, newest), tt.keep); err != nil {
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

// testPrunedItemsNeverReturnAsNew: the feed still carries items that
// retention pruned; fetching it again stores nothing new, for as long as
// the feed carries them.
func testPrunedItemsNeverReturnAsNew(t *testing.T, open Open) {
	db := open(t)
	keep := newsdesk.Retention{MaxItems: 5}
	items := Feed("a", 20, T0)
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0}, items, keep)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 20 {
		t.Fatalf("first fetch: %d new, want 20", st.New)
	}
	// Re-fetch the same feed daily for 60 days: the tombstones of items the
	// feed still carries never expire.
	for day := 1; day <= 60; day++ {
		st, err = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0.AddDate(0, 0, day)}, items, keep)
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
	fresh := Item("a", "fresh", T0.Add(time.Hour))
	st, _ = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0.AddDate(0, 0, 61)}, append([]newsdesk.Item{fresh}, items...), keep)
	if st.New != 1 {
		t.Errorf("a new story: %d new, want 1", st.New)
	}
}
