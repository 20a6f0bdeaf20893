package publisher

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// TestArticleFromStore renders a full-text source from a real bbolt
// store: an item whose article is stored shows it, attributed, with the
// feed's summary kept; one without shows the summary; an article stored
// later gives the section a new version and ETag, and a re-fetch of the
// feed (the summary again) leaves the article shown and the version as
// it was.
func TestArticleFromStore(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, cfg := russiaFixture(t)
	cfg.Sources = cfg.Sources[:1]
	cfg.Sections[0].Sources = []string{"moscow-times"}
	var items []newsdesk.Item
	for _, it := range st.items[:3] {
		it.Article = ""
		items = append(items, it)
	}
	fetchedAt := date("2026-11-21T11:00:00Z")
	state := newsdesk.FetchState{SourceID: "moscow-times", URL: cfg.Sources[0].URL, Result: newsdesk.ResultOK,
		LastFetch: fetchedAt, LastSuccess: fetchedAt, FeedTitle: "The Moscow Times", FeedLink: "https://www.themoscowtimes.com/", FullTextSince: fetchedAt}
	if _, err := db.SaveFetch(state, items, newsdesk.Retention{}); err != nil {
		t.Fatal(err)
	}
	save := func(it newsdesk.Item, html string) {
		t.Helper()
		a := newsdesk.Article{SourceID: it.SourceID, ItemID: it.ID, Link: it.Link, URL: it.Link, Status: newsdesk.ArticleOK,
			HTML: html, Chars: len(newsdesk.HTMLText(html)), Attempts: 1, FetchedAt: fetchedAt}
		if err := db.SaveArticle(a, []byte("<html>"+html+"</html>")); err != nil {
			t.Fatal(err)
		}
	}
	save(items[0], mtArticle)

	render := func(clock string) (atom string, etag string) {
		t.Helper()
		cfg.Now = func() time.Time { return date(clock) }
		site, err := Render(db, cfg)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := site.fileAt("sections/russia.atom")
		if !ok {
			t.Fatal("no sections/russia.atom")
		}
		return string(f.Body), f.ETag
	}
	atom, etag := render("2026-11-22T00:00:00Z")
	for _, want := range []string{
		`the court&amp;#39;s costs`,
		`&lt;p&gt;Source: &lt;a href=&#34;https://www.themoscowtimes.com/2026/11/20/court-fines-memorial-a91234&#34;&gt;The Moscow Times — Court fines &amp;#34;Memorial&amp;#34; &amp;amp; &amp;lt;others&amp;gt; again&lt;/a&gt;&lt;/p&gt;</content>`,
		`<summary type="html">A Moscow court fined the rights group Memorial on Thursday.</summary>`,
		`<summary type="html">The Bank of Russia kept its key rate unchanged.</summary>`,
	} {
		if !strings.Contains(atom, want) {
			t.Errorf("Atom lacks %s:\n%s", want, atom)
		}
	}
	if n := strings.Count(atom, "<content "); n != 1 {
		t.Errorf("Atom has %d entries with content, want 1 (the other two have no article yet)", n)
	}

	// The feed again, as it was: nothing to show anew.
	refetch := state
	refetch.LastFetch = date("2026-11-21T12:00:00Z")
	if _, err := db.SaveFetch(refetch, items, newsdesk.Retention{}); err != nil {
		t.Fatal(err)
	}
	if atom2, etag2 := render("2026-11-22T01:00:00Z"); etag2 != etag || !strings.Contains(atom2, "<updated>2026-11-22T00:00:00Z</updated>") {
		t.Errorf("a re-fetch of the feed changed the section (ETag %s, was %s):\n%s", etag2, etag, atom2)
	}

	save(items[1], mtArticle2)
	atom3, etag3 := render("2026-11-22T02:00:00Z")
	if etag3 == etag || !strings.Contains(atom3, "<updated>2026-11-22T02:00:00Z</updated>") || !strings.Contains(atom3, "Central bank holds key rate at 16.5%&lt;/a&gt;&lt;/p&gt;</content>") {
		t.Errorf("an article that arrived did not give the section a new version (ETag %s, was %s):\n%s", etag3, etag, atom3)
	}
}
