// Package newsdesk holds the domain of the newsdesk feed aggregator: the
// sources it polls, the items it keeps, the sections it republishes, and the
// rules that decide which item goes into which section.
//
// The root package imports only the standard library. Each subpackage wraps
// one dependency and imports this one (and internal helpers), never a
// sibling; only cmd/newsdesk imports them all:
//
//   - config: go.yaml.in/yaml and the cron library; reads and checks
//     feeds.yaml, and inserts sources into it.
//   - opml: reads OPML subscription lists, in any charset.
//   - fetcher: HTTP, gofeed and bluemonday; turns a source into clean,
//     normalized items, and schedules the polling.
//   - store: the storage contract, with store/storetest, the one
//     conformance suite, and store/bolt, the bbolt engine (the only package
//     that imports bbolt).
//   - publisher: gorilla/feeds; renders sections as RSS, Atom and JSON Feed,
//     serves them over HTTP and writes the static export.
//   - status: the per-source report of newsdesk status and /status.
//   - curate: what an editor sees: item ids, why shown, explain.
//   - metrics: the Prometheus client.
//   - internal/charset: the one charset decoder (golang.org/x/text);
//     internal/control, the control socket's protocol; internal/atomicfile;
//     internal/filewatch (fsnotify); internal/progress (the progress bar).
//   - cmd/newsdesk: argument parsing, one file per command, and the daemon.
package newsdesk

import (
	"errors"
	"strconv"
	"time"
)

// Version is the program's version, reported by `newsdesk version` and in the
// User-Agent. Release builds set it with -ldflags "-X github.com/newsdesk/newsdesk.Version=...".
var Version = "0.1.0-dev"

// ErrNotFound is returned when a source, section or item does not exist.
var ErrNotFound = errors.New("not found")

// Source is a feed that newsdesk polls, as configured in feeds.yaml.
type Source struct {
	ID       string
	Title    string // empty: use the feed's own title
	URL      string
	Tags     []string
	Interval time.Duration
	// IntervalSet is true when feeds.yaml gives the source its own interval
	// or schedule; otherwise the feed's own hints (ttl, sy:updatePeriod,
	// skipHours, skipDays) may lengthen the default interval.
	IntervalSet bool
	// Schedule, when set, is when the source is polled instead of every
	// Interval: config builds it from a cron expression in feeds.yaml
	// ("*/10 6-23 * * *").
	Schedule Schedule
	Timeout  time.Duration
	// IgnoreCacheHeaders lets the source be polled more often than its
	// Cache-Control max-age or Expires asks (honor_cache_headers: false).
	// Retry-After is honoured regardless.
	IgnoreCacheHeaders bool
	MaxBody            int64 // cap on a response body in bytes; 0: the client's default
	// MaxItemsPerFetch caps how many of a feed's items one fetch takes:
	// the newest by date, undated items (which count as new as the fetch)
	// in document order. The rest are counted (FetchState.Capped) and not
	// stored. 0 means no cap; feeds.yaml defaults to
	// DefaultMaxItemsPerFetch.
	MaxItemsPerFetch int
	Retention        Retention
	// FullText is the source's full_text setting: whether each new item's
	// page is fetched for its article, and how the article is extracted.
	FullText FullText
	// WebSub subscribes to the source's hub, when its feed advertises one
	// and server.base_url is reachable from the hub, so that the hub pushes
	// new items instead of being polled (see WebSubLinks).
	WebSub bool
	// Auth, Headers and UserAgent are what fetches of the source send
	// besides the defaults (credentials.go): HTTP Basic credentials, extra
	// headers, and a User-Agent instead of newsdesk's. Auth and Headers
	// go to the source's own host only, never across a redirect to
	// another.
	Auth      *BasicAuth
	Headers   []Header
	UserAgent string
}

// Schedule is a polling schedule. config builds it, with the cron library,
// once per feeds.yaml; fetcher only asks it for the next time.
type Schedule interface {
	// Next is the first time after t that the schedule fires, in t's
	// location unless the schedule names its own; zero when it never does.
	Next(t time.Time) time.Time
	// String is the schedule as feeds.yaml gives it, for status.
	String() string
}

// Retention bounds how many of a source's items are kept. After each fetch,
// items older than MaxAge (counted back from the source's newest item, so a
// source that went quiet keeps its last items) or beyond the newest MaxItems
// are pruned, but the newest MinItems always stay. Zero values mean no
// limit (MaxAge, MaxItems) or none kept for sure (MinItems).
type Retention struct {
	MaxAge   time.Duration
	MaxItems int
	MinItems int
}

// Result is the outcome kind of one fetch.
type Result string

// The outcomes of a fetch, as recorded in FetchState.Result.
const (
	ResultOK          Result = "ok"
	ResultNotModified Result = "not_modified"
	ResultError       Result = "error"
)

// FetchState is what newsdesk remembers about a source between fetches. It
// is written in the same transaction as the items of the fetch it describes,
// so a validator (ETag, Last-Modified) is never kept without its items.
type FetchState struct {
	SourceID     string
	URL          string // the URL the validators belong to
	ETag         string // exactly as received, quotes and W/ included
	LastModified string // exactly as received
	FeedTitle    string // the feed's own title
	FeedLink     string // the feed's own home page
	// FeedID is the feed's own id (Atom <id>), when it has one that may be
	// republished (IsFeedID); aggregated entries name it in atom:source.
	FeedID string `json:",omitempty"`
	// FeedUpdated is when the feed says it last changed (Atom <updated>,
	// RSS lastBuildDate, else pubDate); zero when it does not say.
	FeedUpdated time.Time `json:",omitzero"`
	// FeedAuthors are the feed's own authors, who stand for the author of
	// an entry that names none.
	FeedAuthors []Person `json:",omitempty"`

	LastFetch   time.Time // when the last fetch finished, whatever its result
	LastSuccess time.Time // when a fetch last ended in ok or not_modified
	Result      Result
	New         int    // items new in the last fetch
	Updated     int    // items changed in place by the last fetch
	Error       string // the reason, when Result is ResultError
	Failures    int    // consecutive failed fetches
	NextDue     time.Time

	// Gone is set by a 410 response: the source is not fetched again until
	// its URL in feeds.yaml changes.
	Gone bool `json:",omitempty"`
	// MovedTo is where a permanent redirect (301/308) led; fetches use it
	// while the configured URL stays the same.
	MovedTo string `json:",omitempty"`
	// RetryAfter is the publisher's "not before" from a 429 or 503; nothing
	// is sent to the source before it, not even by run -force.
	RetryAfter time.Time `json:",omitzero"`
	// CacheUntil is when the last response's Cache-Control max-age or
	// Expires runs out.
	CacheUntil time.Time `json:",omitzero"`
	// Hints are the publisher's own polling hints from the feed.
	Hints FeedHints `json:",omitzero"`
	// Capped is how many items of the feed, as last received (a 200; a
	// 304 or a failure keeps it), were beyond the source's
	// MaxItemsPerFetch and not stored.
	Capped int `json:",omitempty"`
	// FullTextSince is when the first fetch with the source's full_text on
	// began: items first seen at or after it get their article fetched,
	// older ones only on request (refetch-text). Zero while full_text is
	// off.
	FullTextSince time.Time `json:",omitzero"`
	// WebSub are the hub and self links the feed advertised at the last
	// full fetch (a 200); a 304 or a failure keeps them.
	WebSub WebSubLinks `json:",omitzero"`
	// SafetyNet is set when the last fetch put NextDue a
	// SafetyNetInterval away because the source's hub pushed its items:
	// once it no longer does, the source is due at its own interval (or
	// schedule) after LastFetch instead (fetcher's scheduler).
	SafetyNet bool `json:",omitempty"`
	// Skipped is how many items of the feed, as last received, could not
	// be stored at all (their siblings were); SkipReason says why for the
	// first of them.
	Skipped    int    `json:",omitempty"`
	SkipReason string `json:",omitempty"`
	// History holds the outcomes of the last HistoryLen fetches, oldest
	// first, for status pages.
	History []Attempt `json:",omitempty"`
}

// HistoryLen is how many fetch outcomes FetchState.History keeps.
const HistoryLen = 48

// Attempt is the outcome of one fetch, as kept in FetchState.History.
type Attempt struct {
	At     time.Time `json:"at"`
	Result Result    `json:"result"`
	Kind   string    `json:"kind,omitempty"` // the error kind (timeout, http_404...) when Result is error
	New    int       `json:"new,omitempty"`
}

// Record appends a fetch outcome to the history, keeping the last
// HistoryLen.
func (s *FetchState) Record(a Attempt) {
	s.History = append(s.History, a)
	if n := len(s.History) - HistoryLen; n > 0 {
		s.History = append(s.History[:0:0], s.History[n:]...)
	}
}

// Stale reports whether a source has had no successful fetch for three
// times its interval (counted from its first fetch when it never had one).
func (s FetchState) Stale(interval time.Duration, now time.Time) bool {
	since := s.LastSuccess
	if since.IsZero() {
		if len(s.History) == 0 {
			return false
		}
		since = s.History[0].At
	}
	return now.Sub(since) > 3*interval
}

// FeedHints are the polling hints a feed gives about itself: RSS ttl,
// skipHours and skipDays, and the syndication module's update period.
type FeedHints struct {
	TTL             time.Duration  `json:",omitempty"` // RSS <ttl>, given in minutes
	SkipHours       []int          `json:",omitempty"` // GMT hours 0-23 in which not to poll
	SkipDays        []time.Weekday `json:",omitempty"` // days on which not to poll
	UpdatePeriod    string         `json:",omitempty"` // sy:updatePeriod: hourly, daily, weekly, monthly, yearly
	UpdateFrequency int            `json:",omitempty"` // sy:updateFrequency: times per period (default 1)
}

// IsZero reports whether the feed gave no hints.
func (h FeedHints) IsZero() bool {
	return h.TTL == 0 && len(h.SkipHours) == 0 && len(h.SkipDays) == 0 && h.UpdatePeriod == "" && h.UpdateFrequency == 0
}

// Interval is the polling interval the hints ask for: the longer of the
// ttl and the update period divided by its frequency; zero when neither is
// given.
func (h FeedHints) Interval() time.Duration {
	var period time.Duration
	switch h.UpdatePeriod {
	case "hourly":
		period = time.Hour
	case "daily":
		period = 24 * time.Hour
	case "weekly":
		period = 7 * 24 * time.Hour
	case "monthly":
		period = 30 * 24 * time.Hour
	case "yearly":
		period = 365 * 24 * time.Hour
	}
	if period > 0 && h.UpdateFrequency > 1 {
		period /= time.Duration(h.UpdateFrequency)
	}
	return max(h.TTL, period)
}

// Summary is the one-line form of the last result for `status`:
// "ok 3 new", "not modified" or "error: reason".
func (s FetchState) Summary() string {
	switch s.Result {
	case ResultOK:
		out := "ok " + strconv.Itoa(s.New) + " new"
		if s.Updated > 0 {
			out += ", " + strconv.Itoa(s.Updated) + " updated"
		}
		return out
	case ResultNotModified:
		return "not modified"
	case ResultError:
		return "error: " + s.Error
	}
	return "never fetched"
}
