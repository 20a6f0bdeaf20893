package curate

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// TestResolveBareHash: a prefix of 6+ hex digits of an item's hash, as the
// README promises, without its SOURCE: — looked up across the section's
// sources, and refused with every candidate named when two items share it.
func TestResolveBareHash(t *testing.T) {
	// Two item ids whose hashes share their first 6 hex digits, one in each
	// source, and a third item elsewhere.
	first := map[string]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		id := "https://example.com/story-" + strconv.Itoa(i)
		h := newsdesk.ItemRef{ID: id}.Hash()[:6]
		if other, ok := first[h]; ok {
			a, b = other, id
		}
		first[h] = id
	}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	save := func(src string, ids ...string) {
		var items []newsdesk.Item
		for _, id := range ids {
			items = append(items, newsdesk.Item{ID: id, Title: "Story " + id, Published: at})
		}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, URL: "https://" + src + ".example/", LastFetch: at, Result: newsdesk.ResultOK}, items, newsdesk.DefaultRetention); err != nil {
			t.Fatal(err)
		}
	}
	save("one", a, "https://example.com/lone")
	save("two", b)
	sec := &newsdesk.Section{ID: "news", Sources: []string{"one", "two"}}

	lone := newsdesk.ItemRef{ID: "https://example.com/lone"}.Hash()
	for _, arg := range []string{lone[:6], lone[:12], strings.ToUpper(lone[:8]), "one:" + lone[:6]} {
		it, err := Resolve(db, sec, arg)
		if err != nil || it.ID != "https://example.com/lone" {
			t.Errorf("Resolve(%q) = %q, %v; want the lone item", arg, it.ID, err)
		}
	}
	shared := newsdesk.ItemRef{ID: a}.Hash()[:6]
	_, err = Resolve(db, sec, shared)
	ra, rb := newsdesk.ItemRef{SourceID: "one", ID: a}.Short(), newsdesk.ItemRef{SourceID: "two", ID: b}.Short()
	if err == nil || !strings.Contains(err.Error(), "matches 2 items") || !strings.Contains(err.Error(), ra) || !strings.Contains(err.Error(), rb) {
		t.Errorf("Resolve(%q) error = %v, want one naming both %s and %s", shared, err, ra, rb)
	}
	if it, err := Resolve(db, sec, "two:"+shared); err != nil || it.ID != b {
		t.Errorf("Resolve(two:%s) = %q, %v; want %q", shared, it.ID, err, b)
	}
	if _, err := Resolve(db, sec, "abcde"); err == nil {
		t.Errorf("Resolve(5 hex digits) found an item; want too short to be a hash")
	}
}

// TestResolvePublishedID: the id a published feed gives an item
// (newsdesk.ItemRef.URN, what an editor copies from a reader) resolves to
// that item, whichever case the reader shows it in.
func TestResolvePublishedID(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	items := []newsdesk.Item{{ID: "tag:one.example,2026:1", Title: "First", Published: at}, {ID: "tag:one.example,2026:2", Title: "Second", Published: at}}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "one", URL: "https://one.example/", LastFetch: at, Result: newsdesk.ResultOK}, items, newsdesk.DefaultRetention); err != nil {
		t.Fatal(err)
	}
	sec := &newsdesk.Section{ID: "news", Sources: []string{"one"}}
	ref := newsdesk.ItemRef{SourceID: "one", ID: items[1].ID}
	urn := ref.URN()
	for _, arg := range []string{urn, "URN:NewsDesk:one:" + strings.ToUpper(ref.Hash()), " " + urn + " "} {
		if it, err := Resolve(db, sec, arg); err != nil || it.ID != items[1].ID {
			t.Errorf("Resolve(%q) = %q, %v; want %q", arg, it.ID, err, items[1].ID)
		}
	}
}
