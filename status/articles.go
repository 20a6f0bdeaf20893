package status

import (
	"fmt"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Full article text (issue 13): a source with full_text on gets a count of
// its articles in every form of status (Row.Articles, the ARTICLES column
// of the tables and the page) and a note with its last article error.
// Sources without full_text show nothing new, and a report without any
// full-text source is what it was.

// Articles is what status shows of a full-text source's articles (from
// store.ArticleStats).
type Articles struct {
	// Fetched is how many items show their article.
	Fetched int `json:"fetched"`
	// Failed is how many items keep the feed's summary for good: the
	// article pass gave up, robots.txt disallows the page, or the link
	// led to a private address (GaveUp + Disallowed + Refused).
	Failed     int `json:"failed"`
	GaveUp     int `json:"gave_up"`
	Disallowed int `json:"disallowed"`
	Refused    int `json:"refused"`
	// Pending is how many are still to be fetched: new items without an
	// article yet, and Retrying, the failed ones due again.
	Pending  int `json:"pending"`
	Retrying int `json:"retrying"`
	// LastError and LastErrorAt are the most recent failure's reason and
	// time; absent when none failed.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
}

// articles is the Articles of a full-text source whose fetch state is st
// (zero when it was never fetched). Items count as pending from the first
// fetch with full_text on (FetchState.FullTextSince): until then, from
// now, which is none.
func articles(db Store, src newsdesk.Source, st newsdesk.FetchState, now time.Time) (*Articles, error) {
	since := st.FullTextSince
	if since.IsZero() {
		since = now
	}
	s, err := db.ArticleStats(src.ID, since)
	if err != nil {
		return nil, fmt.Errorf("articles of %s: %w", src.ID, err)
	}
	return &Articles{
		Fetched: s.OK, Failed: s.Unavailable(), GaveUp: s.GaveUp, Disallowed: s.Disallowed, Refused: s.Refused,
		Pending: s.Pending(), Retrying: s.Failed, LastError: s.LastError, LastErrorAt: timePtr(s.LastErrorAt),
	}, nil
}

// articleNote is the note about a source's last article error, or "".
func articleNote(a *Articles, now time.Time) string {
	if a == nil || a.LastError == "" {
		return ""
	}
	at := ""
	if a.LastErrorAt != nil {
		at = " " + when(*a.LastErrorAt, now)
	}
	return "last article error" + at + ": " + a.LastError
}

// String is the ARTICLES cell of the full table and the page.
func (a *Articles) String() string {
	return fmt.Sprintf("%d fetched, %d failed, %d pending", a.Fetched, a.Failed, a.Pending)
}

// short is the ARTICLES cell of the short form: fetched/failed/pending.
func (a *Articles) short() string {
	return fmt.Sprintf("%d/%d/%d", a.Fetched, a.Failed, a.Pending)
}

// anyArticles reports whether a row has Articles: only then do the tables
// and the page have an ARTICLES column.
func anyArticles(rows []Row) bool {
	for _, r := range rows {
		if r.Articles != nil {
			return true
		}
	}
	return false
}

// articleCell is a row's ARTICLES cell made by cell, "-" for a source
// without full_text.
func articleCell(r Row, cell func(*Articles) string) string {
	if r.Articles == nil {
		return "-"
	}
	return cell(r.Articles)
}
