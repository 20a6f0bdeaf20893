package fetcher

// articles.go is the article pass of full-text sources (issue 13). After a
// source's fetch result is committed (a 200, a 304 or a failure alike),
// and before the commit hooks render its sections, Scheduler.do runs the
// pass for a source with full_text on: it asks the store which items need
// their page (ArticlesDue: items first seen since full text was turned on
// with no article for their current link, and failed ones due again), at
// most full_text.per_pass of them, and for each checks robots.txt, claims
// the attempt in the store, takes a slot for the page's host from the
// scheduler's per-host table (shared with the feeds), fetches the page
// (FetchPage) and extracts the story (extract). A source without full
// text costs nothing here: no store call is made for it.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// ArticleStore is what the article pass and RefetchText need from the
// database; every store.Store satisfies it. The scheduler's Store is used
// as one when it is one.
type ArticleStore interface {
	Item(sourceID, itemID string) (newsdesk.Item, error)
	Items(sourceID string, fn func(newsdesk.Item) bool) error
	SaveArticle(a newsdesk.Article, page []byte) error
	Article(sourceID, itemID string) (newsdesk.Article, error)
	ArticlePage(sourceID, itemID string) ([]byte, error)
	ArticlesDue(sourceID string, since, now time.Time, limit int) ([]store.ArticleJob, error)
	ArticleStats(sourceID string, since time.Time) (store.ArticleStats, error)
	Articles(sourceID string, fn func(newsdesk.Article) bool) error
}

// ArticleCounts are what a source's article pass did, in its Outcome.
type ArticleCounts struct {
	Fetched int // articles extracted and stored
	Failed  int // pages that could not be fetched or extracted (disallowed and refused included)
	Pending int // articles still to fetch after the pass (store.ArticleStats.Pending)
	// Results counts the pass's attempts by result: "ok" or the error
	// kind (http_404, timeout, too_short, disallowed, private_address,
	// ...), for newsdesk_article_fetches_total.
	Results map[string]int
}

func (c *ArticleCounts) add(result string) {
	if c.Results == nil {
		c.Results = map[string]int{}
	}
	c.Results[result]++
	if result == resultOK {
		c.Fetched++
	} else {
		c.Failed++
	}
}

const (
	resultOK = "ok"
	// kindDisallowed is the result of a page robots.txt disallows, and
	// kindRobotsUnreachable of one whose robots.txt could not be read.
	kindDisallowed        = "disallowed"
	kindRobotsUnreachable = "robots_unreachable"
	// kindInterrupted is the claim's record: an attempt that never
	// finished (a crash, a shutdown) reads as this until it is due again.
	kindInterrupted = "interrupted"
	// extractorVersion changes when extract's output for the same page and
	// rules does; it goes into Article.Rules.
	extractorVersion = "1"
)

// articleBackoff is how long after its nth failed attempt (n from 1) an
// article is tried again: 1h, 4h, 16h.
func articleBackoff(n int) time.Duration {
	d := time.Hour
	for range min(max(n-1, 0), 8) {
		d *= 4
	}
	return d
}

// rulesHash identifies the rules (and the extractor's version) that made
// an article, for Article.Rules.
func rulesHash(ft newsdesk.FullText) string {
	sum := sha256.Sum256([]byte(extractorVersion + "\x00" + ft.Selector + "\x00" + strings.Join(ft.Remove, "\x00")))
	return hex.EncodeToString(sum[:6])
}

// summaryChars is how many characters of text the feed gave for it: an
// article must not be shorter.
func summaryChars(it newsdesk.Item) int {
	s := it.Summary
	if s == "" {
		s = it.Content
	}
	return utf8.RuneCountInString(collapseSpace(newsdesk.HTMLText(s)))
}

// articleStore is the scheduler's Store as an ArticleStore, or nil.
func (s *Scheduler) articleStore() ArticleStore {
	as, _ := s.Store.(ArticleStore)
	return as
}

// robots is the scheduler's robots.txt cache, shared by every source.
func (s *Scheduler) robots() *robotsCache {
	s.robotsOnce.Do(func() {
		if s.robotsTxt == nil {
			s.robotsTxt = newRobotsCache("newsdesk", s.Client.fetchRobots)
			s.robotsTxt.Now = s.now
		}
	})
	return s.robotsTxt
}

// articlePass fetches the articles of src that are due, after its fetch
// left the state st; now is the clock of the fetch. It is called only for
// a source with full text on.
func (s *Scheduler) articlePass(ctx context.Context, src newsdesk.Source, st newsdesk.FetchState, now func() time.Time, log *slog.Logger) ArticleCounts {
	var counts ArticleCounts
	as := s.articleStore()
	if as == nil {
		log.Error("full_text is on but the store keeps no articles")
		return counts
	}
	if st.FullTextSince.IsZero() { // the state that turns it on was not stored
		return counts
	}
	jobs, err := as.ArticlesDue(src.ID, st.FullTextSince, now(), src.FullText.Pages())
	if err != nil {
		log.Error("could not read the articles to fetch", "error", err)
		return counts
	}
	a := articleRun{s: s, as: as, src: src, st: st, now: now, log: log, held: map[string]bool{}}
	for _, jb := range jobs {
		if ctx.Err() != nil {
			break
		}
		if result := a.fetch(ctx, jb.Item, jb.Prev); result != "" {
			counts.add(result)
		}
	}
	if stats, err := as.ArticleStats(src.ID, st.FullTextSince); err == nil {
		counts.Pending = stats.Pending()
	} else {
		log.Error("could not count the articles to fetch", "error", err)
	}
	return counts
}

// articleRun is one source's articles being fetched: by a pass, or by
// RefetchText.
type articleRun struct {
	s    *Scheduler
	as   ArticleStore
	src  newsdesk.Source
	st   newsdesk.FetchState
	now  func() time.Time
	log  *slog.Logger
	held map[string]bool // hosts that answered 429/503 in this run
	// refetch: asked for by the operator, so a record given up, disallowed
	// or refused is tried again from its first attempt.
	refetch bool
	last    newsdesk.Article // the record the last fetch stored
	skipped string           // why the last fetch tried nothing, when it returned ""
}

// fetch fetches and stores the article of it, whose record so far is prev
// (nil: none for its link), and returns the result for metrics ("ok" or
// the error kind), or "" when it was not tried (its host is held back, the
// run is ending, the item is gone).
func (a *articleRun) fetch(ctx context.Context, it newsdesk.Item, prev *newsdesk.Article) string {
	rec := newsdesk.Article{SourceID: a.src.ID, ItemID: it.ID, Link: it.Link}
	if prev != nil && prev.Link == it.Link && !a.refetch {
		rec.Attempts = prev.Attempts
	}
	u, err := articleURL(it.Link)
	if err != nil {
		return a.final(rec, newsdesk.ArticleGaveUp, kindBadURL, err.Error())
	}
	if a.isHeld(u.Host) {
		a.skipped = "the host asked to wait (429 or 503): try again later"
		return ""
	}
	if result, done := a.checkRobots(ctx, rec, u); done {
		return result
	}
	attempts := rec.Attempts
	rec.Attempts++
	rec.Status, rec.Kind, rec.Error = newsdesk.ArticleFailed, kindInterrupted, "the attempt did not finish"
	rec.FetchedAt = a.now()
	rec.NextTry = rec.FetchedAt.Add(articleBackoff(rec.Attempts))
	if !a.save(rec, nil) { // the claim: a crash never fetches it again early
		a.skipped = "the article could not be stored"
		return ""
	}
	g, ok := a.s.acquire(ctx, u.Host)
	if !ok {
		return ""
	}
	page, err := a.s.Client.FetchPage(ctx, a.src, a.st, it.Link)
	g.release()
	if err != nil && ctx.Err() != nil {
		return "" // a shutdown: the claim stands, it is due again at NextTry
	}
	var html string
	var chars int
	if err == nil {
		rec.URL = page.URL.String()
		html, chars, err = extract(page.Body, page.URL, rulesOf(a.src.FullText), summaryChars(it))
	}
	if err != nil {
		return a.failed(rec, attempts, err)
	}
	rec.Status, rec.HTML, rec.Chars, rec.Kind, rec.Error = newsdesk.ArticleOK, html, chars, "", ""
	rec.NextTry, rec.Rules = time.Time{}, rulesHash(a.src.FullText)
	kept := page.Body // kept for refetch-text, up to store.MaxArticlePage
	if len(kept) > store.MaxArticlePage {
		kept = []byte{}
	}
	a.save(rec, kept)
	return resultOK
}

// checkRobots asks robots.txt about u; done is true when the page may not
// be fetched, with the result recorded.
func (a *articleRun) checkRobots(ctx context.Context, rec newsdesk.Article, u *url.URL) (result string, done bool) {
	rctx, cancel := context.WithTimeout(pageContext(ctx, a.src, a.st), fetchTimeout(ctx, a.src))
	defer cancel()
	v, err := a.s.robots().Allowed(rctx, u)
	switch {
	case err != nil && ctx.Err() != nil:
		return "", true
	case ErrorKind(err) == kindPrivateAddress: // the page is on the same host
		return a.final(rec, newsdesk.ArticleRefused, kindPrivateAddress, err.Error()), true
	case err != nil:
		return a.final(rec, newsdesk.ArticleGaveUp, kindBadURL, err.Error()), true
	case v.Allowed:
		return "", false
	case v.Unreachable:
		// Not the page's fault: tried again once robots.txt is asked
		// again, without using up an attempt.
		rec.Status, rec.Kind, rec.Error = newsdesk.ArticleFailed, kindRobotsUnreachable, v.Reason
		rec.FetchedAt, rec.NextTry = a.now(), v.Until
		a.save(rec, nil)
		a.logFailure(rec)
		return kindRobotsUnreachable, true
	}
	return a.final(rec, newsdesk.ArticleDisallowed, kindDisallowed, v.Reason), true
}

// failed records a failed attempt (rec is the claim; attempts the count
// before it) and returns its kind.
func (a *articleRun) failed(rec newsdesk.Article, attempts int, err error) string {
	kind := ErrorKind(err)
	rec.Status, rec.Kind, rec.Error, rec.HTML, rec.Chars = newsdesk.ArticleFailed, kind, err.Error(), "", 0
	var se *StatusError
	switch {
	case kind == kindPrivateAddress:
		rec.Status, rec.NextTry = newsdesk.ArticleRefused, time.Time{}
	case errors.As(err, &se) && (se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable):
		// The host asks to slow down: not the article's failure. Its
		// other pages wait for the next pass, or until Retry-After.
		rec.Attempts = attempts
		rec.NextTry = rec.FetchedAt
		if se.RetryAt.After(rec.NextTry) {
			rec.NextTry = se.RetryAt
		}
		a.hold(rec, se.RetryAt)
	case rec.Attempts > newsdesk.MaxArticleRetries:
		rec.Status, rec.NextTry = newsdesk.ArticleGaveUp, time.Time{}
	}
	a.save(rec, nil)
	a.logFailure(rec)
	return kind
}

// final records an outcome that is not tried again by the pass.
func (a *articleRun) final(rec newsdesk.Article, status newsdesk.ArticleStatus, kind, msg string) string {
	rec.Status, rec.Kind, rec.Error = status, kind, msg
	rec.FetchedAt, rec.NextTry = a.now(), time.Time{}
	a.save(rec, nil)
	a.logFailure(rec)
	return kind
}

// save stores rec (and page, when not nil); false when it could not be.
func (a *articleRun) save(rec newsdesk.Article, page []byte) bool {
	if err := a.as.SaveArticle(rec, page); err != nil {
		if !errors.Is(err, newsdesk.ErrNotFound) { // else pruned meanwhile
			a.log.Error("could not store an article", "item", rec.ItemID, "error", err)
		}
		return false
	}
	a.last = rec
	return true
}

func (a *articleRun) logFailure(rec newsdesk.Article) {
	args := []any{"url", rec.Link, "kind", rec.Kind, "error", rec.Error, "attempts", rec.Attempts, "status", string(rec.Status)}
	if !rec.NextTry.IsZero() {
		args = append(args, "next_try", rec.NextTry.Format(time.RFC3339))
	}
	a.log.Warn("article fetch failed: the item keeps the feed's summary", args...)
}

// hold keeps the run (and, until retryAt when the host gave one, every
// source's pass) off host.
func (a *articleRun) hold(rec newsdesk.Article, retryAt time.Time) {
	host := hostOf(rec.Link)
	a.held[host] = true
	if retryAt.IsZero() {
		return
	}
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hostHolds == nil {
		s.hostHolds = map[string]time.Time{}
	}
	s.hostHolds[host] = retryAt
}

// isHeld reports whether host asked this run, or a recent one, to wait.
func (a *articleRun) isHeld(host string) bool {
	if a.held[host] {
		return true
	}
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.hostHolds[host]
	if ok && !a.now().Before(until) {
		delete(s.hostHolds, host)
		return false
	}
	return ok
}
