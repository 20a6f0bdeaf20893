package bolt_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

func openDB(t testing.TB) *bolt.DB {
	t.Helper()
	return openDBAt(t, filepath.Join(t.TempDir(), "sub", "newsdesk.db"))
}

func openDBAt(t testing.TB, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func item(src, id string, published time.Time) newsdesk.Item {
	return newsdesk.Item{SourceID: src, ID: id, Title: "Title " + id, Link: "https://example.com/" + id, Published: published}
}

func ids(items []newsdesk.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.SourceID+"/"+it.ID)
	}
	return out
}

func TestSaveFetchNewUnchangedUpdated(t *testing.T) {
	db := openDB(t)
	items := []newsdesk.Item{item("a", "1", t0), item("a", "2", t0.Add(time.Hour))}
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", ETag: `W/"x"`, LastFetch: t0.Add(2 * time.Hour), Result: newsdesk.ResultOK}, items, noLimit)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 2 || st.Updated != 0 {
		t.Errorf("first save: new=%d updated=%d, want 2 0", st.New, st.Updated)
	}
	st, err = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0.Add(3 * time.Hour)}, items, noLimit)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 0 {
		t.Errorf("same items again: new=%d updated=%d, want 0 0", st.New, st.Updated)
	}
	items[0].Title = "Changed"
	fetched := t0.Add(4 * time.Hour)
	st, err = db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: fetched}, items, noLimit)
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
	if got.Title != "Changed" || !got.Updated.Equal(fetched) || !got.FirstSeen.Equal(t0.Add(2*time.Hour)) || !got.Published.Equal(t0) {
		t.Errorf("updated item = %+v; want title Changed, updated %v, first seen %v, published %v", got, fetched, t0.Add(2*time.Hour), t0)
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

func TestUndatedItemKeepsFirstSeenDate(t *testing.T) {
	db := openDB(t)
	undated := []newsdesk.Item{item("a", "u", time.Time{})}
	for i := range 3 {
		st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0.Add(time.Duration(i) * time.Hour)}, undated, noLimit)
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
	if !got.Published.Equal(t0) {
		t.Errorf("undated item published = %v, want first seen %v", got.Published, t0)
	}
}

func TestRecentMergesNewestFirst(t *testing.T) {
	db := openDB(t)
	pre1970 := time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)
	save := func(src string, items ...newsdesk.Item) {
		t.Helper()
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: t0}, items, noLimit); err != nil {
			t.Fatal(err)
		}
	}
	save("a", item("a", "old", pre1970), item("a", "a1", t0.Add(1*time.Minute)), item("a", "a3", t0.Add(3*time.Minute)))
	save("b", item("b", "b2", t0.Add(2*time.Minute)), item("b", "b3", t0.Add(3*time.Minute)))
	save("c", item("c", "c9", t0.Add(9*time.Minute)))

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
			if s := fmt.Sprint(ids(got)); s != tt.want {
				t.Errorf("Recent() = %s, want %s", s, tt.want)
			}
		})
	}
}

func TestRecentFollowsChangedDate(t *testing.T) {
	db := openDB(t)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, []newsdesk.Item{item("a", "1", t0), item("a", "2", t0.Add(time.Minute))}, noLimit); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, []newsdesk.Item{item("a", "1", t0.Add(time.Hour))}, noLimit); err != nil {
		t.Fatal(err)
	}
	got, err := db.Section(newsdesk.Query{Sources: []string{"a"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(ids(got)); s != "[a/1 a/2]" {
		t.Errorf("Recent() after re-dating = %s, want [a/1 a/2] with no stale index entry", s)
	}
}

func TestStateNotFoundAndLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.State("nope"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("State(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := bolt.Open(path, bolt.Options{}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open error = %v, want ErrLocked", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", ETag: `"v1"`, LastFetch: t0}, []newsdesk.Item{item("a", "1", t0)}, noLimit); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	if st.ETag != `"v1"` {
		t.Errorf("ETag after reopen = %q, want %q", st.ETag, `"v1"`)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

var noLimit = newsdesk.Retention{}
