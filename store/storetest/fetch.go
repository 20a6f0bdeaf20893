package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// testSaveFetchNewUnchangedUpdated: a fetch counts new and changed items;
// a changed item is updated in place, keeping its first-seen time.
func testSaveFetchNewUnchangedUpdated(t *testing.T, open Open) {
	db := open(t)
	items := []newsdesk.Item{Item("a", "1", T0), Item("a", "2", T0.Add(time.Hour))}
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", ETag: `W/"x"`, LastFetch: T0.Add(2 * time.Hour), Result: newsdesk.ResultOK}, items, NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 2 || st.Updated != 0 {
		t.Errorf("first save: new=%d updated=%d, want 2 0", st.New, st.Updated)
	}
	st, err = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0.Add(3 * time.Hour)}, items, NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 0 {
		t.Errorf("same items again: new=%d updated=%d, want 0 0", st.New, st.Updated)
	}
	items[0].Title = "Changed"
	fetched := T0.Add(4 * time.Hour)
	st, err = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: fetched}, items, NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 1 {
		t.Errorf("changed title: new=%d updated=%d, want 0 1", st.New, st.Updated)
	}
	got, err := db.Item("a", "1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Changed" || !got.Updated.Equal(fetched) || !got.FirstSeen.Equal(T0.Add(2*time.Hour)) || !got.Published.Equal(T0) {
		t.Errorf("updated item = %+v; want title Changed, updated %v, first seen %v, published %v", got, fetched, T0.Add(2*time.Hour), T0)
	}
	if n, _ := db.CountItems("a"); n != 2 {
		t.Errorf("CountItems = %d, want 2", n)
	}
	state, err := db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	if state.Updated != 1 || !state.LastFetch.Equal(fetched) {
		t.Errorf("State = %+v, want Updated 1 and LastFetch %v", state, fetched)
	}
}

// testUndatedItemKeepsFirstSeenDate: an item without a date is dated by
// when it was first seen, and is not changed by later fetches.
func testUndatedItemKeepsFirstSeenDate(t *testing.T, open Open) {
	db := open(t)
	undated := []newsdesk.Item{Item("a", "u", time.Time{})}
	for i := range 3 {
		st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0.Add(time.Duration(i) * time.Hour)}, undated, NoLimit)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && (st.New != 0 || st.Updated != 0) {
			t.Fatalf("fetch %d of an unchanged undated item: new=%d updated=%d, want 0 0", i, st.New, st.Updated)
		}
	}
	got, err := db.Item("a", "u")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Published.Equal(T0) {
		t.Errorf("undated item published = %v, want first seen %v", got.Published, T0)
	}
}

// testRecentMergesNewestFirst: a section merges its sources newest first,
// dates before 1970 included, with rules and limits applied.
func testRecentMergesNewestFirst(t *testing.T, open Open) {
	db := open(t)
	pre1970 := time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)
	save := func(src string, items ...newsdesk.Item) {
		t.Helper()
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: T0}, items, NoLimit); err != nil {
			t.Fatal(err)
		}
	}
	save("a", Item("a", "old", pre1970), Item("a", "a1", T0.Add(1*time.Minute)), Item("a", "a3", T0.Add(3*time.Minute)))
	save("b", Item("b", "b2", T0.Add(2*time.Minute)), Item("b", "b3", T0.Add(3*time.Minute)))
	save("c", Item("c", "c9", T0.Add(9*time.Minute)))

	tests := []struct {
		name    string
		sources []string
		keep    func(*newsdesk.Item) bool
		limit   int
		want    string
	}{
		{"all of a and b", []string{"a", "b"}, nil, 10, "[a/a3 b/b3 b/b2 a/a1 a/old]"},
		{"limit", []string{"b", "a"}, nil, 2, "[a/a3 b/b3]"},
		{"filter", []string{"a", "b", "c"}, func(it *newsdesk.Item) bool { return it.ID != "b3" }, 3, "[c/c9 a/a3 b/b2]"},
		{"unknown source", []string{"zz"}, nil, 5, "[]"},
		{"zero limit", []string{"a"}, nil, 0, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Section(newsdesk.Query{Sources: tt.sources, Keep: tt.keep, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(IDs(got)); s != tt.want {
				t.Errorf("Recent() = %s, want %s", s, tt.want)
			}
		})
	}
}

// testRecentFollowsChangedDate: an item whose date changed is listed at
// its new date only.
func testRecentFollowsChangedDate(t *testing.T, open Open) {
	db := open(t)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0}, []newsdesk.Item{Item("a", "1", T0), Item("a", "2", T0.Add(time.Minute))}, NoLimit); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: T0}, []newsdesk.Item{Item("a", "1", T0.Add(time.Hour))}, NoLimit); err != nil {
		t.Fatal(err)
	}
	got, err := db.Section(newsdesk.Query{Sources: []string{"a"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(IDs(got)); s != "[a/1 a/2]" {
		t.Errorf("Recent() after re-dating = %s, want [a/1 a/2] with no stale index entry", s)
	}
}

// testStateNotFound: what was never stored reads as newsdesk.ErrNotFound
// or zero, and a new store answers Ping.
func testStateNotFound(t *testing.T, open Open) {
	db := open(t)
	if _, err := db.State("nope"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("State(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := db.Item("nope", "1"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("Item(nope, 1) error = %v, want ErrNotFound", err)
	}
	if n, err := db.CountItems("nope"); n != 0 || err != nil {
		t.Errorf("CountItems(nope) = %d, %v; want 0, nil", n, err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("Ping() of a new store = %v", err)
	}
}

// testTiesHigherIDFirst: items published at the same moment (the undated
// items of one fetch all are) come in one order on every engine: by
// source id, then the higher item id first, across pages of the read.
func testTiesHigherIDFirst(t *testing.T, open Open) {
	db := open(t)
	at := T0.Add(5 * time.Minute)
	var want []string
	for _, src := range []string{"a", "b"} {
		var items []newsdesk.Item
		for i := range 70 {
			items = append(items, Item(src, fmt.Sprintf("%s-%03d", src, i), at))
		}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: T0}, items, NoLimit); err != nil {
			t.Fatal(err)
		}
		for i := 69; i >= 0; i-- {
			want = append(want, fmt.Sprintf("%s/%s-%03d", src, src, i))
		}
	}
	got, err := db.Section(newsdesk.Query{Sources: []string{"b", "a"}, Limit: 140})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := fmt.Sprint(IDs(got)), fmt.Sprint(want); g != w {
		t.Errorf("Section() = %s\nwant %s", g, w)
	}
}
