package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// TestSectionVersionStore renders from a real database with a clock the
// test moves: rendering again without a change keeps the version's time,
// hiding the newest item moves it forward (it used to move back), and
// closing and reopening the database, as a restart does, keeps it.
func TestSectionVersionStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	items := []newsdesk.Item{
		{SourceID: "src", ID: "old", Title: "Old", Link: "https://example.org/old", Published: day.Add(9 * time.Hour)},
		{SourceID: "src", ID: "new", Title: "New", Link: "https://example.org/new", Published: day.Add(11 * time.Hour)},
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "src", Result: newsdesk.ResultOK, LastFetch: day}, items, newsdesk.Retention{}); err != nil {
		t.Fatal(err)
	}
	now := day.Add(12 * time.Hour)
	cfg := publisher.Config{
		BaseURL:  "http://localhost:8080/",
		Sources:  []newsdesk.Source{{ID: "src", URL: "https://example.org/feed"}},
		Sections: []newsdesk.Section{{ID: "s", Sources: []string{"src"}}},
		Now:      func() time.Time { return now },
	}
	lastModified := func(db *bolt.DB) time.Time {
		t.Helper()
		srv := publisher.NewServer(db, cfg, slog.New(slog.DiscardHandler))
		if err := srv.Rebuild(); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/sections/s.rss", nil))
		lm, err := http.ParseTime(rec.Header().Get("Last-Modified"))
		if rec.Code != http.StatusOK || err != nil {
			t.Fatalf("GET /sections/s.rss = %d, Last-Modified %q (%v)", rec.Code, rec.Header().Get("Last-Modified"), err)
		}
		versions, err := db.SectionVersions()
		if v := versions["s"]; err != nil || !v.ChangedAt.Equal(lm) {
			t.Errorf("stored version of s = %+v (%v), but s.rss Last-Modified %s", v, err, lm)
		}
		return lm
	}

	first := lastModified(db)
	if !first.Equal(now) {
		t.Errorf("first render: Last-Modified %s, want the render time %s", first, now)
	}
	now = now.Add(time.Hour)
	if got := lastModified(db); !got.Equal(first) {
		t.Errorf("render without a change: Last-Modified %s, want %s", got, first)
	}
	now = now.Add(time.Hour)
	if err := db.SetDecision("s", newsdesk.ItemRef{SourceID: "src", ID: "new"}, newsdesk.Hide, now); err != nil {
		t.Fatal(err)
	}
	hidden := lastModified(db)
	if !hidden.Equal(now) {
		t.Errorf("after hiding the newest item: Last-Modified %s, want %s (forward, not back to the older item's %s)", hidden, now, items[0].Published)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now = now.Add(24 * time.Hour)
	if got := lastModified(db); !got.Equal(hidden) {
		t.Errorf("after reopening the database: Last-Modified %s, want %s", got, hidden)
	}
}
