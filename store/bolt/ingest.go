package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// SaveFetch stores one fetch of st.SourceID in one transaction: its items,
// the pruning that retention asks for, and the source's new fetch state.
// Concurrent saves may share that transaction (commit.go).
// New items get FirstSeen = st.LastFetch; items without a date (zero
// Published) are dated by their first-seen time. An item already stored is
// updated in place when anything about it changed; its FirstSeen stays, and
// its Updated moves to the fetch time when the feed did not move it. An item
// that was pruned earlier is not stored again. The returned state has New
// and Updated filled in, also in its last History entry, and Skipped and
// SkipReason.
//
// What to keep is decided before anything is written: retention is applied
// to the stored items and the incoming ones together, an incoming item it
// would prune is never written (it only leaves a tombstone), and the rest
// are written in key order, bucket by bucket. bbolt does not split a node
// until commit: writing out of order shifts every key of a fresh bucket on
// each put, and pruning from the front of what was just written shifts
// them on each delete, which made one big fetch quadratic. Done this way
// it costs about the same per item for 10 items or 300,000.
//
// One item never fails its siblings: an id too long for a bbolt key is
// stored under a stable hash of itself (storedID), a title is cut to
// newsdesk.MaxTitle, an index entry whose key cannot fit is left out, and an
// item that still cannot be stored is skipped and counted in Skipped.
func (db *DB) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	if st.SourceID == "" {
		return st, errors.New("save fetch: empty source id")
	}
	now := st.LastFetch.UTC()
	var saved newsdesk.FetchState
	err := db.commit(len(items)+1, func(tx *bbolt.Tx) error {
		// From st afresh each time: a group commit may run this twice.
		saved = st
		saved.History = slices.Clone(st.History)
		b, err := ingest(tx, st.SourceID, items, keep, now, true)
		if err != nil {
			return err
		}
		b.Fill(&saved)
		return putJSON(tx.Bucket(bucketState), []byte(st.SourceID), saved)
	})
	if err != nil {
		return st, fmt.Errorf("save fetch of %s: %w", st.SourceID, err)
	}
	return saved, nil
}

// ingest stores items of source id in tx as a fetch (full) or a push
// does: batch, retention, write. It returns the batch, counted.
func ingest(tx *bbolt.Tx, id string, items []newsdesk.Item, keep newsdesk.Retention, now time.Time, full bool) (*batch, error) {
	src, err := openSource(tx, id)
	if err != nil {
		return nil, err
	}
	b, err := src.batch(items, now)
	if err != nil {
		return nil, err
	}
	if err := src.retain(b, keep); err != nil {
		return nil, err
	}
	return b, src.write(b, now, full)
}

// incoming is an item of the fetch that is new or changed: written unless
// retention drops it.
type incoming struct {
	rec  storedItem
	data []byte      // rec encoded (record.go)
	old  *storedItem // the stored version of a changed item
	key  []byte      // its time-index key
	drop bool        // retention drops it: tombstone only
	skip bool        // it cannot be stored: left alone
}

// batch is what a fetch changes in a source, decided before any write.
type batch struct {
	fresh   []*incoming  // new and changed items, in time-index key order
	refresh [][]byte     // ids of pruned items the feed still carries: tombstones renewed
	pruned  []storedItem // stored items retention drops
	stale   [][]byte     // time-index keys of items that are not stored
	count   uint64       // stored items after the fetch
	store.Tally
}

// batch sorts a fetch's items into new, changed, unchanged, pruned before
// (their tombstones are renewed) and unstorable (skipped). When the feed
// carries an id twice, the first wins.
func (s *source) batch(items []newsdesk.Item, now time.Time) (*batch, error) {
	b := &batch{count: s.count}
	for _, it := range store.Storable(items) {
		in, renew, err := s.classify(it, now)
		if err != nil {
			return nil, err
		}
		switch {
		case renew:
			b.refresh = append(b.refresh, []byte(it.ID))
		case in == nil: // unchanged
		case in.old == nil:
			b.Added++
			b.count++
			b.fresh = append(b.fresh, in)
		default:
			b.Changed++
			b.fresh = append(b.fresh, in)
		}
	}
	slices.SortFunc(b.fresh, func(x, y *incoming) int { return bytes.Compare(x.key, y.key) })
	return b, nil
}

// classify works out what storing one fetched item means (store.Classify):
// nil for an unchanged item, renew for one pruned before (the feed still
// carries it), else the record to write (encoded later, if retention
// keeps it).
func (s *source) classify(it newsdesk.Item, now time.Time) (in *incoming, renew bool, err error) {
	old, found, err := getItem(s.items, s.id, it.ID)
	if err != nil {
		return nil, false, err
	}
	var prev *storedItem
	if found {
		prev = &old
	}
	rec, renew := store.Classify(s.id, it, prev, !found && s.seen.Get([]byte(it.ID)) != nil, now)
	if rec == nil {
		return nil, renew, nil
	}
	return &incoming{rec: *rec, key: timeKey(rec.Published, rec.ID), old: prev}, false, nil
}

// encode encodes the items retention keeps (record.go); only those, as a big
// fetch's dropped items are never written. An item that cannot be encoded
// is skipped: not written, not remembered, a changed one left as stored.
// Retention counted it as kept, so the source keeps one item fewer.
func (b *batch) encode() {
	for _, in := range b.fresh {
		if in.drop {
			continue
		}
		data, err := encodeItem(&in.rec)
		if err == nil && int64(len(data)) > bbolt.MaxValueSize {
			err = fmt.Errorf("%d bytes: more than a bbolt value holds", len(data))
		}
		if err == nil {
			in.data = data
			continue
		}
		in.skip = true
		if in.old == nil {
			b.count--
		}
		b.Skip(in.rec.ID, in.old == nil, err)
	}
}

// retain applies retention to the stored items and the batch's together,
// as if all were stored: from the oldest end, items older than MaxAge
// before the newest item, or beyond the newest MaxItems, go, but the newest
// MinItems stay. It marks the incoming items that go and lists the stored
// ones; nothing is written.
func (s *source) retain(b *batch, keep newsdesk.Retention) error {
	if !store.Active(keep) {
		return nil
	}
	// The time-index keys of changed items move: their stored keys are
	// not part of what is kept, their new ones are in the batch.
	moved := map[string]bool{}
	for _, in := range b.fresh {
		if in.old != nil {
			moved[string(timeKey(in.old.Published, in.old.ID))] = true
		}
	}
	c := s.bytime.Cursor()
	skipMoved := func(k []byte, step func() ([]byte, []byte)) []byte {
		for k != nil && moved[string(k)] {
			k, _ = step()
		}
		return k
	}
	first, _ := c.First()
	stored := skipMoved(first, c.Next)
	newest, _ := c.Last()
	newest = skipMoved(newest, c.Prev)
	if n := len(b.fresh); n > 0 && (newest == nil || bytes.Compare(b.fresh[n-1].key, newest) > 0) {
		newest = b.fresh[n-1].key
	}
	if newest == nil {
		return nil
	}
	p := store.NewPruner(keep, int64(b.count), keyTime(newest))
	defer func() { b.count = uint64(p.Count) }()
	// Walk both in key order from the oldest; the cursor is repositioned
	// because finding the newest moved it.
	if stored != nil {
		stored = slices.Clone(stored)
		c.Seek(stored)
	}
	j := 0
	for {
		fromStored := stored != nil && (j == len(b.fresh) || bytes.Compare(stored, b.fresh[j].key) < 0)
		var k []byte
		switch {
		case fromStored:
			k = stored
		case j < len(b.fresh):
			k = b.fresh[j].key
		default:
			return nil
		}
		if !p.Drop(keyTime(k)) {
			return nil
		}
		if !fromStored {
			b.fresh[j].drop = true
			j++
			continue
		}
		it, found, err := getItem(s.items, s.id, string(k[8:]))
		if err != nil {
			return err
		}
		if found {
			b.pruned = append(b.pruned, it)
		} else {
			b.stale = append(b.stale, k) // an index entry without its item: not counted
			p.Count++
		}
		next, _ := c.Next()
		if stored = skipMoved(next, c.Next); stored != nil {
			stored = slices.Clone(stored)
		}
	}
}

// write applies a batch: first every delete, on nodes as they were read,
// then every put, bucket by bucket in key order, so that bbolt only ever
// appends to the nodes it grows. Tombstones whose item the feed has not
// carried for store.TombstoneTTL are forgotten when full is set (a full
// fetch: what the feed lacks is gone from it); a push leaves them.
func (s *source) write(b *batch, now time.Time, full bool) error {
	b.encode()
	tombs := b.refresh
	for _, in := range b.fresh {
		if in.skip {
			continue
		}
		if in.old != nil {
			if err := s.unindex(*in.old); err != nil {
				return err
			}
		}
		if in.drop {
			tombs = append(tombs, []byte(in.rec.ID))
			if in.old != nil {
				if err := s.deleteItem([]byte(in.rec.ID)); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range b.stale {
		if err := s.bytime.Delete(k); err != nil {
			return err
		}
	}
	for _, it := range b.pruned {
		if err := s.unindex(it); err != nil {
			return err
		}
		if err := s.deleteItem([]byte(it.ID)); err != nil {
			return err
		}
		tombs = append(tombs, []byte(it.ID))
	}
	if full {
		if err := s.expireTombstones(now); err != nil {
			return err
		}
	}

	var ids, links, titles []entry
	for _, in := range b.fresh {
		if in.drop || in.skip {
			continue
		}
		ids = append(ids, entry{[]byte(in.rec.ID), in.data})
		links, titles = appendIndexEntries(links, titles, s.id, &in.rec)
	}
	times := make([]entry, 0, len(ids))
	for _, in := range b.fresh { // already in key order
		if !in.drop && !in.skip {
			times = append(times, entry{in.key, nil})
		}
	}
	stamp := timeBytes(now)
	seen := make([]entry, len(tombs))
	for i, id := range tombs {
		seen[i] = entry{id, stamp}
	}
	for _, w := range []struct {
		b       *bbolt.Bucket
		entries []entry
	}{{s.items, ids}, {s.bytime, times}, {s.links, links}, {s.titles, titles}, {s.seen, seen}} {
		if err := putSorted(w.b, w.entries); err != nil {
			return err
		}
	}
	s.count = b.count
	return s.saveCount()
}

// entry is one key and value to put.
type entry struct{ k, v []byte }

// putSorted puts entries in key order.
func putSorted(b *bbolt.Bucket, entries []entry) error {
	slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.k, y.k) })
	for _, e := range entries {
		if err := b.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// deleteItem removes an item's record, and its article and page when it
// has them; its index entries are unindex's.
func (s *source) deleteItem(id []byte) error {
	for _, b := range []*bbolt.Bucket{s.articles, s.pages, s.items} {
		if b == nil {
			continue
		}
		if err := b.Delete(id); err != nil {
			return err
		}
	}
	return nil
}

// unindex removes an item's time-index, link and title entries.
func (s *source) unindex(it storedItem) error {
	if err := s.bytime.Delete(timeKey(it.Published, it.ID)); err != nil {
		return err
	}
	link, title := indexEntries(s.id, &it)
	if link != nil {
		if err := s.links.Delete(link.k); err != nil {
			return err
		}
	}
	if title != nil {
		return s.titles.Delete(title.k)
	}
	return nil
}

// expireTombstones forgets the tombstones whose item the feed has not
// carried for store.TombstoneTTL.
func (s *source) expireTombstones(now time.Time) error {
	expired := now.Add(-store.TombstoneTTL)
	c := s.seen.Cursor()
	for k, v := c.First(); k != nil; {
		if len(v) == 8 && bytesTime(v).Before(expired) {
			if err := c.Delete(); err != nil {
				return err
			}
			k, v = c.Seek(k)
			continue
		}
		k, v = c.Next()
	}
	return nil
}

// source is one source's buckets inside a write transaction. articles
// and pages are nil when the source has none (it never had full text).
type source struct {
	id                    string
	items, bytime, seen   *bbolt.Bucket
	counts, links, titles *bbolt.Bucket
	articles, pages       *bbolt.Bucket
	count                 uint64
}

func openSource(tx *bbolt.Tx, id string) (*source, error) {
	s := &source{id: id, counts: tx.Bucket(bucketCounts), links: tx.Bucket(bucketLinks), titles: tx.Bucket(bucketTitles),
		articles: nested(tx, bucketArticles, id), pages: nested(tx, bucketPages, id)}
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
	if s.count == 0 {
		// A source's first fetch writes its whole feed, in key order, into
		// an empty bucket: full pages. Later fetches insert among them, where
		// full pages would split into a full one and an almost empty one.
		s.items.FillPercent = 1
	}
	return s, nil
}

func (s *source) saveCount() error {
	return s.counts.Put([]byte(s.id), binary.BigEndian.AppendUint64(nil, s.count))
}

// SaveState stores a source's fetch state alone: a 304 or a failed fetch.
func (db *DB) SaveState(st newsdesk.FetchState) error {
	err := db.commit(1, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketState), []byte(st.SourceID), st)
	})
	if err != nil {
		return fmt.Errorf("save state of %s: %w", st.SourceID, err)
	}
	return nil
}
