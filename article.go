package newsdesk

import "time"

// Full article text (issue 13): a source with full_text on has the page of
// each new item fetched and its story extracted, stored beside the item as
// an Article. config reads FullText from feeds.yaml; the fetcher's article
// pass uses it to choose what to fetch and how to extract it; the store
// keeps Article records; publisher and status show them.

// DefaultArticlesPerPass is how many article pages one pass fetches for a
// source when full_text gives no per_pass: enough for a busy news feed's
// new items, few enough that a feed of 500 new items does not hammer the
// site.
const DefaultArticlesPerPass = 20

// MaxArticlesPerPass is the most per_pass may ask for.
const MaxArticlesPerPass = 200

// MaxArticleRetries is how many times a failed article is tried again
// (after the first attempt) before it is given up for that item.
const MaxArticleRetries = 3

// MinArticleChars is the fewest characters of text an extracted article
// may have: shorter is a paywall stub or a teaser, and the feed's summary
// is kept instead.
const MinArticleChars = 500

// FullText is a source's full_text setting in feeds.yaml. config fills it
// (off unless the file turns it on); the fetcher's article pass reads it.
type FullText struct {
	// Enabled turns the article pass on for the source.
	Enabled bool
	// Selector, when set, is the CSS selector group that picks the article
	// on the page instead of the readability extractor.
	Selector string
	// Remove are CSS selectors of page parts deleted before extraction
	// (share boxes, related stories).
	Remove []string
	// PerPass caps the article pages fetched for the source per pass;
	// 0 means DefaultArticlesPerPass (see Pages).
	PerPass int
	// Attribution ends each item showing its article with a line linking
	// the original. config sets it true unless feeds.yaml says
	// attribution: false.
	Attribution bool
	// AllowPrivate lets article links resolve to loopback, private,
	// link-local and cloud-metadata addresses on any host (the feed's own
	// host is always allowed).
	AllowPrivate bool
}

// Pages is how many article pages one pass may fetch for the source:
// PerPass, or DefaultArticlesPerPass when it is not set.
func (f FullText) Pages() int {
	if f.PerPass > 0 {
		return f.PerPass
	}
	return DefaultArticlesPerPass
}

// ArticleStatus is the outcome recorded for an item's article.
type ArticleStatus string

// The states of an Article.
const (
	// ArticleOK: the article was extracted and HTML holds it.
	ArticleOK ArticleStatus = "ok"
	// ArticleFailed: the last attempt failed; it is due again at NextTry.
	ArticleFailed ArticleStatus = "failed"
	// ArticleGaveUp: the attempt and MaxArticleRetries retries failed; the
	// item keeps the feed's summary.
	ArticleGaveUp ArticleStatus = "gave_up"
	// ArticleDisallowed: the article host's robots.txt disallows the page;
	// it is not tried again.
	ArticleDisallowed ArticleStatus = "disallowed"
	// ArticleRefused: the link (or a redirect) led to an address newsdesk
	// does not fetch articles from (loopback, private, link-local, cloud
	// metadata); it is not tried again.
	ArticleRefused ArticleStatus = "refused"
)

// Article is what newsdesk knows about the full text of one stored item.
// The fetcher's article pass writes it, the store keeps it beside the item
// (never inside it, so a re-fetch of the feed neither overwrites it nor
// counts as an update), and publisher and status read it.
type Article struct {
	SourceID string
	ItemID   string // the stored item's id
	// Link is the item link the article was made for: an item whose link
	// changed is due again.
	Link string
	// URL is where the page was read, after redirects: the base of the
	// article's relative URLs.
	URL    string
	Status ArticleStatus
	// HTML is the sanitized article with absolute URLs; empty unless
	// Status is ArticleOK.
	HTML  string
	Chars int // characters of the article's text
	// Error is why the last attempt failed, and Kind its class (as the
	// fetcher's ErrorKind: http_404, timeout, too_short, ...).
	Error, Kind string
	Attempts    int       // attempts made so far
	NextTry     time.Time // when a failed article is due again
	FetchedAt   time.Time // when the page was last read
	// Rules identifies the extraction rules (selector, remove, extractor
	// version) that made HTML, so refetch-text can tell what is stale.
	Rules string
}
