package publisher

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// countingStore is a real bbolt store that counts the reads of fetch
// states.
type countingStore struct {
	*bolt.DB
	all atomic.Int32 // States calls
	one atomic.Int32 // State calls
}

func (c *countingStore) States() ([]newsdesk.FetchState, error) {
	c.all.Add(1)
	return c.DB.States()
}

func (c *countingStore) State(id string) (newsdesk.FetchState, error) {
	c.one.Add(1)
	return c.DB.State(id)
}

// TestRebuildSectionsReadsOnlyItsSources: re-rendering a section after a
// commit reads the fetch states of that section's sources, one by one,
// never every source's (issue 11, guarantee 9): its cost does not grow with
// the sources of other sections. What it reads is current: the failure
// just stored shows in the empty section's notes.
func TestRebuildSectionsReadsOnlyItsSources(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &countingStore{DB: db}
	now := date("2025-11-21T12:00:00Z")
	cfg := Config{BaseURL: "http://localhost:8080/", Now: func() time.Time { return now }}
	var many []string
	for i := range 300 {
		src := newsdesk.Source{ID: fmt.Sprintf("s%03d", i), URL: fmt.Sprintf("https://s%03d.example/feed", i), Interval: time.Hour}
		cfg.Sources = append(cfg.Sources, src)
		if err := db.SaveState(newsdesk.FetchState{SourceID: src.ID, URL: src.URL, LastFetch: now, Result: newsdesk.ResultNotModified}); err != nil {
			t.Fatal(err)
		}
		if i >= 2 {
			many = append(many, src.ID)
		}
	}
	cfg.Sections = []newsdesk.Section{
		{ID: "few", Title: "Few", Sources: []string{"s000", "s001"}},
		{ID: "many", Title: "Many", Sources: many},
	}
	s := NewServer(st, cfg, nil)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if n := st.all.Load(); n != 1 {
		t.Fatalf("a full Rebuild read every state %d times, want once", n)
	}
	if err := db.SaveState(newsdesk.FetchState{SourceID: "s001", URL: "https://s001.example/feed", LastFetch: now, Result: newsdesk.ResultError, Error: "HTTP 500", Failures: 1}); err != nil {
		t.Fatal(err)
	}
	st.all.Store(0)
	if err := s.RebuildSections("few"); err != nil {
		t.Fatal(err)
	}
	if all, one := st.all.Load(), st.one.Load(); all != 0 || one != 2 {
		t.Errorf("RebuildSections(few) read every state %d times and %d states one by one; want 0 and the section's 2", all, one)
	}
	f, ok := s.site.Load().fileAt("sections/few.html")
	if !ok || !strings.Contains(string(f.Body), "s001: HTTP 500") {
		t.Errorf("the re-rendered page does not show the failure just stored:\n%s", f.Body)
	}
}
