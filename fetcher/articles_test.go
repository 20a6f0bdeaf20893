package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// articleSite is a news site on an httptest origin: a Moscow-Times-shaped
// RSS feed at /rss whose items link to pages on the same origin, a
// robots.txt disallowing /private/, and a full-text source of it in a
// scheduler on a real bbolt store with a clock the test moves.
type articleSite struct {
	o     *origin
	sched *Scheduler
	db    *bolt.DB
	clock time.Time
	src   newsdesk.Source

	mu    sync.Mutex
	links []string // the feed's item links, newest first
}

const mtItem = `<item><title>Story %d</title><link>%s</link>
<description><![CDATA[Officials met in Istanbul on Tuesday, a spokesman said.]]></description>
<pubDate>Wed, 25 Nov 2026 1%d:00:00 +0300</pubDate><category>News</category><guid>%[2]s</guid></item>
`

func newArticleSite(t *testing.T, ft newsdesk.FullText) *articleSite {
	t.Helper()
	s := &articleSite{o: newOrigin(t), clock: t0}
	s.o.on("/robots.txt", serve([]byte("User-agent: *\nDisallow: /private/\n"), http.Header{"Content-Type": {"text/plain"}}))
	s.o.on("/rss", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>The Moscow Times</title><link>`+s.o.url("/")+`</link>`)
		for i, l := range s.links {
			fmt.Fprintf(w, mtItem, i, l, i%10)
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
	ft.Enabled = true
	s.src = newsdesk.Source{ID: "mt", URL: s.o.url("/rss"), Interval: time.Hour, Timeout: 2 * time.Second, FullText: ft}
	s.sched, s.db = newScheduler(t, &s.clock, s.src)
	return s
}

// page serves a testdata/articles page at path.
func (s *articleSite) page(t *testing.T, path, file string) {
	s.o.on(path, serve(testdataArticle(t, file), http.Header{"Content-Type": {"text/html"}}))
}

// link adds an item linking to path (an absolute URL when it has a scheme).
func (s *articleSite) link(paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		if !strings.Contains(p, "://") {
			p = s.o.url(p)
		}
		s.links = append(s.links, p)
	}
}

// pass fetches the source (forced) at the clock and returns its outcome.
func (s *articleSite) pass(t *testing.T) Outcome {
	t.Helper()
	out, err := s.sched.RunOnce(context.Background(), []newsdesk.Source{s.src}, true, nil, nil)
	if err != nil || len(out) != 1 {
		t.Fatalf("RunOnce = %v, %v", out, err)
	}
	return out[0]
}

// requests is how many requests path has had.
func (s *articleSite) requests(path string) int { return countPath(s.o.received(), path) }

// pageRequests is how many requests went to anything but the feed and
// robots.txt.
func (s *articleSite) pageRequests() int {
	n := 0
	for _, r := range s.o.received() {
		if r.Path != "/rss" && r.Path != "/robots.txt" {
			n++
		}
	}
	return n
}

// article returns the stored item linking to path and its article record.
func (s *articleSite) article(t *testing.T, path string) (newsdesk.Item, newsdesk.Article) {
	t.Helper()
	link := path
	if !strings.Contains(path, "://") {
		link = s.o.url(path)
	}
	var found newsdesk.Item
	if err := s.db.Items("mt", func(it newsdesk.Item) bool {
		if it.Link == link {
			found = it
		}
		return found.ID == ""
	}); err != nil || found.ID == "" {
		t.Fatalf("no stored item links to %s (%v)", link, err)
	}
	it, err := s.db.Item("mt", found.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.db.Article("mt", found.ID)
	if err != nil {
		t.Fatalf("Article(%s) error = %v", path, err)
	}
	return it, a
}

func checkCounts(t *testing.T, what string, got ArticleCounts, fetched, failed, pending int, results map[string]int) {
	t.Helper()
	if got.Fetched != fetched || got.Failed != failed || got.Pending != pending || fmt.Sprint(got.Results) != fmt.Sprint(results) {
		t.Errorf("%s: Articles = %+v, want fetched %d, failed %d, pending %d, results %v", what, got, fetched, failed, pending, results)
	}
}

// TestArticlePassFetchesEachNewArticleOnce: one request per new article,
// none for known ones, none to paths robots.txt disallows; a redirect is
// followed; the article is kept beside the item, and a re-fetch of the
// feed leaves it and the item's Updated alone.
func TestArticlePassFetchesEachNewArticleOnce(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{})
	s.page(t, "/news/1", "moscowtimes.html")
	s.page(t, "/news/2", "cp1251.html")
	s.page(t, "/news/3", "wordpress.html")
	s.page(t, "/private/4", "moscowtimes.html")
	s.o.on("/old/3", redirect(http.StatusMovedPermanently, "/news/3"))
	s.link("/news/1", "/news/2", "/old/3", "/private/4")
	var hooked []string // the articles the commit hook could render
	s.sched.OnCommit = func(o Outcome) {
		s.db.Items("mt", func(it newsdesk.Item) bool {
			if it.Article != "" {
				hooked = append(hooked, it.Link)
			}
			return true
		})
	}

	out := s.pass(t)
	if len(hooked) != 3 {
		t.Errorf("the commit hook saw %d items with their article, want 3 (the pass runs before it)", len(hooked))
	}
	checkCounts(t, "first pass", out.Articles, 3, 1, 0, map[string]int{"ok": 3, "disallowed": 1})
	for path, want := range map[string]int{"/news/1": 1, "/news/2": 1, "/old/3": 1, "/news/3": 1, "/private/4": 0, "/robots.txt": 1} {
		if got := s.requests(path); got != want {
			t.Errorf("first pass: %d requests to %s, want %d", got, path, want)
		}
	}
	checkPolitePages(t, s.o.received())
	it1, a1 := s.article(t, "/news/1")
	if a1.Status != newsdesk.ArticleOK || !strings.Contains(it1.Article, "The Kremlin said on Tuesday") || strings.Contains(it1.Article, "Leave a Comment") {
		t.Errorf("article of /news/1 = %+v, item.Article %.80q; want ok with the story", a1, it1.Article)
	}
	if _, a := s.article(t, "/news/2"); a.Status != newsdesk.ArticleOK || !strings.Contains(a.HTML, "Тверской") {
		t.Errorf("article of /news/2 (windows-1251) = %+v, want ok in Cyrillic", a)
	}
	if _, a := s.article(t, "/old/3"); a.Status != newsdesk.ArticleOK || a.URL != s.o.url("/news/3") {
		t.Errorf("article of /old/3 = status %s, URL %s; want ok, read at /news/3", a.Status, a.URL)
	}
	if _, a := s.article(t, "/private/4"); a.Status != newsdesk.ArticleDisallowed || a.Kind != "disallowed" || !strings.Contains(a.Error, "Disallow: /private/") {
		t.Errorf("article of /private/4 = %+v, want disallowed naming the rule", a)
	}

	s.clock = s.clock.Add(2 * time.Hour)
	s.link("/news/5")
	s.page(t, "/news/5", "moscowtimes.html")
	before := s.pageRequests()
	out = s.pass(t)
	checkCounts(t, "second pass", out.Articles, 1, 0, 0, map[string]int{"ok": 1})
	if got := s.pageRequests() - before; got != 1 || s.requests("/news/5") != 1 {
		t.Errorf("second pass: %d page requests, want 1 (the new item's)", got)
	}
	again, a1again := s.article(t, "/news/1")
	if !again.Updated.Equal(it1.Updated) || again.Article != it1.Article || a1again.FetchedAt != a1.FetchedAt {
		t.Errorf("after a re-fetch of the feed: item Updated %v, article %.40q; want %v and the article unchanged", again.Updated, again.Article, it1.Updated)
	}
	if out.State.New+out.State.Updated != 1 {
		t.Errorf("second pass: New+Updated = %d, want 1 (the new item only)", out.State.New+out.State.Updated)
	}
}

// checkPolitePages checks the article requests' headers.
func checkPolitePages(t *testing.T, reqs []received) {
	t.Helper()
	for _, r := range reqs {
		if r.Path == "/rss" || r.Path == "/robots.txt" {
			continue
		}
		if r.Header.Get("User-Agent") != testUA && r.Header.Get("User-Agent") != "newsdesk-test" {
			t.Errorf("%s: User-Agent %q", r.Path, r.Header.Get("User-Agent"))
		}
		if r.Header.Get("Accept") != acceptHTML || r.Header.Get("Referer") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("%s: headers %v, want Accept %q and no Referer or Cookie", r.Path, r.Header, acceptHTML)
		}
	}
}

// TestArticlePassPerPass: no more pages than per_pass in a pass; the rest
// wait for the next passes.
func TestArticlePassPerPass(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{PerPass: 2})
	for i := range 5 {
		p := fmt.Sprintf("/news/%d", i)
		s.page(t, p, "moscowtimes.html")
		s.link(p)
	}
	for i, want := range []struct{ fetched, pending, total int }{{2, 3, 2}, {2, 1, 4}, {1, 0, 5}, {0, 0, 5}} {
		out := s.pass(t)
		if out.Articles.Fetched != want.fetched || out.Articles.Pending != want.pending || s.pageRequests() != want.total {
			t.Errorf("pass %d: Articles %+v, %d page requests in all; want fetched %d, pending %d, %d requests", i+1, out.Articles, s.pageRequests(), want.fetched, want.pending, want.total)
		}
		s.clock = s.clock.Add(time.Hour)
	}
}

// TestArticleFailuresBackOffThenGiveUp: a 404, a slow page and a paywall
// stub keep the feed's summary with the reason, are tried again after 1h,
// 4h and 16h, and are given up after the third retry.
func TestArticleFailuresBackOffThenGiveUp(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{})
	s.src.Timeout = 200 * time.Millisecond
	s.sched.SetSources([]newsdesk.Source{s.src})
	s.page(t, "/news/paywall", "paywall.html")
	s.o.on("/news/slow", hang)
	s.link("/news/404", "/news/paywall", "/news/slow")
	kinds := map[string]string{"/news/404": "http_404", "/news/paywall": "too_short", "/news/slow": "timeout"}

	out := s.pass(t)
	checkCounts(t, "first pass", out.Articles, 0, 3, 3, map[string]int{"http_404": 1, "too_short": 1, "timeout": 1})
	start := s.clock
	for path, kind := range kinds {
		it, a := s.article(t, path)
		if a.Status != newsdesk.ArticleFailed || a.Kind != kind || a.Attempts != 1 || !a.NextTry.Equal(start.Add(time.Hour)) || it.Article != "" {
			t.Errorf("%s after one attempt: %+v, item.Article %q; want failed, %s, attempt 1, next try in 1h, no article", path, a, it.Article, kind)
		}
	}
	steps := []struct {
		wait     time.Duration
		requests int // per page, in all
		status   newsdesk.ArticleStatus
	}{
		{30 * time.Minute, 1, newsdesk.ArticleFailed}, // not due yet
		{30 * time.Minute, 2, newsdesk.ArticleFailed}, // 1h after the first
		{4 * time.Hour, 3, newsdesk.ArticleFailed},
		{16 * time.Hour, 4, newsdesk.ArticleGaveUp},
		{100 * time.Hour, 4, newsdesk.ArticleGaveUp}, // never again
	}
	for i, st := range steps {
		s.clock = s.clock.Add(st.wait)
		s.pass(t)
		for path := range kinds {
			_, a := s.article(t, path)
			if got := s.requests(path); got != st.requests || a.Status != st.status {
				t.Errorf("step %d: %s had %d requests, status %s; want %d, %s", i+1, path, got, a.Status, st.requests, st.status)
			}
		}
	}
}

// TestArticle429HoldsTheHost: a 429 with Retry-After stops the pass's
// requests to the host, keeps every pass off it until then, and does not
// use up an attempt.
func TestArticle429HoldsTheHost(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{})
	var busy sync.Mutex
	limited := true
	for _, p := range []string{"/news/a", "/news/b"} {
		page := testdataArticle(t, "moscowtimes.html")
		s.o.on(p, func(w http.ResponseWriter, r *http.Request) {
			busy.Lock()
			defer busy.Unlock()
			if limited {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			w.Write(page)
		})
		s.link(p)
	}
	out := s.pass(t)
	checkCounts(t, "first pass", out.Articles, 0, 1, 2, map[string]int{"http_429": 1})
	if n := s.pageRequests(); n != 1 {
		t.Errorf("first pass: %d page requests, want 1 (the host then held)", n)
	}
	var tried newsdesk.Article
	s.db.Articles("mt", func(a newsdesk.Article) bool { tried = a; return true })
	if tried.Attempts != 0 || tried.Kind != "http_429" || !tried.NextTry.Equal(t0.Add(time.Hour)) {
		t.Errorf("429'd article = %+v, want no attempt used, kind http_429, next try at Retry-After", tried)
	}
	s.clock = s.clock.Add(30 * time.Minute)
	s.pass(t)
	if n := s.pageRequests(); n != 1 {
		t.Errorf("pass before Retry-After: %d page requests in all, want still 1", n)
	}
	busy.Lock()
	limited = false
	busy.Unlock()
	s.clock = t0.Add(time.Hour)
	out = s.pass(t)
	checkCounts(t, "after Retry-After", out.Articles, 2, 0, 0, map[string]int{"ok": 2})
}

// TestArticleOnAPrivateAddress: a link on localhost is refused while the
// feed is on 127.0.0.1 (no request reaches it, robots.txt included), and
// allow_private lets it through.
func TestArticleOnAPrivateAddress(t *testing.T) {
	for _, allow := range []bool{false, true} {
		s := newArticleSite(t, newsdesk.FullText{AllowPrivate: allow})
		s.page(t, "/news/1", "moscowtimes.html")
		s.link(strings.Replace(s.o.url("/news/1"), "127.0.0.1", "localhost", 1))
		out := s.pass(t)
		_, a := s.article(t, s.links[0])
		switch {
		case !allow && (a.Status != newsdesk.ArticleRefused || a.Kind != kindPrivateAddress || s.requests("/news/1")+s.requests("/robots.txt") != 0):
			t.Errorf("localhost link: %+v, %d requests; want refused, kind %s, none sent", a, s.requests("/news/1"), kindPrivateAddress)
		case !allow:
			checkCounts(t, "refused", out.Articles, 0, 1, 0, map[string]int{kindPrivateAddress: 1})
		case a.Status != newsdesk.ArticleOK || s.requests("/news/1") != 1:
			t.Errorf("localhost link with allow_private: %+v, %d requests; want ok, 1", a, s.requests("/news/1"))
		}
	}
}

// TestRefetchText: a changed selector applies to a stored article by
// extracting again from the stored page without a request; an item
// without a stored page is fetched; a selector that matches nothing
// leaves the stored article alone.
func TestRefetchText(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{})
	s.page(t, "/news/1", "moscowtimes.html")
	s.link("/news/1", "/news/2")
	s.pass(t)
	_, before := s.article(t, "/news/1")
	if _, a := s.article(t, "/news/2"); a.Kind != "http_404" {
		t.Fatalf("/news/2 = %+v, want a 404 failure", a)
	}
	s.page(t, "/news/2", "moscowtimes.html")
	requests := len(s.o.received())

	s.src.FullText.Selector, s.src.FullText.Remove = "article.article", []string{".social-share", ".related", ".article__tags", ".article__label"}
	var got []RefetchResult
	if err := s.sched.RefetchText(context.Background(), s.src, nil, func(r RefetchResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, r := range got {
		actions[strings.TrimPrefix(r.ItemID, s.o.url(""))] = r.Action
	}
	if actions["/news/1"] != RefetchExtracted || actions["/news/2"] != RefetchFetched || len(got) != 2 {
		t.Errorf("RefetchText = %+v, want /news/1 extracted, /news/2 fetched", got)
	}
	if n := len(s.o.received()) - requests; n != 1 || s.requests("/news/1") != 1 {
		t.Errorf("RefetchText sent %d requests (%d to /news/1), want 1, none to /news/1", n, s.requests("/news/1"))
	}
	it, after := s.article(t, "/news/1")
	if after.Rules == before.Rules || !strings.Contains(after.HTML, "Kremlin Says Talks With Kyiv Will Continue Next Week") || it.Article != after.HTML {
		t.Errorf("after RefetchText: rules %s (were %s), html %.80q; want the selector's article", after.Rules, before.Rules, after.HTML)
	}

	s.src.FullText.Selector = "div.no-such-thing"
	got = nil
	if err := s.sched.RefetchText(context.Background(), s.src, []string{it.ID}, func(r RefetchResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if _, kept := s.article(t, "/news/1"); len(got) != 1 || got[0].Action != RefetchFailed || got[0].Kind != kindSelector || kept.HTML != after.HTML {
		t.Errorf("RefetchText with a selector matching nothing = %+v; want failed, kind selector, the article kept", got)
	}
}

// articleCallCounter is a store that counts the article methods called.
type articleCallCounter struct {
	*bolt.DB
	mu    sync.Mutex
	calls int
}

func (c *articleCallCounter) count() {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
}

func (c *articleCallCounter) ArticlesDue(id string, since, now time.Time, limit int) ([]store.ArticleJob, error) {
	c.count()
	return c.DB.ArticlesDue(id, since, now, limit)
}

func (c *articleCallCounter) ArticleStats(id string, since time.Time) (store.ArticleStats, error) {
	c.count()
	return c.DB.ArticleStats(id, since)
}

func (c *articleCallCounter) SaveArticle(a newsdesk.Article, page []byte) error {
	c.count()
	return c.DB.SaveArticle(a, page)
}

// TestNoArticleWorkWithoutFullText: a pass over sources without full text
// makes no article store call and requests no page.
func TestNoArticleWorkWithoutFullText(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{})
	s.page(t, "/news/1", "moscowtimes.html")
	s.link("/news/1")
	s.src.FullText = newsdesk.FullText{}
	counter := &articleCallCounter{DB: s.db}
	s.sched.Store = counter
	out := s.pass(t)
	if counter.calls != 0 || s.pageRequests() != 0 || out.Articles.Results != nil || !out.State.FullTextSince.IsZero() {
		t.Errorf("without full text: %d article store calls, %d page requests, Articles %+v, FullTextSince %v; want none", counter.calls, s.pageRequests(), out.Articles, out.State.FullTextSince)
	}
	s.src.FullText.Enabled = true
	s.clock = s.clock.Add(time.Hour)
	s.pass(t)
	if counter.calls == 0 || s.pageRequests() != 0 {
		t.Errorf("full text turned on: %d article store calls, %d page requests; want calls, and no page for the item seen before", counter.calls, s.pageRequests())
	}
}
