// Package store keeps newsdesk's sources' fetch state and items in one bbolt
// file. It is the only package that imports bbolt.
//
// Bucket layout (keys and values are bytes; TIME is 8 bytes, see below):
//
//	meta                  "schema" -> "3" (see migrate.go)
//	                      "removed" -> {SOURCE_ID: TIME} (JSON): when each source was first seen missing from feeds.yaml
//	state                 SOURCE_ID -> FetchState (JSON)
//	counts                SOURCE_ID -> number of stored items (8 bytes)
//	items / SOURCE_ID     ITEM_ID -> Item (JSON)
//	bytime / SOURCE_ID    TIME(published) ITEM_ID -> nil
//	seen / SOURCE_ID      ITEM_ID -> TIME(last seen in the feed): tombstones of pruned items
//	links                 CANONICAL_LINK 0 TIME(first seen) SOURCE_ID 0 ITEM_ID -> nil
//	titles                TITLE_KEY 0 TIME(published) SOURCE_ID 0 ITEM_ID -> TIME(first seen)
//	editorial / SECTION   SOURCE_ID 0 ITEM_ID -> Edit (JSON): pinned and hidden items
//	sections              SECTION_ID -> SectionVersion (JSON {"hash","changed_at"}), see sections.go
//
// TIME is Unix nanoseconds with the sign bit flipped, big-endian, so keys
// sort by time for dates before and after 1970 alike.
//
// Reads that serve sections cost what they return, not what is stored: the
// newest items of a set of sources come from walking each source's bytime
// bucket backwards and merging; duplicates across sources are found through
// the links and titles indexes, one prefix seek per item.
//
// A fetch is one transaction (SaveFetch): its items, the pruning that
// retention asks for, and the source's new fetch state, so a crash can
// never keep a validator whose items were lost. Pruned items leave a
// tombstone that lives as long as the feed still carries the item, and
// tombstoneTTL after, so pruning never lets an old item come back as new.
// The store must not do network I/O or hold a transaction open across it:
// callers fetch first and save after.
package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

var (
	bucketMeta   = []byte("meta")
	bucketState  = []byte("state")
	bucketCounts = []byte("counts")
	bucketItems  = []byte("items")
	bucketByTime = []byte("bytime")
	bucketSeen   = []byte("seen")
	bucketLinks  = []byte("links")
	bucketTitles = []byte("titles")
	bucketEdits  = []byte("editorial")
	keySchema    = []byte("schema")
)

// schemaVersion is the version of the layout above that this code reads
// and writes; migrations (migrate.go) bring older files up to it.
const schemaVersion = 3

// tombstoneTTL is how long a pruned item's id is remembered after the feed
// last carried it. Feeds drop old items; one that has been gone from its feed
// for this long does not come back.
const tombstoneTTL = 30 * 24 * time.Hour

// titleWindow is how close in time two near-identical titles from different
// sources must be to count as the same story.
const titleWindow = 48 * time.Hour

// DB is an open newsdesk database.
type DB struct {
	bdb      *bbolt.DB
	path     string
	borrowed bool // Close is a no-op: the owner closes
	health   *health
	notices  []string // what Open did that the operator should hear about
}

// DB is a store.Store, and copies itself (store.Backuper).
var (
	_ store.Store    = (*DB)(nil)
	_ store.Backuper = (*DB)(nil)
)

// Borrow returns a handle on the same open database whose Close does
// nothing, for code that closes what it is given while the owner keeps the
// database open (a command run inside `newsdesk serve`).
func (db *DB) Borrow() store.Store {
	return &DB{bdb: db.bdb, path: db.path, borrowed: true, health: db.health}
}

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file. Zero means do not wait.
	LockTimeout time.Duration
	ReadOnly    bool
}

// Open opens (creating it and its folder if needed) the database at path.
// A file that is not a sound bbolt file is refused with a DamagedError
// (an empty one too: it is not silently made a new database). Opened to
// write, it removes the temporary files earlier commands that were killed
// left beside it, and migrates a database of an older schema (see
// migrate.go); one of a newer schema is refused.
func Open(path string, opts Options) (*DB, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	b, file, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	db := &DB{bdb: b, path: path, health: &health{file: file}}
	if !opts.ReadOnly {
		if note := removeStaleTemps(path); note != "" {
			db.notices = append(db.notices, note)
		}
	}
	if err := db.prepare(opts); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openBolt opens the bbolt file at path, after checking under its lock
// that bbolt can map it safely (checkFile). It returns the open file too.
func openBolt(path string, opts Options) (*bbolt.DB, *os.File, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		// bbolt treats 0 as "wait forever"; the smallest wait is the closest
		// to "do not wait" it offers.
		timeout = 50 * time.Millisecond
	}
	for {
		var file *os.File
		openFile := func(name string, flag int, mode os.FileMode) (*os.File, error) {
			if file != nil { // bbolt reopening for Tx.WriteTo with a WriteFlag
				return os.OpenFile(name, flag, mode)
			}
			_, statErr := os.Stat(name)
			f, err := os.OpenFile(name, flag, mode)
			if err != nil {
				return nil, err
			}
			if err := lockFile(f, !opts.ReadOnly, timeout); err != nil {
				f.Close()
				return nil, err
			}
			info, err := checkFile(f)
			if err != nil {
				f.Close()
				return nil, err
			}
			// An empty file this call created is a new database; one that
			// was there before is what is left of a damaged one.
			created := errors.Is(statErr, fs.ErrNotExist) && info.size == 0
			if info.fault != "" && !created {
				f.Close()
				return nil, &DamagedError{Path: path, Fault: info.fault}
			}
			file = f
			return f, nil
		}
		var b *bbolt.DB
		err := guarded(path, func() error {
			var err error
			b, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly, OpenFile: openFile})
			return err
		})
		if errors.Is(err, bbolt.ErrTimeout) {
			_, holder := LockHolder(path)
			if holder == "" {
				holder = "another process (`newsdesk serve`, or a `newsdesk run` still going?)"
			}
			return nil, nil, &lockedError{path: path, holder: holder}
		}
		if errors.Is(err, store.ErrDamaged) {
			if b == nil && file != nil { // bbolt faulted after opening the file
				file.Close()
			}
			return nil, nil, err
		}
		if err != nil {
			return nil, nil, fmt.Errorf("open database %s: %w", path, err)
		}
		// While this waited for the lock, `newsdesk compact` may have
		// renamed a new file over the one it opened: writes to the old one
		// would be lost. Open again until the locked file is the one at path.
		if sameFile(file, path) {
			return b, file, nil
		}
		b.Close()
	}
}

func sameFile(f *os.File, path string) bool {
	if f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database, waiting for running transactions to finish.
func (db *DB) Close() error {
	if db.borrowed {
		return nil
	}
	if db.health.wedged.Load() {
		// A panic inside bbolt left its writer lock held, which bbolt's
		// Close would wait for forever: release the file (and its lock)
		// and leave the mapping to the end of the process.
		return db.health.file.Close()
	}
	return db.bdb.Close()
}

// Ping reports whether the database answers a read. Once a transaction
// has found the file damaged, it returns that DamagedError.
func (db *DB) Ping() error {
	return db.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("database has no meta bucket")
		}
		return nil
	})
}

// storedItem is an item as kept on disk. Dated records whether the feed gave
// the item a date of its own, so that a re-fetch of an undated item keeps its
// first-seen date instead of looking changed.
type storedItem struct {
	newsdesk.Item
	Dated bool `json:",omitempty"`
}

// source is one source's buckets inside a write transaction.
type source struct {
	id                    string
	items, bytime, seen   *bbolt.Bucket
	counts, links, titles *bbolt.Bucket
	count                 uint64
}

func openSource(tx *bbolt.Tx, id string) (*source, error) {
	s := &source{id: id, counts: tx.Bucket(bucketCounts), links: tx.Bucket(bucketLinks), titles: tx.Bucket(bucketTitles)}
	var err error
	if s.items, err = tx.Bucket(bucketItems).CreateBucketIfNotExists([]byte(id)); err != nil {
		return nil, err
	}
	if s.bytime, err = tx.Bucket(bucketByTime).CreateBucketIfNotExists([]byte(id)); err != nil {
		return nil, err
	}
	if s.seen, err = tx.Bucket(bucketSeen).CreateBucketIfNotExists([]byte(id)); err != nil {
		return nil, err
	}
	// Items arrive mostly newest-last: time keys are appended at the end of
	// bytime, and ids often grow too, so pages are filled before they split
	// rather than split in half (bbolt's default), which left the file 60%
	// empty in the benchmark.
	s.bytime.FillPercent = 0.9
	s.items.FillPercent = 0.8
	if v := s.counts.Get([]byte(id)); len(v) == 8 {
		s.count = binary.BigEndian.Uint64(v)
	}
	return s, nil
}

func (s *source) saveCount() error {
	return s.counts.Put([]byte(s.id), binary.BigEndian.AppendUint64(nil, s.count))
}

// SaveState stores a source's fetch state alone: a 304 or a failed fetch.
func (db *DB) SaveState(st newsdesk.FetchState) error {
	err := db.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketState), []byte(st.SourceID), st)
	})
	if err != nil {
		return fmt.Errorf("save state of %s: %w", st.SourceID, err)
	}
	return nil
}

// State returns the fetch state of a source, or newsdesk.ErrNotFound when it
// was never fetched.
func (db *DB) State(sourceID string) (newsdesk.FetchState, error) {
	var st newsdesk.FetchState
	err := db.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketState).Get([]byte(sourceID))
		if v == nil {
			return newsdesk.ErrNotFound
		}
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return st, fmt.Errorf("state of %s: %w", sourceID, err)
	}
	return st, nil
}

// States returns the fetch state of every source that has one, by id.
func (db *DB) States() ([]newsdesk.FetchState, error) {
	var out []newsdesk.FetchState
	err := db.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketState).ForEach(func(k, v []byte) error {
			var st newsdesk.FetchState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("state of %s: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("states: %w", err)
	}
	return out, nil
}

// CountItems returns how many items of a source are stored.
func (db *DB) CountItems(sourceID string) (int, error) {
	n := 0
	err := db.view(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketCounts).Get([]byte(sourceID)); len(v) == 8 {
			n = int(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count items of %s: %w", sourceID, err)
	}
	return n, nil
}

// Item returns one stored item.
func (db *DB) Item(sourceID, itemID string) (newsdesk.Item, error) {
	var it storedItem
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems).Bucket([]byte(sourceID))
		if b == nil {
			return newsdesk.ErrNotFound
		}
		var found bool
		var err error
		it, found, err = getItem(b, itemID)
		if err == nil && !found {
			err = newsdesk.ErrNotFound
		}
		return err
	})
	if err != nil {
		return newsdesk.Item{}, fmt.Errorf("item %s of %s: %w", itemID, sourceID, err)
	}
	return it.Item, nil
}

// Section returns up to q.Limit items of q.Sources, newest first by
// Published (ties by source id, then item id), skipping those q.Keep
// rejects. A story carried by several of the sources appears once: the item
// seen first is kept, and the others are listed in its Duplicates. It walks
// each source's time index from the newest end and merges, so it reads
// about as many items as it returns.
func (db *DB) Section(q newsdesk.Query) ([]newsdesk.Item, error) {
	out := []newsdesk.Item{}
	if q.Limit <= 0 {
		return out, nil
	}
	sources := dedupe(q.Sources)
	err := db.view(func(tx *bbolt.Tx) error {
		r := &reader{tx: tx, keep: q.Keep, sources: sources, cache: map[newsdesk.ItemRef]*storedItem{}, skip: map[newsdesk.ItemRef]bool{}, pinned: map[newsdesk.ItemRef]bool{}}
		edits, err := editsOf(tx, q.SectionID)
		if err != nil {
			return err
		}
		// Pinned items first, most recently pinned first, whatever the
		// rules say; then the rest by time. Hidden items never.
		skip := r.skip
		for _, e := range edits {
			if !slices.Contains(sources, e.Ref.SourceID) {
				continue // its source left the section
			}
			skip[e.Ref] = true
			if e.Decision != newsdesk.Pin {
				continue
			}
			r.pinned[e.Ref] = true
			if len(out) >= q.Limit {
				continue
			}
			it, err := r.item(e.Ref)
			if err != nil {
				return err
			}
			if it != nil {
				out = append(out, it.Item)
			}
		}
		type head struct {
			src   string
			items *bbolt.Bucket
			c     *bbolt.Cursor
			key   []byte
		}
		var heads []*head
		for _, id := range sources {
			tb := tx.Bucket(bucketByTime).Bucket([]byte(id))
			ib := tx.Bucket(bucketItems).Bucket([]byte(id))
			if tb == nil || ib == nil {
				continue
			}
			h := &head{src: id, items: ib, c: tb.Cursor()}
			if h.key, _ = h.c.Last(); h.key != nil {
				heads = append(heads, h)
			}
		}
		for len(out) < q.Limit && len(heads) > 0 {
			best := 0
			for i := 1; i < len(heads); i++ {
				if newer(heads[i].key, heads[i].src, heads[best].key, heads[best].src) {
					best = i
				}
			}
			h := heads[best]
			ref := newsdesk.ItemRef{SourceID: h.src, ID: string(h.key[8:])}
			it, err := r.item(ref)
			if err != nil {
				return err
			}
			if it != nil && !skip[ref] && r.kept(it) {
				dups, shown, err := r.duplicates(it, q.DedupeTitles)
				if err != nil {
					return err
				}
				if shown {
					item := it.Item
					item.Duplicates = dups
					out = append(out, item)
				}
			}
			if h.key, _ = h.c.Prev(); h.key == nil {
				heads = append(heads[:best], heads[best+1:]...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("section items: %w", err)
	}
	return out, nil
}

// SetDecision records an editor's decision about an item in a section, or
// removes the one recorded when d is empty. Decisions are kept apart from
// items, so re-fetches never undo them.
func (db *DB) SetDecision(sectionID string, ref newsdesk.ItemRef, d newsdesk.Decision, at time.Time) error {
	err := db.update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketEdits).CreateBucketIfNotExists([]byte(sectionID))
		if err != nil {
			return err
		}
		key := editKey(ref)
		if d == "" {
			return b.Delete(key)
		}
		return putJSON(b, key, store.Edit{Ref: ref, Decision: d, At: at.UTC()})
	})
	if err != nil {
		return fmt.Errorf("record %s of %s in %s: %w", d, ref.Short(), sectionID, err)
	}
	return nil
}

// editKey is the key of a decision about ref: SOURCE 0 ID, with the id
// hashed as storedID does when the whole would be too long for a bbolt key
// (an id a little under the items' limit, with a long source id). The
// decision itself, with the full ref, is the value.
func editKey(ref newsdesk.ItemRef) []byte {
	if k := ref.SourceID + "\x00" + ref.ID; len(k) <= bbolt.MaxKeySize {
		return []byte(k)
	}
	sum := sha256.Sum256([]byte(ref.ID))
	return []byte(ref.SourceID + "\x00sha256:" + hex.EncodeToString(sum[:]))
}

// Edits returns the editorial decisions of a section, most recent first.
func (db *DB) Edits(sectionID string) ([]store.Edit, error) {
	var out []store.Edit
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		out, err = editsOf(tx, sectionID)
		return err
	})
	return out, err
}

func editsOf(tx *bbolt.Tx, sectionID string) ([]store.Edit, error) {
	if sectionID == "" {
		return nil, nil
	}
	b := tx.Bucket(bucketEdits).Bucket([]byte(sectionID))
	if b == nil {
		return nil, nil
	}
	var out []store.Edit
	err := b.ForEach(func(k, v []byte) error {
		var e store.Edit
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("editorial decision %q: %w", k, err)
		}
		out = append(out, e)
		return nil
	})
	slices.SortStableFunc(out, func(a, b store.Edit) int { return b.At.Compare(a.At) })
	return out, err
}

// Items calls fn with each stored item of a source, in id order, until fn
// returns false.
func (db *DB) Items(sourceID string, fn func(newsdesk.Item) bool) error {
	return db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems).Bucket([]byte(sourceID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var it storedItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("item %q of %s: %w", k, sourceID, err)
			}
			if !fn(it.Item) {
				return nil
			}
		}
		return nil
	})
}

// reader reads items for one section query, remembering what it decoded
// and what the section's rules said.
type reader struct {
	tx      *bbolt.Tx
	keep    func(*newsdesk.Item) bool
	sources []string
	cache   map[newsdesk.ItemRef]*storedItem // nil value: not stored
	verdict map[newsdesk.ItemRef]bool
	skip    map[newsdesk.ItemRef]bool // pinned (shown already) and hidden items
	pinned  map[newsdesk.ItemRef]bool
}

func (r *reader) item(ref newsdesk.ItemRef) (*storedItem, error) {
	if it, ok := r.cache[ref]; ok {
		return it, nil
	}
	var out *storedItem
	if b := r.tx.Bucket(bucketItems).Bucket([]byte(ref.SourceID)); b != nil {
		it, found, err := getItem(b, ref.ID)
		if err != nil {
			return nil, err
		}
		if found {
			out = &it
		}
	}
	r.cache[ref] = out
	return out, nil
}

func (r *reader) kept(it *storedItem) bool {
	if r.keep == nil {
		return true
	}
	ref := newsdesk.ItemRef{SourceID: it.SourceID, ID: it.ID}
	if r.verdict == nil {
		r.verdict = map[newsdesk.ItemRef]bool{}
	}
	v, ok := r.verdict[ref]
	if !ok {
		v = r.keep(&it.Item)
		r.verdict[ref] = v
	}
	return v
}

// candidate is another section item that may be the same story.
type candidate struct {
	ref       newsdesk.ItemRef
	firstSeen time.Time
}

// duplicates finds the other items of the section that are the same story
// as it. shown is false when one of them was seen first: that one is shown
// instead and it is one of its duplicates.
func (r *reader) duplicates(it *storedItem, titles bool) (dups []newsdesk.ItemRef, shown bool, err error) {
	self := newsdesk.ItemRef{SourceID: it.SourceID, ID: it.ID}
	var cands []candidate
	if it.Link != "" {
		prefix := append([]byte(it.Link), 0)
		c := r.tx.Bucket(bucketLinks).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			rest := k[len(prefix):]
			if len(rest) < 9 {
				continue
			}
			src, id, _ := strings.Cut(string(rest[8:]), "\x00")
			cands = append(cands, candidate{newsdesk.ItemRef{SourceID: src, ID: id}, bytesTime(rest[:8])})
		}
	}
	if t := titleKey(it.Title); titles && t != "" {
		prefix := append([]byte(t), 0)
		from := append(slices.Clone(prefix), timeBytes(it.Published.Add(-titleWindow))...)
		until := it.Published.Add(titleWindow)
		c := r.tx.Bucket(bucketTitles).Cursor()
		for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			rest := k[len(prefix):]
			if len(rest) < 9 || len(v) != 8 || bytesTime(rest[:8]).After(until) {
				break
			}
			src, id, _ := strings.Cut(string(rest[8:]), "\x00")
			if src != it.SourceID { // titles collapse across sources only
				cands = append(cands, candidate{newsdesk.ItemRef{SourceID: src, ID: id}, bytesTime(v)})
			}
		}
	}
	winner, winnerSeen := self, it.FirstSeen
	seen := map[newsdesk.ItemRef]bool{self: true}
	for _, c := range cands {
		if r.pinned[c.ref] {
			return nil, false, nil // the same story is pinned: shown there
		}
		if seen[c.ref] || r.skip[c.ref] || !slices.Contains(r.sources, c.ref.SourceID) {
			continue
		}
		seen[c.ref] = true
		other, err := r.item(c.ref)
		if err != nil {
			return nil, false, err
		}
		if other == nil || !r.kept(other) {
			continue
		}
		dups = append(dups, c.ref)
		if c.firstSeen.Before(winnerSeen) || c.firstSeen.Equal(winnerSeen) && refLess(c.ref, winner) {
			winner, winnerSeen = c.ref, c.firstSeen
		}
	}
	if winner != self {
		return nil, false, nil
	}
	slices.SortFunc(dups, func(a, b newsdesk.ItemRef) int {
		return strings.Compare(a.SourceID+"\x00"+a.ID, b.SourceID+"\x00"+b.ID)
	})
	return dups, true, nil
}

func refLess(a, b newsdesk.ItemRef) bool {
	return a.SourceID < b.SourceID || a.SourceID == b.SourceID && a.ID < b.ID
}

// newer orders time-index keys for Section: later time first, then smaller
// source id, then smaller item id.
func newer(a []byte, asrc string, b []byte, bsrc string) bool {
	if c := bytes.Compare(a[:8], b[:8]); c != 0 {
		return c > 0
	}
	if asrc != bsrc {
		return asrc < bsrc
	}
	return bytes.Compare(a[8:], b[8:]) < 0
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// timeBytes is the sortable 8-byte form of a time.
func timeBytes(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^(1<<63))
}

func bytesTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

// timeKey is the time-index key of an item: its sortable time, then its id.
func timeKey(t time.Time, id string) []byte {
	return append(timeBytes(t), id...)
}

func keyTime(k []byte) time.Time { return bytesTime(k[:8]) }

func linkKey(link string, firstSeen time.Time, src, id string) []byte {
	k := append([]byte(link), 0)
	k = append(k, timeBytes(firstSeen)...)
	return append(append(append(k, src...), 0), id...)
}

func titleIndexKey(title string, published time.Time, src, id string) []byte {
	k := append([]byte(title), 0)
	k = append(k, timeBytes(published)...)
	return append(append(append(k, src...), 0), id...)
}

// titleKey is the form in which two titles that differ only in case,
// punctuation and spacing are equal; "" for titles too short to compare.
func titleKey(title string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(title) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		default:
			space = true
		}
	}
	if len([]rune(b.String())) < 12 {
		return ""
	}
	return b.String()
}

func getItem(b *bbolt.Bucket, id string) (storedItem, bool, error) {
	var it storedItem
	v := b.Get([]byte(id))
	if v == nil {
		return it, false, nil
	}
	if err := json.Unmarshal(v, &it); err != nil {
		return it, false, fmt.Errorf("item %q: %w", id, err)
	}
	return it, true, nil
}

func sameItem(a, b storedItem) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
