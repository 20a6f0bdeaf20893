// Package store is newsdesk's storage contract: the interface a storage
// engine implements (Store), the optional capabilities an engine may add
// (Backuper), the types and errors they share, and, in store/storetest, the
// one conformance suite every engine must pass. The engines live in
// subpackages (store/bolt, the bbolt file that is the default); each is the
// only importer of its database library. This package holds no engine code
// and imports no database library: it must stay that way, so that commands,
// the fetcher and the publisher can work with any engine.
//
// What every engine guarantees (storetest checks each of these):
//
//   - A fetch is one transaction (SaveFetch): its items, the pruning that
//     retention asks for, and the source's new fetch state, so a crash can
//     never keep a validator whose items were lost.
//   - Items are identified by source and id; a re-fetch updates an item in
//     place, keeps its FirstSeen, and dates an undated item by when it was
//     first seen. An id too long to be a key is stored as "sha256:" and the
//     hex SHA-256 of it, the same on every fetch.
//   - Retention counts stored and incoming items together; a pruned item
//     leaves a tombstone that lives as long as the feed carries it (and 30
//     days after), so it never comes back as new.
//   - Section reads cost what they return: newest first by Published (ties
//     by source id, then the higher item id first), pinned items first,
//     hidden ones never, a story carried by several sources once (the copy
//     seen first), found by link and, when asked, by near-identical title
//     within 48 hours.
//   - Editorial decisions are kept apart from items: re-fetches never undo
//     them; purging a source removes them with everything else about it.
//
// The store must not do network I/O of its own or hold a transaction open
// across a caller's: callers fetch first and save after.
package store

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Store is an open newsdesk store, whatever its engine. Methods that are
// safe for concurrent use in one engine are in all: the daemon calls them
// from many goroutines.
type Store interface {
	// SaveFetch stores one fetch of st.SourceID in one transaction: its
	// items, the pruning keep asks for, and the source's new fetch state.
	// The returned state has New, Updated, Skipped and SkipReason filled
	// in, New also in its last History entry. One item that cannot be
	// stored never fails its siblings: it is skipped and counted.
	SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error)
	// SaveState stores a source's fetch state alone: a 304 or a failure.
	SaveState(st newsdesk.FetchState) error
	// State returns a source's fetch state, or newsdesk.ErrNotFound when
	// it was never fetched.
	State(sourceID string) (newsdesk.FetchState, error)
	// States returns the fetch state of every source that has one, by id.
	States() ([]newsdesk.FetchState, error)
	// CountItems returns how many items of a source are stored.
	CountItems(sourceID string) (int, error)
	// Item returns one stored item, or newsdesk.ErrNotFound.
	Item(sourceID, itemID string) (newsdesk.Item, error)
	// Items calls fn with each stored item of a source, in id order,
	// until fn returns false.
	Items(sourceID string, fn func(newsdesk.Item) bool) error
	// Section returns up to q.Limit items of q.Sources as the package
	// comment says: pinned first, then newest first, hidden never, each
	// story once with the other copies in its Duplicates.
	Section(q newsdesk.Query) ([]newsdesk.Item, error)

	// SaveArticle stores the article record of a stored item (a.SourceID,
	// a.ItemID), replacing the one it had, and, when page is not nil, the
	// page it was extracted from (the decoded UTF-8 page; an empty,
	// non-nil page forgets the stored one). It never touches the item, its
	// Updated time or the source's state. It returns newsdesk.ErrNotFound
	// when the item is not stored. In a cluster the source counts as
	// changed (Changes), so other instances render its sections again.
	SaveArticle(a newsdesk.Article, page []byte) error
	// Article returns an item's article record, or newsdesk.ErrNotFound.
	Article(sourceID, itemID string) (newsdesk.Article, error)
	// ArticlePage returns the page an item's article was extracted from,
	// or newsdesk.ErrNotFound when none is kept.
	ArticlePage(sourceID, itemID string) ([]byte, error)
	// ArticlesDue returns up to limit items of a source, newest first
	// seen first (ties: newest published first, then by item id), whose
	// article the pass should fetch: those first seen
	// at or after since with no article record for their current link,
	// and those whose record for it is newsdesk.ArticleFailed with a
	// NextTry at or before now.
	ArticlesDue(sourceID string, since, now time.Time, limit int) ([]ArticleJob, error)
	// ArticleStats counts a source's article records, and the items first
	// seen at or after since that have none (ArticleStats).
	ArticleStats(sourceID string, since time.Time) (ArticleStats, error)
	// Articles calls fn with each article record of a source, in item id
	// order, until fn returns false.
	Articles(sourceID string, fn func(newsdesk.Article) bool) error

	// SetDecision records an editor's decision about an item in a section,
	// or removes the one recorded when d is empty.
	SetDecision(sectionID string, ref newsdesk.ItemRef, d newsdesk.Decision, at time.Time) error
	// Edits returns the editorial decisions of a section, most recent first.
	Edits(sectionID string) ([]Edit, error)

	// SectionVersions returns the stored version of every section that has
	// one, by section id.
	SectionVersions() (map[string]newsdesk.SectionVersion, error)
	// Position returns where the store's history of commits stands: reads
	// begun after the call see every commit made before it. Positions are
	// opaque; only RecordSectionVersions compares them.
	Position() (string, error)
	// RecordSectionVersions records that each section of hashes (section
	// id -> hash of its content) has that content, read from the store
	// after Position returned pos, and returns their versions: the stored
	// one when its hash is the same, else the next
	// (newsdesk.SectionVersion.Next) at now. A version never goes back: a
	// section whose stored version was recorded from reads begun after a
	// commit that pos does not cover (another render, in this process or
	// another instance, that may have read newer content) keeps it, and
	// the version returned then has another hash than the one given: the
	// caller reads again. An empty pos is never behind (the caller takes
	// the risk).
	RecordSectionVersions(hashes map[string]string, now time.Time, pos string) (map[string]newsdesk.SectionVersion, error)

	// Orphans returns the stored sources that are not in configured, by id.
	Orphans(configured []string) ([]Orphan, error)
	// MarkOrphans records now as the time each stored source missing from
	// configured was first seen missing, unless it has one, forgets the
	// marks of sources configured again, and returns the orphans.
	MarkOrphans(configured []string, now time.Time) ([]Orphan, error)
	// Purge removes everything stored about a marked orphan (items,
	// tombstones, count, state, editorial decisions, push subscription)
	// and returns how many items it removed. It refuses a source that is
	// not marked.
	Purge(sourceID string) (int, error)
	// PurgeExpired marks the orphans of configured and purges those first
	// seen missing at least grace before now; a grace of 0 purges nothing.
	PurgeExpired(configured []string, now time.Time, grace time.Duration) (purged, kept []Orphan, err error)

	// WebSubStore keeps WebSub subscriptions and ingests pushes (websub.go).
	WebSubStore

	// Ping reports whether the store answers a read.
	Ping() error
	// Damaged returns the error (matching ErrDamaged) of a store that found
	// its data damaged and stopped, or nil while it works.
	Damaged() error
	// Path is where the store is, as the operator configured it, for
	// messages: a file's path, or an address with no secret in it.
	Path() string
	// Borrow returns a handle on the same open store whose Close does
	// nothing, for code that closes what it is given while the owner keeps
	// the store open (a command run inside `newsdesk serve`). It has the
	// owner's capabilities (Backuper).
	Borrow() Store
	// Close closes the store, waiting for running transactions to finish.
	Close() error
}

// Backuper is a store that can write a consistent copy of itself while it
// stays in use (`newsdesk backup`). An engine with its own backup tools
// does not implement it; the command then names those tools.
type Backuper interface {
	// Backup writes the copy to w and returns the bytes written.
	Backup(w io.Writer) (int64, error)
}

// Errors every engine's errors match with errors.Is where they apply.
var (
	// ErrLocked: another process holds the store (a file engine's lock).
	ErrLocked = errors.New("database is locked by another process")
	// ErrDamaged: the stored data cannot be read safely.
	ErrDamaged = errors.New("database is damaged")
	// ErrSchema: the store's schema is one this newsdesk will not use (a
	// newer one, one too old to migrate, or a migration not yet allowed).
	ErrSchema = errors.New("database schema not supported")
)

// Edit is an editorial decision as stored.
type Edit struct {
	Ref      newsdesk.ItemRef
	Decision newsdesk.Decision
	At       time.Time
}

// Orphan is a stored source that feeds.yaml no longer lists.
type Orphan struct {
	SourceID string
	Items    int
	// RemovedAt is when it was first seen missing from feeds.yaml; zero
	// until MarkOrphans has seen it.
	RemovedAt time.Time
}

// Report is what an engine's verification found in a store. The file
// fields (Size, PageSize, Pages, Txid) are those of a file engine.
type Report struct {
	Path       string `json:"path"`
	Size       int64  `json:"size"`
	PageSize   int    `json:"page_size"`
	Pages      uint64 `json:"pages"`
	Txid       uint64 `json:"transaction"`
	Schema     int    `json:"schema"`
	Sources    int    `json:"sources"`
	Items      int    `json:"items"`
	Tombstones int    `json:"tombstones"`
	Decisions  int    `json:"decisions"`
	// WebSub counts the WebSub subscriptions, readers' and newsdesk's.
	WebSub int      `json:"websub_subscriptions,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	Faults []string `json:"faults,omitempty"`
	More   int      `json:"more_faults,omitempty"` // faults found beyond those listed
}

// maxFaults is how many faults a Report lists; Fault counts the rest in More.
const maxFaults = 20

// Fault records a fault the verification found.
func (r *Report) Fault(format string, args ...any) {
	if len(r.Faults) < maxFaults {
		r.Faults = append(r.Faults, fmt.Sprintf(format, args...))
	} else {
		r.More++
	}
}
