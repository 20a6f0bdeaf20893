package bolt_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// schema3 is a copy of testdata/schema-3.db: a database
// written by newsdesk when its schema was 3 (items as JSON, the links and
// titles indexes keyed by whole texts). It holds sources alpha (rich items:
// authors, categories, an enclosure, Russian content, an undated item, a
// raw date; one pruned, so a tombstone), beta (links that are not ids, a
// duplicate link and a near-duplicate title of alpha's, an item without a
// link), gamma (a failed fetch, no items), pins and hides in sections
// world and local, section versions and orphan marks.
func schema3(t *testing.T) string { return fixture(t, "schema-3.db") }

// everything is all the store API reads of the schema-3 fixture: states,
// every field of every item, decisions, section versions, orphans, and
// the sections as served, duplicates collapsed by link and by title.
func everything(t *testing.T, db *bolt.DB) string {
	t.Helper()
	var b strings.Builder
	states, err := db.States()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		n, _ := db.CountItems(st.SourceID)
		fmt.Fprintf(&b, "state %+v count=%d\n", st, n)
		db.Items(st.SourceID, func(it newsdesk.Item) bool {
			fmt.Fprintf(&b, "  item %+v\n", it)
			return true
		})
	}
	for _, sec := range []string{"world", "local"} {
		edits, err := db.Edits(sec)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "edits %s %+v\n", sec, edits)
		for _, titles := range []bool{false, true} {
			got, err := db.Section(newsdesk.Query{SectionID: sec, Sources: []string{"alpha", "beta", "gamma"}, Limit: 20, DedupeTitles: titles})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "section %s titles=%v:", sec, titles)
			for _, it := range got {
				fmt.Fprintf(&b, " %s/%s%v", it.SourceID, it.ID, it.Duplicates)
			}
			b.WriteString("\n")
		}
	}
	versions, err := db.SectionVersions()
	if err != nil {
		t.Fatal(err)
	}
	orphans, err := db.Orphans([]string{"alpha"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "versions %v\norphans %+v\n", versions, orphans)
	return b.String()
}

// TestMigrateSchema3: a schema-3 file reads as it is when opened
// read-only, and opened to write it is migrated to schema 4 (records and
// hashed index keys) with everything reading back the same: items, states,
// sections with their duplicates, decisions, tombstones, versions,
// orphans; its old form is kept as newsdesk.db.schema-3.bak.
func TestMigrateSchema3(t *testing.T) {
	path := schema3(t)
	before, db := migrate(t, path, everything,
		"Authors:[{Name:Ann Author Email:ann@alpha.example URI:} {Name:Bob Email: URI:https://bob.example/}]",
		"Enclosures:[{URL:https://alpha.example/a.mp3 Type:audio/mpeg Length:123456}]",
		"Более длинный текст", "RawDate:Sun, 31 Feb 1989 99:00:00",
		"section world titles=false: alpha/https://alpha.example/news/5[] alpha/https://alpha.example/news/4[]",
		"alpha/https://alpha.example/news/2[{beta beta-1}]",
		"section world titles=true:", "alpha/https://alpha.example/news/3[{beta beta-2}]",
		"state {SourceID:gamma", "versions map[local:", "orphans [{SourceID:beta")
	if strings.Contains(before, "news/1 ") {
		t.Fatalf("fixture holds alpha's item 1, which it pruned:\n%s", before)
	}
	if n := db.Notices(); len(n) != 1 || !strings.Contains(n[0], "from schema 3 to 6") || !strings.Contains(n[0], path+".schema-3.bak") || !strings.Contains(n[0], "newsdesk compact") {
		t.Errorf("Notices() = %q, want the migration, the copy's path and a word on compact", n)
	}
	// The tombstone of alpha's item 1 survived.
	old := newsdesk.Item{ID: "https://alpha.example/news/1", Link: "https://alpha.example/news/1", Title: "Harbour story number 1 about the new bridge"}
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "alpha", LastFetch: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}, []newsdesk.Item{old}, newsdesk.Retention{MaxItems: 4})
	if err != nil || st.New != 0 {
		t.Errorf("SaveFetch(alpha's item 1 again) = new %d, %v; want 0 new: its tombstone must survive the migration", st.New, err)
	}
	db.Close()
	for _, f := range []struct {
		path   string
		schema int
	}{{path + ".schema-3.bak", 3}, {path, 6}} {
		r, err := bolt.Verify(f.path)
		if err != nil || len(r.Faults) > 0 || r.Schema != f.schema || r.Items != 8 || r.Tombstones != 1 || r.Decisions != 3 {
			t.Errorf("Verify(%s) = %+v, %v; want a sound schema-%d file with 8 items, 1 tombstone, 3 decisions", f.path, r, err, f.schema)
		}
	}
}

// TestCopySchema3: `newsdesk migrate` reads a schema-3 file read-only, as
// it is; copied into a new file (schema 4) everything reads back the same.
func TestCopySchema3(t *testing.T) {
	src, err := bolt.Open(schema3(t), bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := openDB(t)
	rep, err := store.Copy(context.Background(), src, dst, nil)
	if err != nil {
		t.Fatalf("Copy(schema 3 -> new file) error = %v", err)
	}
	if rep.Items != 8 || rep.Tombstones != 1 || rep.Decisions != 3 {
		t.Errorf("Copy() = %+v, want 8 items, 1 tombstone, 3 decisions", rep)
	}
	if got, want := everything(t, dst), everything(t, src); got != want {
		t.Errorf("the copy reads:\n%s\nwant as the schema-3 file:\n%s", got, want)
	}
}
