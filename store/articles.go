package store

import (
	"time"

	"github.com/newsdesk/newsdesk"
)

// Full article text (issue 13). The fetcher's article pass asks the store
// which items of a full-text source need their page fetched
// (ArticlesDue), records each outcome (SaveArticle, with the page it read
// so that refetch-text can extract again without the network), and status
// counts them (ArticleStats). An article is a record beside its item,
// keyed like it: SaveFetch never reads or writes it, so a re-fetch of the
// feed cannot overwrite it or count it as an update, and every engine
// removes it (and its page) with its item, by retention or purge. Reads of
// items (Item, Items, Section) fill newsdesk.Item.Article with the HTML of
// an ArticleOK article made for the item's current link, before section
// rules see the item.

// MaxArticlePage is the largest page (decoded, in bytes) a store keeps
// for refetch-text; SaveArticle forgets the stored page instead of keeping
// a bigger one, and refetch-text fetches such an article again.
const MaxArticlePage = 2 << 20

// ArticleJob is an item whose article page the pass should fetch.
type ArticleJob struct {
	Item newsdesk.Item
	// Prev is the article record made for the item's current link so far
	// (a failed attempt, due again), nil when there is none.
	Prev *newsdesk.Article
}

// ArticleStats counts a full-text source's articles for status and
// metrics. Only items first seen at or after since are Missing; records
// are counted whatever their item's age.
type ArticleStats struct {
	OK         int // extracted and shown
	Failed     int // failed, to be tried again (newsdesk.ArticleFailed)
	GaveUp     int // failed and retried MaxArticleRetries times
	Disallowed int // robots.txt disallows the page
	Refused    int // the link led to a private address
	// Missing is how many items first seen at or after since have no
	// article record for their current link yet.
	Missing int
	// LastError and LastErrorAt are the most recent failure's reason and
	// time (newsdesk.Article.Error, FetchedAt); empty when none failed.
	LastError   string
	LastErrorAt time.Time
}

// Pending is how many articles are still to be fetched: the items without
// a record and the failed ones awaiting a retry.
func (s ArticleStats) Pending() int { return s.Missing + s.Failed }

// Unavailable is how many items keep the feed's summary for good: given
// up, disallowed or refused.
func (s ArticleStats) Unavailable() int { return s.GaveUp + s.Disallowed + s.Refused }
