package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Full article text (issue 13): what every engine promises about article
// records (store/articles.go). The fetcher's article pass, status and
// refetch-text rely on these.

// articleTests are the article cases, run by Run with the others.
var articleTests = []struct {
	name string
	fn   func(t *testing.T, open Open)
}{
	{"ArticleSurvivesRefetch", testArticleSurvivesRefetch},
	{"ArticleShownForCurrentLink", testArticleShownForCurrentLink},
	{"ArticlesDue", testArticlesDue},
	{"ArticleStats", testArticleStats},
	{"SaveArticleNeedsItem", testSaveArticleNeedsItem},
	{"ArticlePageKeptAndForgotten", testArticlePageKeptAndForgotten},
	{"ArticleGoesWithItem", testArticleGoesWithItem},
	{"ContentRuleMatchesArticle", testContentRuleMatchesArticle},
	{"CopyCarriesArticles", testCopyCarriesArticles},
}

// StoryHTML is the HTML of an extracted article, long enough to be one.
func StoryHTML(id string) string {
	return "<p>The full story of " + id + ", as its page tells it: " + strings.Repeat("a paragraph of the article's text. ", 20) + "</p>"
}

// OKArticle is the ArticleOK record of it, read at T0.
func OKArticle(it newsdesk.Item) newsdesk.Article {
	html := StoryHTML(it.ID)
	return newsdesk.Article{SourceID: it.SourceID, ItemID: it.ID, Link: it.Link, URL: it.Link + "?amp=0", Status: newsdesk.ArticleOK,
		HTML: html, Chars: len(html) - 7, Attempts: 1, FetchedAt: T0.Add(time.Minute), Rules: "r1"}
}

// FailedArticle is the failed record of it, due again at next.
func FailedArticle(it newsdesk.Item, next time.Time) newsdesk.Article {
	return newsdesk.Article{SourceID: it.SourceID, ItemID: it.ID, Link: it.Link, URL: it.Link, Status: newsdesk.ArticleFailed,
		Error: "HTTP 404 Not Found", Kind: "http_404", Attempts: 1, NextTry: next, FetchedAt: T0.Add(2 * time.Minute)}
}

func saveArticle(t *testing.T, db store.Store, a newsdesk.Article, page []byte) {
	t.Helper()
	if err := db.SaveArticle(a, page); err != nil {
		t.Fatal(err)
	}
}

// sameArticle fails the test unless got is want (times compared as times).
func sameArticle(t *testing.T, what string, got, want newsdesk.Article) {
	t.Helper()
	g, w := got, want
	g.NextTry, g.FetchedAt, w.NextTry, w.FetchedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w || !got.NextTry.Equal(want.NextTry) || !got.FetchedAt.Equal(want.FetchedAt) {
		t.Errorf("%s = %+v,\nwant %+v", what, got, want)
	}
}

// withSummaries is Feed with a one-sentence summary in each item, as news
// feeds carry.
func withSummaries(src string, n int, newest time.Time) []newsdesk.Item {
	items := Feed(src, n, newest)
	for i := range items {
		items[i].Summary = "<p>One sentence about " + items[i].ID + ".</p>"
		items[i].Content = items[i].Summary
	}
	return items
}

// testArticleSurvivesRefetch: a re-fetch of the feed, which brings the
// summary again, neither overwrites the article nor counts as an update;
// the item's Updated time and the source's state stay as they were.
func testArticleSurvivesRefetch(t *testing.T, open Open) {
	db := open(t)
	items := withSummaries("a", 3, T0)
	save(t, db, "a", T0, NoLimit, items...)
	before, err := db.Item("a", "a-000")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := db.State("a")
	saveArticle(t, db, OKArticle(items[0]), []byte("<html>page</html>"))
	if after, _ := db.State("a"); asJSONString(after) != asJSONString(st) {
		t.Errorf("SaveArticle changed the state:\n%+v\nwas %+v", after, st)
	}
	got := save(t, db, "a", T0.Add(time.Hour), NoLimit, items...)
	if got.New != 0 || got.Updated != 0 {
		t.Errorf("re-fetch: New %d, Updated %d; want 0, 0", got.New, got.Updated)
	}
	it, err := db.Item("a", "a-000")
	if err != nil {
		t.Fatal(err)
	}
	if it.Article != StoryHTML("a-000") || it.Content != items[0].Content || !it.Updated.Equal(before.Updated) {
		t.Errorf("after the re-fetch: Article %.40q, Content %q, Updated %s; want the article, the feed's content, Updated %s", it.Article, it.Content, it.Updated, before.Updated)
	}
	a, err := db.Article("a", "a-000")
	if err != nil {
		t.Fatal(err)
	}
	sameArticle(t, "Article() after the re-fetch", a, OKArticle(items[0]))
}

func asJSONString(v any) string { return fmt.Sprintf("%+v", v) }

// testArticleShownForCurrentLink: Item, Items and Section fill Article
// only from an ArticleOK record made for the item's current link; the
// item record never keeps an Article given to SaveFetch.
func testArticleShownForCurrentLink(t *testing.T, open Open) {
	db := open(t)
	items := withSummaries("a", 4, T0)
	items[3].Article = "<p>not stored with the item</p>"
	save(t, db, "a", T0, NoLimit, items...)
	saveArticle(t, db, OKArticle(items[0]), nil)                        // shown
	saveArticle(t, db, FailedArticle(items[1], T0.Add(time.Hour)), nil) // not ok
	stale := OKArticle(items[2])
	stale.Link = "https://example.com/old-link"
	saveArticle(t, db, stale, nil) // made for another link
	want := map[string]string{"a-000": StoryHTML("a-000"), "a-001": "", "a-002": "", "a-003": ""}
	for id, html := range want {
		it, err := db.Item("a", id)
		if err != nil || it.Article != html {
			t.Errorf("Item(%s).Article = %.40q, %v; want %.40q", id, it.Article, err, html)
		}
	}
	err := db.Items("a", func(it newsdesk.Item) bool {
		if it.Article != want[it.ID] {
			t.Errorf("Items: %s has Article %.40q, want %.40q", it.ID, it.Article, want[it.ID])
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Section(newsdesk.Query{Sources: []string{"a", "b"}, Limit: 10})
	if err != nil || len(got) != 4 {
		t.Fatalf("Section() = %v, %v; want 4 items", IDs(got), err)
	}
	for _, it := range got {
		if it.Article != want[it.ID] {
			t.Errorf("Section: %s has Article %.40q, want %.40q", it.ID, it.Article, want[it.ID])
		}
	}
}

// testArticlesDue: items first seen at or after since without a record
// for their current link are due, newest first seen first (then newest
// published first), up to limit; a failed record is due again at its
// NextTry, with it as Prev; other records are final; a changed link makes
// the item due again.
func testArticlesDue(t *testing.T, open Open) {
	db := open(t)
	old := Feed("a", 2, T0.Add(-48*time.Hour))
	for i := range old {
		old[i].ID, old[i].Link = fmt.Sprintf("old-%d", i), fmt.Sprintf("https://example.com/old-%d", i)
	}
	save(t, db, "a", T0.Add(-24*time.Hour), NoLimit, old...) // before full text was on
	fresh := Feed("a", 6, T0)
	save(t, db, "a", T0, NoLimit, fresh[3:]...)
	save(t, db, "a", T0.Add(time.Hour), NoLimit, fresh...) // a-000..002 seen an hour later
	since, now := T0.Add(-time.Hour), T0.Add(3*time.Hour)
	due := func(limit int, now time.Time) string {
		t.Helper()
		jobs, err := db.ArticlesDue("a", since, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range jobs {
			s := j.Item.ID
			if j.Prev != nil {
				s += "(" + string(j.Prev.Status) + ")"
			}
			if j.Item.Link == "" || j.Item.Title == "" {
				t.Errorf("job %s: item without its link or title: %+v", j.Item.ID, j.Item)
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	if got := due(10, now); got != "a-000 a-001 a-002 a-003 a-004 a-005" {
		t.Errorf("ArticlesDue(nothing fetched) = %q, want the items seen since, newest first", got)
	}
	if got := due(2, now); got != "a-000 a-001" {
		t.Errorf("ArticlesDue(limit 2) = %q, want a-000 a-001", got)
	}
	saveArticle(t, db, OKArticle(fresh[0]), nil)
	saveArticle(t, db, FailedArticle(fresh[1], T0.Add(2*time.Hour)), nil)
	saveArticle(t, db, FailedArticle(fresh[2], T0.Add(4*time.Hour)), nil)
	for i, st := range []newsdesk.ArticleStatus{newsdesk.ArticleGaveUp, newsdesk.ArticleDisallowed, newsdesk.ArticleRefused} {
		a := FailedArticle(fresh[3+i], time.Time{})
		a.Status = st
		saveArticle(t, db, a, nil)
	}
	saveArticle(t, db, FailedArticle(old[0], T0), nil) // an older item refetched by hand: still retried
	if got := due(10, now); got != "a-001(failed) old-0(failed)" {
		t.Errorf("ArticlesDue(after the pass) = %q, want the failed ones whose time came", got)
	}
	if got := due(10, T0.Add(5*time.Hour)); got != "a-001(failed) a-002(failed) old-0(failed)" {
		t.Errorf("ArticlesDue(later) = %q, want every failed one", got)
	}
	moved := fresh[0]
	moved.Link = "https://example.com/moved"
	moved.Title = "Title moved"
	save(t, db, "a", T0.Add(2*time.Hour), NoLimit, moved)
	if got := due(10, now); got != "a-000 a-001(failed) old-0(failed)" {
		t.Errorf("ArticlesDue(after a link change) = %q, want a-000 again, without Prev", got)
	}
	if jobs, err := db.ArticlesDue("none", since, now, 10); err != nil || len(jobs) != 0 {
		t.Errorf("ArticlesDue(unknown source) = %v, %v; want none", jobs, err)
	}
}

// testArticleStats: records for the item's current link are counted by
// status, with the latest failure; items seen since without one are
// Missing.
func testArticleStats(t *testing.T, open Open) {
	db := open(t)
	items := Feed("a", 8, T0)
	save(t, db, "a", T0, NoLimit, items...)
	saveArticle(t, db, OKArticle(items[0]), nil)
	saveArticle(t, db, OKArticle(items[1]), nil)
	saveArticle(t, db, FailedArticle(items[2], T0.Add(time.Hour)), nil)
	late := FailedArticle(items[3], T0.Add(time.Hour))
	late.Status, late.Error, late.FetchedAt = newsdesk.ArticleGaveUp, "timeout after 30s", T0.Add(time.Hour)
	saveArticle(t, db, late, nil)
	dis := FailedArticle(items[4], time.Time{})
	dis.Status, dis.Error = newsdesk.ArticleDisallowed, "robots.txt disallows /a-004"
	saveArticle(t, db, dis, nil)
	ref := FailedArticle(items[5], time.Time{})
	ref.Status, ref.Error = newsdesk.ArticleRefused, "private address"
	saveArticle(t, db, ref, nil)
	got, err := db.ArticleStats("a", T0)
	if err != nil {
		t.Fatal(err)
	}
	want := store.ArticleStats{OK: 2, Failed: 1, GaveUp: 1, Disallowed: 1, Refused: 1, Missing: 2, LastError: "timeout after 30s", LastErrorAt: T0.Add(time.Hour)}
	if got.LastErrorAt.Equal(want.LastErrorAt) {
		got.LastErrorAt = want.LastErrorAt
	}
	if got != want || got.Pending() != 3 || got.Unavailable() != 3 {
		t.Errorf("ArticleStats() = %+v, want %+v", got, want)
	}
	if got, err := db.ArticleStats("a", T0.Add(time.Second)); err != nil || got.Missing != 0 || got.OK != 2 {
		t.Errorf("ArticleStats(since after every item) = %+v, %v; want no Missing, records still counted", got, err)
	}
	if got, err := db.ArticleStats("none", T0); err != nil || got != (store.ArticleStats{}) {
		t.Errorf("ArticleStats(unknown source) = %+v, %v; want zero", got, err)
	}
}

// testSaveArticleNeedsItem: an article of an item that is not stored is
// refused with ErrNotFound, and nothing is kept; Article and ArticlePage
// of it are ErrNotFound.
func testSaveArticleNeedsItem(t *testing.T, open Open) {
	db := open(t)
	items := Feed("a", 1, T0)
	save(t, db, "a", T0, NoLimit, items...)
	for _, ref := range []newsdesk.ItemRef{{SourceID: "a", ID: "a-999"}, {SourceID: "b", ID: "a-000"}} {
		a := OKArticle(newsdesk.Item{SourceID: ref.SourceID, ID: ref.ID, Link: "https://example.com/x"})
		if err := db.SaveArticle(a, []byte("page")); !errors.Is(err, newsdesk.ErrNotFound) {
			t.Errorf("SaveArticle(%v) = %v, want ErrNotFound", ref, err)
		}
		if _, err := db.Article(ref.SourceID, ref.ID); !errors.Is(err, newsdesk.ErrNotFound) {
			t.Errorf("Article(%v) = %v, want ErrNotFound", ref, err)
		}
		if _, err := db.ArticlePage(ref.SourceID, ref.ID); !errors.Is(err, newsdesk.ErrNotFound) {
			t.Errorf("ArticlePage(%v) = %v, want ErrNotFound", ref, err)
		}
	}
	n := 0
	if err := db.Articles("a", func(newsdesk.Article) bool { n++; return true }); err != nil || n != 0 {
		t.Errorf("Articles() = %d, %v; want none", n, err)
	}
}

// testArticlePageKeptAndForgotten: a page is kept with its article; a nil
// page leaves it; an empty one, or one over store.MaxArticlePage, forgets
// it. Articles lists the records in item id order.
func testArticlePageKeptAndForgotten(t *testing.T, open Open) {
	db := open(t)
	items := Feed("a", 3, T0)
	save(t, db, "a", T0, NoLimit, items...)
	page := []byte("<html><meta charset=utf-8><p>Привет, " + strings.Repeat("мир ", 5000) + "</p></html>")
	saveArticle(t, db, OKArticle(items[1]), page)
	saveArticle(t, db, OKArticle(items[0]), nil)
	pageIs := func(what string, want []byte) {
		t.Helper()
		got, err := db.ArticlePage("a", "a-001")
		if want == nil {
			if !errors.Is(err, newsdesk.ErrNotFound) {
				t.Errorf("%s: ArticlePage() = %d bytes, %v; want ErrNotFound", what, len(got), err)
			}
			return
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: ArticlePage() = %d bytes, %v; want the %d bytes saved", what, len(got), err, len(want))
		}
	}
	pageIs("saved", page)
	again := OKArticle(items[1])
	again.Rules = "r2"
	saveArticle(t, db, again, nil)
	pageIs("after an article saved without a page", page)
	if a, _ := db.Article("a", "a-001"); a.Rules != "r2" {
		t.Errorf("Article().Rules = %q, want the one saved last", a.Rules)
	}
	saveArticle(t, db, again, []byte{})
	pageIs("after an empty page", nil)
	saveArticle(t, db, again, page)
	pageIs("saved again", page)
	saveArticle(t, db, again, bytes.Repeat([]byte("x"), store.MaxArticlePage+1))
	pageIs("after a page too big to keep", nil)
	var got []string
	if err := db.Articles("a", func(a newsdesk.Article) bool { got = append(got, a.ItemID); return true }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "a-000 a-001" {
		t.Errorf("Articles() = %v, want a-000 a-001", got)
	}
}

// testArticleGoesWithItem: retention pruning and purging a removed source
// remove an item's article and page.
func testArticleGoesWithItem(t *testing.T, open Open) {
	db := open(t)
	items := Feed("a", 4, T0)
	save(t, db, "a", T0, NoLimit, items...)
	for _, it := range items {
		saveArticle(t, db, OKArticle(it), []byte("page of "+it.ID))
	}
	save(t, db, "a", T0.Add(time.Hour), newsdesk.Retention{MaxItems: 2}, items...)
	for i, it := range items {
		_, aerr := db.Article("a", it.ID)
		_, perr := db.ArticlePage("a", it.ID)
		if kept := i < 2; kept != (aerr == nil) || kept != (perr == nil) {
			t.Errorf("after pruning to 2 items, %s: Article %v, ArticlePage %v; want kept %v", it.ID, aerr, perr, kept)
		}
	}
	n := 0
	db.Articles("a", func(newsdesk.Article) bool { n++; return true })
	if n != 2 {
		t.Errorf("Articles() after pruning = %d records, want 2", n)
	}
	if _, err := db.MarkOrphans(nil, T0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Purge("a"); err != nil {
		t.Fatal(err)
	}
	for _, it := range items[:2] {
		if _, err := db.Article("a", it.ID); !errors.Is(err, newsdesk.ErrNotFound) {
			t.Errorf("Article(%s) after the purge = %v, want ErrNotFound", it.ID, err)
		}
		if _, err := db.ArticlePage("a", it.ID); !errors.Is(err, newsdesk.ErrNotFound) {
			t.Errorf("ArticlePage(%s) after the purge = %v, want ErrNotFound", it.ID, err)
		}
	}
	// The source comes back: its items are new, without articles.
	save(t, db, "a", T0.Add(2*time.Hour), NoLimit, items[0])
	if it, err := db.Item("a", "a-000"); err != nil || it.Article != "" {
		t.Errorf("Item() of the source back after a purge: Article %.40q, %v; want none", it.Article, err)
	}
}

// testContentRuleMatchesArticle: a section rule on content matches the
// article's text, which the feed's summary does not carry.
func testContentRuleMatchesArticle(t *testing.T, open Open) {
	db := open(t)
	items := withSummaries("a", 3, T0)
	save(t, db, "a", T0, NoLimit, items...)
	a := OKArticle(items[1])
	a.HTML = "<p>Deep in the story: the <b>Kremlin</b> said so.</p>" + a.HTML
	saveArticle(t, db, a, nil)
	rule, err := newsdesk.ParseRule("content: kremlin")
	if err != nil {
		t.Fatal(err)
	}
	q := newsdesk.Query{Sources: []string{"a"}, Limit: 10, Keep: rule.Match}
	if got := section(t, db, q); got != "[a/a-001]" {
		t.Errorf("Section(content: kremlin) = %s, want [a/a-001]", got)
	}
	any, _ := newsdesk.ParseRule("kremlin")
	q.Keep = any.Match
	if got := section(t, db, q); got != "[a/a-001]" {
		t.Errorf("Section(kremlin) = %s, want [a/a-001]", got)
	}
}

// testCopyCarriesArticles: a copy holds every article and page of the
// original, and a loader refuses (ErrSkipped) an article whose item the
// load does not hold.
func testCopyCarriesArticles(t *testing.T, open Open) {
	src := open(t)
	if _, ok := src.(store.Dumper); !ok {
		t.Skip("this engine cannot be copied (store.Dumper)")
	}
	items := withSummaries("a", 4, T0)
	save(t, src, "a", T0, NoLimit, items...)
	save(t, src, "b", T0, NoLimit, withSummaries("b", 2, T0)...)
	saveArticle(t, src, OKArticle(items[0]), []byte("<html>page 0</html>"))
	saveArticle(t, src, OKArticle(items[1]), nil)
	saveArticle(t, src, FailedArticle(items[2], T0.Add(time.Hour)), []byte("<html>404</html>"))
	dst := open(t)
	rep, err := store.Copy(context.Background(), src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Articles != 3 || rep.Items != 6 || len(rep.Skipped) != 0 {
		t.Errorf("Copy() = %+v, want 6 items and 3 articles", rep)
	}
	for _, it := range items {
		wa, werr := src.Article("a", it.ID)
		ga, gerr := dst.Article("a", it.ID)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("Article(%s): copy %v, original %v", it.ID, gerr, werr)
		} else if werr == nil {
			sameArticle(t, "copied Article("+it.ID+")", ga, wa)
		}
		wp, _ := src.ArticlePage("a", it.ID)
		gp, _ := dst.ArticlePage("a", it.ID)
		if !bytes.Equal(wp, gp) {
			t.Errorf("ArticlePage(%s): copy %q, original %q", it.ID, gp, wp)
		}
	}
	if it, err := dst.Item("a", "a-000"); err != nil || it.Article != StoryHTML("a-000") {
		t.Errorf("copied Item(a-000).Article = %.40q, %v; want the article", it.Article, err)
	}
	w, err := open(t).(store.Loader).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	orphan := store.Entry{Article: &store.ArticleRecord{Article: OKArticle(items[3])}}
	if err := w.Write(orphan); !errors.Is(err, store.ErrSkipped) {
		t.Errorf("Write(an article without its item) = %v, want ErrSkipped", err)
	}
}
