package postgres_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// okArticle is an extracted article of storetest.Item(src, id, ...).
func okArticle(src, id string) newsdesk.Article {
	return newsdesk.Article{SourceID: src, ItemID: id, Link: "https://example.com/" + id, URL: "https://example.com/" + id,
		Status: newsdesk.ArticleOK, HTML: "<p>The whole story of " + id + ".</p>", Chars: 500, Attempts: 1, FetchedAt: storetest.T0, Rules: "r1"}
}

func saveFetch(t *testing.T, db store.Store, src string, at time.Time, items []newsdesk.Item, keep newsdesk.Retention) {
	t.Helper()
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: at}, items, keep); err != nil {
		t.Fatal(err)
	}
}

func saveArticle(t *testing.T, db store.Store, a newsdesk.Article, page []byte) {
	t.Helper()
	if err := db.SaveArticle(a, page); err != nil {
		t.Fatal(err)
	}
}

// articleRows counts a source's rows in articles, and those keeping a page.
func articleRows(t *testing.T, dsn, src string) (rows, pages int64) {
	t.Helper()
	return pgtest.Int(t, dsn, `SELECT count(*) FROM articles WHERE source_id = $1`, src),
		pgtest.Int(t, dsn, `SELECT count(page) FROM articles WHERE source_id = $1`, src)
}

// TestMigration4FromSchema3: a database of schema 3 (items stored by an
// older newsdesk) gains the articles table, expand only (min_reader 1: a
// newsdesk that knows schema 3 still opens it), and its items take
// articles.
func TestMigration4FromSchema3(t *testing.T) {
	dsn := newSchema(t)
	old, err := postgres.OpenAt(bg, dsn, 3)
	if err != nil {
		t.Fatal(err)
	}
	saveFetch(t, old, "a", storetest.T0, storetest.Feed("a", 3, storetest.T0), storetest.NoLimit)
	if n := pgtest.Int(t, dsn, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'articles'`); n != 0 {
		t.Fatalf("schema 3 has an articles table")
	}
	old.Close()

	db := openDB(t, dsn)
	if v, r := pgtest.Int(t, dsn, `SELECT count(*) FROM schema_version WHERE version = 4`), pgtest.Int(t, dsn, `SELECT min_reader FROM schema_version WHERE version = 4`); v != 1 || r != 1 {
		t.Errorf("after Open: %d rows of schema 4, its min_reader %d; want 1 and 1", v, r)
	}
	saveArticle(t, db, okArticle("a", "a-001"), []byte("<html>page</html>"))
	it, err := db.Item("a", "a-001")
	if err != nil || it.Article != okArticle("a", "a-001").HTML {
		t.Errorf("Item(a-001) after migration = %q, %v; want its article", it.Article, err)
	}
	older, err := postgres.OpenAt(bg, dsn, 3)
	if err != nil {
		t.Fatalf("a newsdesk that knows schema 3 cannot open schema 4: %v", err)
	}
	defer older.Close()
	if err := older.Ping(); err != nil {
		t.Errorf("Ping() of a newsdesk that knows schema 3: %v", err)
	}
}

// TestArticlesGoWithTheirItems: retention pruning and purge, whose SQL
// knows nothing of articles, remove an item's article and page with it
// (the foreign key's cascade), and leave the others.
func TestArticlesGoWithTheirItems(t *testing.T) {
	dsn := newSchema(t)
	db := openDB(t, dsn)
	keep := newsdesk.Retention{MaxItems: 3}
	saveFetch(t, db, "a", storetest.T0, storetest.Feed("a", 3, storetest.T0), keep)
	saveFetch(t, db, "b", storetest.T0, storetest.Feed("b", 2, storetest.T0), storetest.NoLimit)
	for _, id := range []string{"a-000", "a-002"} {
		saveArticle(t, db, okArticle("a", id), []byte("page of "+id))
	}
	saveArticle(t, db, okArticle("b", "b-000"), []byte("page"))
	if rows, pages := articleRows(t, dsn, "a"); rows != 2 || pages != 2 {
		t.Fatalf("source a: %d articles, %d pages; want 2 and 2", rows, pages)
	}

	// Two newer items push a-002 and a-001 (the oldest) out.
	newer := []newsdesk.Item{storetest.Item("a", "a-new1", storetest.T0.Add(time.Hour)), storetest.Item("a", "a-new2", storetest.T0.Add(2*time.Hour))}
	saveFetch(t, db, "a", storetest.T0.Add(2*time.Hour), newer, keep)
	if _, err := db.Item("a", "a-002"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Fatalf("a-002 after retention: %v, want it pruned", err)
	}
	if rows, pages := articleRows(t, dsn, "a"); rows != 1 || pages != 1 {
		t.Errorf("source a after pruning: %d articles, %d pages; want only a-000's", rows, pages)
	}
	if _, err := db.Article("a", "a-002"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("Article(a-002) of a pruned item: %v, want ErrNotFound", err)
	}
	if _, err := db.Article("a", "a-000"); err != nil {
		t.Errorf("Article(a-000) of a kept item: %v", err)
	}

	if _, err := db.MarkOrphans([]string{"b"}, storetest.T0); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Purge("a"); err != nil || n != 3 {
		t.Fatalf("Purge(a) = %d, %v; want its 3 items", n, err)
	}
	if rows, _ := articleRows(t, dsn, "a"); rows != 0 {
		t.Errorf("source a after purge: %d articles, want none", rows)
	}
	if rows, pages := articleRows(t, dsn, "b"); rows != 1 || pages != 1 {
		t.Errorf("source b (not purged): %d articles, %d pages; want 1 and 1", rows, pages)
	}
}

// TestSaveArticleIsAChange: SaveArticle on one handle shows in Changes and
// wakes a listener on another, so other instances render the source's
// sections again; it leaves the source's state and the item alone, and
// refuses an item that is not stored with ErrNotFound, announcing nothing.
func TestSaveArticleIsAChange(t *testing.T) {
	dsn := newSchema(t)
	db, other := openDB(t, dsn), openDB(t, dsn)
	saveFetch(t, db, "a", storetest.T0, storetest.Feed("a", 2, storetest.T0), storetest.NoLimit)
	stBefore, err := db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	itBefore, err := db.Item("a", "a-000")
	if err != nil {
		t.Fatal(err)
	}
	wait, _ := listenWakes(t, db)
	start, err := db.Changes(bg, 0)
	if err != nil {
		t.Fatal(err)
	}
	saveArticle(t, other, okArticle("a", "a-000"), nil)
	wait("an article saved on another handle")
	ch, err := db.Changes(bg, start.Seq)
	if err != nil || !slices.Equal(ch.Sources, []string{"a"}) {
		t.Errorf("Changes(%d) after SaveArticle = %+v, %v; want source a", start.Seq, ch, err)
	}

	missing := okArticle("a", "no-such-item")
	if err := other.SaveArticle(missing, []byte("page")); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("SaveArticle of an item not stored = %v, want ErrNotFound", err)
	}
	missing.SourceID = "no-such-source"
	if err := other.SaveArticle(missing, nil); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("SaveArticle of a source not stored = %v, want ErrNotFound", err)
	}
	if n := pgtest.Int(t, dsn, `SELECT count(*) FROM sources WHERE source_id = 'no-such-source'`); n != 0 {
		t.Errorf("SaveArticle of a source not stored left %d sources rows", n)
	}

	stAfter, err := db.State("a")
	if err != nil || asJSON(stAfter) != asJSON(stBefore) {
		t.Errorf("state after SaveArticle = %+v, %v; want it unchanged: %+v", stAfter, err, stBefore)
	}
	itAfter, err := db.Item("a", "a-000")
	if err != nil || !itAfter.Updated.Equal(itBefore.Updated) || itAfter.Content != itBefore.Content || itAfter.Article == "" {
		t.Errorf("item after SaveArticle = %+v, %v; want it as before (%+v), showing its article", itAfter, err, itBefore)
	}
}

// TestArticlePageLimit: a page of exactly store.MaxArticlePage bytes is
// kept (a bytea of 2 MiB, which TOAST compresses), one byte more is not.
func TestArticlePageLimit(t *testing.T) {
	db := openStore(t)
	saveFetch(t, db, "a", storetest.T0, storetest.Feed("a", 1, storetest.T0), storetest.NoLimit)
	a := okArticle("a", "a-000")
	full := bytes.Repeat([]byte("x"), store.MaxArticlePage)
	saveArticle(t, db, a, full)
	if p, err := db.ArticlePage("a", "a-000"); err != nil || !bytes.Equal(p, full) {
		t.Fatalf("a page of MaxArticlePage bytes: %d bytes, %v; want it kept", len(p), err)
	}
	saveArticle(t, db, a, append(full, 'x'))
	if p, err := db.ArticlePage("a", "a-000"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("after a page over MaxArticlePage: %d bytes, %v; want ErrNotFound (not kept)", len(p), err)
	}
}

// TestSectionNeverReadsPages: Item, Items and Section show articles
// without reading the page column. They run as a role that may read every
// column of articles but page (column privileges), which the same role's
// ArticlePage is refused, so a read of a page would fail the call.
func TestSectionNeverReadsPages(t *testing.T) {
	dsn, name := pgtest.Schema(t)
	db := openDB(t, dsn)
	saveFetch(t, db, "a", storetest.T0, storetest.Feed("a", 3, storetest.T0), storetest.NoLimit)
	saveArticle(t, db, okArticle("a", "a-001"), []byte("<html>the page</html>"))
	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	role := name + "_reader"
	for _, sql := range []string{
		`CREATE ROLE ` + role,
		`GRANT USAGE, CREATE ON SCHEMA ` + name + ` TO ` + role,
		`GRANT SELECT ON ALL TABLES IN SCHEMA ` + name + ` TO ` + role,
		`REVOKE SELECT ON articles FROM ` + role,
		`GRANT SELECT (source_id, id_hash, link_hash, status, attempts, next_try_ns, fetched_ns, html, data) ON articles TO ` + role,
		`ALTER TABLE schema_version OWNER TO ` + role, // Open's migrate may then check it
	} {
		if _, err := admin.Exec(bg, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(bg, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(bg)
		for _, sql := range []string{`REASSIGN OWNED BY ` + role + ` TO CURRENT_USER`, `DROP OWNED BY ` + role, `DROP ROLE ` + role} {
			if _, err := admin.Exec(bg, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	reader := openDB(t, pgtest.WithParams(t, dsn, map[string]string{"role": role}))
	if _, err := reader.ArticlePage("a", "a-001"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("ArticlePage() as the role without the page column = %v; want permission denied (else this test shows nothing)", err)
	}
	want := okArticle("a", "a-001").HTML
	got, err := reader.Section(newsdesk.Query{Sources: []string{"a"}, Limit: 10})
	if err != nil || len(got) != 3 || got[1].ID != "a-001" || got[1].Article != want || got[0].Article != "" {
		t.Errorf("Section() = %v, %v; want a-000..a-002, a-001 with its article", storetest.IDs(got), err)
	}
	if it, err := reader.Item("a", "a-001"); err != nil || it.Article != want {
		t.Errorf("Item() = %q, %v; want its article", it.Article, err)
	}
	var shown []string
	err = reader.Items("a", func(it newsdesk.Item) bool {
		if it.Article != "" {
			shown = append(shown, it.ID)
		}
		return true
	})
	if err != nil || !slices.Equal(shown, []string{"a-001"}) {
		t.Errorf("Items() showed articles of %v, %v; want a-001's", shown, err)
	}
}

// TestLoadArticles: a load takes an article after its item, with its
// page, and refuses (ErrSkipped) one whose item it was not given.
func TestLoadArticles(t *testing.T) {
	db := openStore(t).(*postgres.DB)
	w, err := db.Load(bg)
	if err != nil {
		t.Fatal(err)
	}
	it := storetest.Item("a", "a-000", storetest.T0)
	rec := &store.Record{Item: it}
	rec.FirstSeen = storetest.T0
	a := okArticle("a", "a-000")
	for _, e := range []store.Entry{
		{Source: &store.SourceRecord{ID: "a", State: &newsdesk.FetchState{SourceID: "a", LastFetch: storetest.T0}, Items: 1}},
		{Item: rec},
		{Article: &store.ArticleRecord{Article: a, Page: []byte("the page")}},
	} {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	orphan := okArticle("a", "a-999")
	if err := w.Write(store.Entry{Article: &store.ArticleRecord{Article: orphan}}); !errors.Is(err, store.ErrSkipped) || !strings.Contains(err.Error(), "a-999") {
		t.Errorf("Write() of an article whose item was not loaded = %v; want ErrSkipped naming it", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Article("a", "a-000"); err != nil || asJSON(got) != asJSON(a) {
		t.Errorf("Article() after Load = %+v, %v; want %+v", got, err, a)
	}
	if p, err := db.ArticlePage("a", "a-000"); err != nil || string(p) != "the page" {
		t.Errorf("ArticlePage() after Load = %q, %v", p, err)
	}
	if got, err := db.Item("a", "a-000"); err != nil || got.Article != a.HTML {
		t.Errorf("Item() after Load shows %q, %v; want its article", got.Article, err)
	}
}

// TestArticleOfAnItemWithoutLink: an item without a link is due and
// Missing like any other (the contract's words, and the bbolt engine's
// string comparison: no link is a link of ""), and a record made for no
// link is its record: the pass records why it cannot fetch it.
func TestArticleOfAnItemWithoutLink(t *testing.T) {
	db := openStore(t)
	it := storetest.Item("a", "a-000", storetest.T0)
	it.Link = ""
	saveFetch(t, db, "a", storetest.T0, []newsdesk.Item{it}, storetest.NoLimit)
	jobs, err := db.ArticlesDue("a", storetest.T0, storetest.T0, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Item.ID != "a-000" || jobs[0].Prev != nil {
		t.Fatalf("ArticlesDue() = %+v, %v; want a-000 without Prev", jobs, err)
	}
	if st, err := db.ArticleStats("a", storetest.T0); err != nil || st.Missing != 1 {
		t.Errorf("ArticleStats() = %+v, %v; want 1 Missing", st, err)
	}
	a := okArticle("a", "a-000")
	a.Link, a.Status, a.HTML, a.Error, a.Kind = "", newsdesk.ArticleGaveUp, "", "the item has no link", "no_link"
	saveArticle(t, db, a, nil)
	if jobs, err := db.ArticlesDue("a", storetest.T0, storetest.T0, 10); err != nil || len(jobs) != 0 {
		t.Errorf("ArticlesDue() after its record = %+v, %v; want none", jobs, err)
	}
	if st, err := db.ArticleStats("a", storetest.T0); err != nil || st.Missing != 0 || st.GaveUp != 1 || st.LastError != a.Error {
		t.Errorf("ArticleStats() after its record = %+v, %v; want 1 given up, with its error", st, err)
	}
}
