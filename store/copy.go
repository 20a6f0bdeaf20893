package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Copying a store into one of another engine (`newsdesk migrate`): an
// engine that can stream every record it holds is a Dumper, one that can
// take them into an empty store is a Loader, and Copy joins the two. What a
// store derives from its records (indexes, the bbolt engine's time and
// duplicate indexes, PostgreSQL's hashes) is not a record: the Loader
// builds it as SaveFetch would. Counts are derived too: a Loader counts the
// items it writes, and Copy checks afterwards that every source holds as
// many items in the copy as in the original.

// Entry is one record of a store, as Dump gives it and a RecordWriter
// takes it: exactly one of its fields is set. An Item is a stored item
// (Record): its SourceID, stored ID (StoredID), FirstSeen and Dated set.
type Entry struct {
	Source    *SourceRecord
	Item      *Record
	Tombstone *TombstoneRecord
	Decision  *DecisionRecord
	Section   *SectionRecord
	Article   *ArticleRecord
	// HubSub and PushSub are WebSub subscriptions (a claim is not part of
	// one: a copy's subscriptions are unclaimed).
	HubSub  *newsdesk.HubSubscription
	PushSub *newsdesk.PushSubscription
}

// ArticleRecord is an item's article record and the page it was extracted
// from (nil when none is kept). Dump gives a source's articles after its
// items; a Loader refuses (ErrSkipped) one whose item it does not hold.
type ArticleRecord struct {
	Article newsdesk.Article
	Page    []byte
}

// SourceRecord is what a store keeps about a source besides its items.
type SourceRecord struct {
	ID string
	// State is its fetch state (validators, times, history); nil when it
	// has none.
	State *newsdesk.FetchState
	// Items is how many items the store counts for it.
	Items int
	// RemovedAt is when it was first seen missing from feeds.yaml (an
	// orphan's mark); zero when it is not marked.
	RemovedAt time.Time
}

// TombstoneRecord is the mark a pruned item leaves so that it never
// comes back as new.
type TombstoneRecord struct {
	SourceID string
	// ItemID is the item's stored id; empty when the store kept only its
	// hash (IDHash).
	ItemID string
	// IDHash is the SHA-256 of the item's stored id, set when ItemID is
	// empty: a PostgreSQL store pruned before its schema 2 kept no more.
	IDHash []byte
	// Seen is when a fetch last carried the item.
	Seen time.Time
}

// DecisionRecord is an editor's decision about an item in a section.
type DecisionRecord struct {
	SectionID string
	Edit      Edit
}

// SectionRecord is a section's stored version.
type SectionRecord struct {
	ID      string
	Version newsdesk.SectionVersion
}

// Dumper is a store that can stream every record it holds (`newsdesk
// migrate` reads it).
type Dumper interface {
	// Dump calls fn with every record of the store, read in one consistent
	// snapshot: first every Source, then each source's items, tombstones
	// and articles, then the editorial decisions, the section versions,
	// the hub subscriptions and the push subscriptions.
	// It stops at fn's first error and returns it.
	Dump(ctx context.Context, fn func(Entry) error) error
}

// Loader is a store that can take the records of another (`newsdesk
// migrate` writes it).
type Loader interface {
	// Load starts loading records into the store, which must hold no data
	// yet (no fetch state, items, tombstones, decisions, section
	// versions or WebSub subscriptions): one that does is refused with an error matching
	// ErrNotEmpty that says what it holds.
	Load(ctx context.Context) (RecordWriter, error)
}

// RecordWriter writes records into a store being loaded, in transactions
// of LoadBatch records; a source's Entry comes before its items and
// tombstones. Commit ends it, or Abort, also after Commit.
type RecordWriter interface {
	// Write stores r (in the next transaction), or returns an error
	// matching ErrSkipped when the store cannot take it: the load goes on.
	Write(r Entry) error
	// Commit writes the records not yet written and ends the load.
	Commit() error
	// Abort removes what the load wrote (also once committed), leaving
	// the store empty again, and ends it.
	Abort() error
}

// LoadBatch is how many records a RecordWriter writes per transaction.
const LoadBatch = 5000

// Batcher is the RecordWriter of an engine's Load: it gathers the records
// Check takes and hands them to Flush LoadBatch at a time (one transaction
// each); Abort calls Undo.
type Batcher struct {
	// Check returns an error matching ErrSkipped for a record the engine
	// cannot take; nil takes every record.
	Check   func(Entry) error
	Flush   func([]Entry) error
	Undo    func() error
	pending []Entry
}

// Write takes r into the next transaction.
func (b *Batcher) Write(r Entry) error {
	if b.Check != nil {
		if err := b.Check(r); err != nil {
			return err
		}
	}
	b.pending = append(b.pending, r)
	if len(b.pending) >= LoadBatch {
		return b.flush()
	}
	return nil
}

// Commit writes the records not yet written.
func (b *Batcher) Commit() error { return b.flush() }

// Abort drops the records not yet written and undoes the load.
func (b *Batcher) Abort() error {
	b.pending = nil
	return b.Undo()
}

func (b *Batcher) flush() error {
	if len(b.pending) == 0 {
		return nil
	}
	err := b.Flush(b.pending)
	b.pending = b.pending[:0]
	return err
}

var (
	// ErrNotEmpty: a store to load into already holds data.
	ErrNotEmpty = errors.New("the store to copy into is not empty")
	// ErrSkipped: a record the store cannot take (RecordWriter.Write).
	ErrSkipped = errors.New("record skipped")
)

// CopyReport is what Copy copied.
type CopyReport struct {
	Sources    int `json:"sources"`
	Items      int `json:"items"`
	Tombstones int `json:"tombstones"`
	Decisions  int `json:"decisions"`
	Sections   int `json:"sections"`
	Articles   int `json:"articles,omitempty"`
	// WebSub counts the WebSub subscriptions, hub and push.
	WebSub int `json:"websub_subscriptions,omitempty"`
	// Total is the number of items the original counted: Items once done.
	Total int `json:"-"`
	// Skipped counts the records of each kind ("tombstone", ...) the copy
	// could not take, and Why says why, once per kind.
	Skipped map[string]int    `json:"skipped,omitempty"`
	Why     map[string]string `json:"-"`
	// Notes are what the operator should know about the original.
	Notes []string `json:"notes,omitempty"`
}

// Copy copies every record of src into dst, which must be empty, then
// checks that each source holds as many items in dst as src holds.
// progress, when not nil, is called with the report so far every
// LoadBatch records. On an error, what was loaded is removed again
// (RecordWriter.Abort).
func Copy(ctx context.Context, src, dst Store, progress func(CopyReport)) (CopyReport, error) {
	dumper, ok := src.(Dumper)
	if !ok {
		return CopyReport{}, fmt.Errorf("the store %s cannot be copied: its engine cannot list its records", src.Path())
	}
	loader, ok := dst.(Loader)
	if !ok {
		return CopyReport{}, fmt.Errorf("the store %s cannot be copied into: its engine cannot load records", dst.Path())
	}
	w, err := loader.Load(ctx)
	if err != nil {
		return CopyReport{}, err
	}
	c := &copier{w: w, progress: progress, held: map[string]int{}, counted: map[string]int{}}
	err = dumper.Dump(ctx, c.write)
	if err == nil {
		err = w.Commit()
	}
	if err == nil {
		err = c.check(dst)
	}
	if err == nil {
		return c.report, nil
	}
	if aerr := w.Abort(); aerr != nil {
		return c.report, fmt.Errorf("copy %s into %s: %w; and %w", src.Path(), dst.Path(), err, aerr)
	}
	return c.report, fmt.Errorf("copy %s into %s: %w (what was loaded is removed again)", src.Path(), dst.Path(), err)
}

// copier is one Copy's count of what passes through it.
type copier struct {
	w        RecordWriter
	progress func(CopyReport)
	report   CopyReport
	held     map[string]int // items streamed, by source
	counted  map[string]int // items the original counted, by source
	n        int
}

// write passes one record on and counts it.
func (c *copier) write(r Entry) error {
	err := c.w.Write(r)
	kind := r.kind()
	if errors.Is(err, ErrSkipped) {
		if c.report.Skipped == nil {
			c.report.Skipped, c.report.Why = map[string]int{}, map[string]string{}
		}
		if c.report.Skipped[kind] == 0 {
			c.report.Why[kind] = err.Error()
		}
		c.report.Skipped[kind]++
		err = nil
	} else if err == nil {
		c.count(r)
	}
	if err != nil {
		return err
	}
	if c.n++; c.progress != nil && c.n%LoadBatch == 0 {
		c.progress(c.report)
	}
	return nil
}

func (c *copier) count(r Entry) {
	switch {
	case r.Source != nil:
		c.report.Sources++
		c.report.Total += r.Source.Items
		c.counted[r.Source.ID] = r.Source.Items
	case r.Item != nil:
		c.report.Items++
		c.held[r.Item.SourceID]++
	case r.Tombstone != nil:
		c.report.Tombstones++
	case r.Decision != nil:
		c.report.Decisions++
	case r.Section != nil:
		c.report.Sections++
	case r.Article != nil:
		c.report.Articles++
	case r.HubSub != nil, r.PushSub != nil:
		c.report.WebSub++
	}
}

func (r Entry) kind() string {
	switch {
	case r.Source != nil:
		return "source"
	case r.Item != nil:
		return "item"
	case r.Tombstone != nil:
		return "tombstone"
	case r.Decision != nil:
		return "editorial decision"
	case r.Article != nil:
		return "article"
	case r.HubSub != nil:
		return "hub subscription"
	case r.PushSub != nil:
		return "push subscription"
	}
	return "section version"
}

// check compares each source's item count in dst with the items that
// were copied, and notes sources whose count in the original was wrong.
func (c *copier) check(dst Store) error {
	ids := make([]string, 0, len(c.counted))
	for id := range c.counted {
		ids = append(ids, id)
	}
	for id := range c.held {
		if _, ok := c.counted[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		n, err := dst.CountItems(id)
		if err != nil {
			return err
		}
		if n != c.held[id] {
			return fmt.Errorf("source %s: %d items copied, but the copy counts %d", id, c.held[id], n)
		}
		if c.counted[id] != c.held[id] {
			c.report.Notes = append(c.report.Notes, fmt.Sprintf("source %s: the original counted %d items but holds %d; the copy counts %d", id, c.counted[id], c.held[id], n))
		}
	}
	c.report.Total = c.report.Items
	return nil
}
