package bolt_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// TestMigrateSchema4: a schema-4 file (no articles or pages buckets) reads
// as it is when opened read-only, with no articles; opened to write, it
// is migrated to the current schema and takes articles.
func TestMigrateSchema4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	items := storetest.Feed("a", 3, t0)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, items, noLimit); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Downgrade4(db); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ro, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if it, err := ro.Item("a", "a-000"); err != nil || it.Article != "" {
		t.Errorf("read-only Item() = %+v, %v; want the item without an article", it, err)
	}
	if _, err := ro.Article("a", "a-000"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("read-only Article() = %v, want ErrNotFound", err)
	}
	if _, err := ro.ArticlePage("a", "a-000"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("read-only ArticlePage() = %v, want ErrNotFound", err)
	}
	if jobs, err := ro.ArticlesDue("a", t0, t0, 10); err != nil || len(jobs) != 3 {
		t.Errorf("read-only ArticlesDue() = %d jobs, %v; want 3", len(jobs), err)
	}
	if st, err := ro.ArticleStats("a", t0); err != nil || st.Missing != 3 || st.OK != 0 {
		t.Errorf("read-only ArticleStats() = %+v, %v; want 3 missing", st, err)
	}
	if got, err := ro.Section(newsdesk.Query{Sources: []string{"a"}, Limit: 10}); err != nil || len(got) != 3 {
		t.Errorf("read-only Section() = %v, %v; want 3 items", ids(got), err)
	}
	ro.Close()

	db, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.Notices(); len(n) != 1 || !strings.Contains(n[0], "from schema 4 to 6") || !strings.Contains(n[0], path+".schema-4.bak") {
		t.Errorf("Notices() = %q, want the migration and the copy's path", n)
	}
	a := storetest.OKArticle(items[0])
	if err := db.SaveArticle(a, []byte("<html>page</html>")); err != nil {
		t.Fatal(err)
	}
	if it, err := db.Item("a", "a-000"); err != nil || it.Article != a.HTML {
		t.Errorf("Item() after the migration = %.40q, %v; want the article", it.Article, err)
	}
	db.Close()
	for _, f := range []struct {
		path   string
		schema int
	}{{path + ".schema-4.bak", 4}, {path, 6}} {
		r, err := bolt.Verify(f.path)
		if err != nil || len(r.Faults) > 0 || r.Schema != f.schema || r.Items != 3 {
			t.Errorf("Verify(%s) = %+v, %v; want a sound schema-%d file with 3 items", f.path, r, err, f.schema)
		}
	}
}

// TestVerifyArticleWithoutItem: an article or page whose item is not
// stored is a fault.
func TestVerifyArticleWithoutItem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	items := storetest.Feed("a", 2, t0)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, items, noLimit); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := db.SaveArticle(storetest.OKArticle(it), []byte("page")); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if r, err := bolt.Verify(path); err != nil || len(r.Faults) > 0 {
		t.Fatalf("Verify(sound) = %+v, %v; want no faults", r, err)
	}
	db = openDBAt(t, path)
	if err := bolt.DeleteItemRecord(db, "a", "a-001"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := bolt.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`article of item "a-001" of a: the item is not stored`, `article page of item "a-001" of a: the item is not stored`} {
		if !slices.ContainsFunc(r.Faults, func(f string) bool { return strings.HasPrefix(f, want) }) {
			t.Errorf("Verify() faults = %q, want one beginning %q", r.Faults, want)
		}
	}
}

// TestArticleBucketsMadeOnFirstArticle: a source without articles
// has no articles bucket; its first article makes one.
func TestArticleBucketsMadeOnFirstArticle(t *testing.T) {
	db := openDB(t)
	items := storetest.Feed("a", 2, t0)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, items, noLimit); err != nil {
		t.Fatal(err)
	}
	if has, err := bolt.HasArticleBuckets(db, "a"); err != nil || has {
		t.Errorf("before any article: buckets %v, %v; want none", has, err)
	}
	if err := db.SaveArticle(storetest.FailedArticle(items[0], t0.Add(time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	if has, err := bolt.HasArticleBuckets(db, "a"); err != nil || !has {
		t.Errorf("after an article: buckets %v, %v; want them", has, err)
	}
}
