package bolt_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

func TestCompactShrinksAndKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	// Fill with many items, then prune nearly all of them.
	for batch := range 20 {
		items := make([]newsdesk.Item, 500)
		for i := range items {
			items[i] = item("a", fmt.Sprintf("b%02d-%03d", batch, i), t0.Add(time.Duration(batch*500+i)*time.Second))
			items[i].Content = strings.Repeat("Lorem ipsum dolor sit amet. ", 40)
		}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", ETag: `"e"`, LastFetch: t0}, items, noLimit); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", ETag: `"e"`, LastFetch: t0}, nil, newsdesk.Retention{MaxItems: 10}); err != nil {
		t.Fatal(err)
	}
	// Refused while the file is held.
	if _, _, err := bolt.Compact(path); err == nil || !strings.Contains(err.Error(), "refusing while the file is in use") {
		t.Errorf("Compact while open: %v, want a refusal", err)
	}
	db.Close()

	before, after, err := bolt.Compact(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compacted %d -> %d bytes", before, after)
	if after >= before/2 {
		t.Errorf("compacted %d -> %d bytes, want it much smaller after pruning", before, after)
	}
	db = openDBAt(t, path)
	if n, _ := db.CountItems("a"); n != 10 {
		t.Errorf("CountItems after compact = %d, want 10", n)
	}
	if st, err := db.State("a"); err != nil || st.ETag != `"e"` {
		t.Errorf("State after compact = %+v, %v; want the ETag kept", st, err)
	}
	got, err := db.Section(newsdesk.Query{Sources: []string{"a"}, Limit: 3})
	if err != nil || len(got) != 3 || got[0].ID != "b19-499" {
		t.Errorf("Section after compact = %v, %v; want the newest items", ids(got), err)
	}
	if _, _, err := bolt.Compact(filepath.Join(t.TempDir(), "missing.db")); err == nil || errors.Is(err, store.ErrLocked) {
		t.Errorf("Compact of a missing file: %v, want a not-found error", err)
	}
}
