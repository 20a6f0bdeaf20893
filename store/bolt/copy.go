package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// DB copies itself into another engine's store and takes another store's
// records (`newsdesk migrate`, see store.Copy).
var (
	_ store.Dumper = (*DB)(nil)
	_ store.Loader = (*DB)(nil)
)

// Dump calls fn with every record of the database, in one read
// transaction: the sources (their states, counts and orphan marks), each
// source's items, tombstones and articles (with their pages), the
// editorial decisions, the section versions, the WebSub subscriptions. The
// indexes are not records: they are rebuilt from the items.
func (db *DB) Dump(ctx context.Context, fn func(store.Entry) error) error {
	err := db.view(func(tx *bbolt.Tx) error {
		d := &dumper{tx: tx, ctx: ctx, fn: fn}
		ids, err := d.sources()
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := d.items(id); err != nil {
				return err
			}
			if err := d.tombstones(id); err != nil {
				return err
			}
			if err := d.articles(id); err != nil {
				return err
			}
		}
		if err := d.decisions(); err != nil {
			return err
		}
		if err := d.sections(); err != nil {
			return err
		}
		return d.webSub()
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", db.path, err)
	}
	return nil
}

// dumper is one Dump's read transaction.
type dumper struct {
	tx  *bbolt.Tx
	ctx context.Context
	fn  func(store.Entry) error
	err error // fn's error in a walk that cannot return one
}

func (d *dumper) emit(r store.Entry) error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	return d.fn(r)
}

// sources emits a record of every source the file knows (a state, a
// count, items, tombstones or an orphan mark) and returns their ids.
func (d *dumper) sources() ([]string, error) {
	marks, err := removedMarks(d.tx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for id := range marks {
		known[id] = true
	}
	for _, name := range [][]byte{bucketState, bucketCounts, bucketItems, bucketSeen} {
		if b := d.tx.Bucket(name); b != nil { // a read-only open of a new file has none
			b.ForEach(func(k, _ []byte) error { known[string(k)] = true; return nil })
		}
	}
	ids := make([]string, 0, len(known))
	for id := range known {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rec := &store.SourceRecord{ID: id, RemovedAt: marks[id]}
		if v := bucketGet(d.tx, bucketState, id); v != nil {
			rec.State = new(newsdesk.FetchState)
			if err := json.Unmarshal(v, rec.State); err != nil {
				return nil, fmt.Errorf("state of %s: %w", id, err)
			}
		}
		if v := bucketGet(d.tx, bucketCounts, id); len(v) == 8 {
			rec.Items = int(binary.BigEndian.Uint64(v))
		}
		if err := d.emit(store.Entry{Source: rec}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// bucketGet is the value of key in the top-level bucket name; nil when
// either is missing.
func bucketGet(tx *bbolt.Tx, name []byte, key string) []byte {
	if b := tx.Bucket(name); b != nil {
		return b.Get([]byte(key))
	}
	return nil
}

// nested is the bucket of source or section id under the top-level bucket
// name; nil when either is missing.
func nested(tx *bbolt.Tx, name []byte, id string) *bbolt.Bucket {
	if b := tx.Bucket(name); b != nil {
		return b.Bucket([]byte(id))
	}
	return nil
}

func (d *dumper) items(src string) error {
	b := nested(d.tx, bucketItems, src)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		it, err := decodeItem(src, k, v)
		if err != nil {
			return fmt.Errorf("item %q of %s: %w", k, src, err)
		}
		it.SourceID = src
		return d.emit(store.Entry{Item: &it})
	})
}

func (d *dumper) tombstones(src string) error {
	b := nested(d.tx, bucketSeen, src)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("tombstone %q of %s: %d bytes, want a time of 8", k, src, len(v))
		}
		return d.emit(store.Entry{Tombstone: &store.TombstoneRecord{SourceID: src, ItemID: string(k), Seen: bytesTime(v)}})
	})
}

// articles emits a source's article records, each with its page.
func (d *dumper) articles(src string) error {
	b := nested(d.tx, bucketArticles, src)
	if b == nil {
		return nil
	}
	pages := nested(d.tx, bucketPages, src)
	return b.ForEach(func(k, v []byte) error {
		h, err := decodeArticleHead(v)
		rec := &store.ArticleRecord{}
		if err == nil {
			rec.Article, err = h.article(src, string(k))
		}
		if err == nil && pages != nil {
			if p := pages.Get(k); p != nil {
				rec.Page, err = decompress(p, store.MaxArticlePage)
			}
		}
		if err != nil {
			return fmt.Errorf("article of item %.80q of %s: %w", k, src, err)
		}
		return d.emit(store.Entry{Article: rec})
	})
}

func (d *dumper) decisions() error {
	edits := d.tx.Bucket(bucketEdits)
	if edits == nil {
		return nil
	}
	return edits.ForEachBucket(func(section []byte) error {
		return edits.Bucket(section).ForEach(func(k, v []byte) error {
			var e store.Edit
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("editorial decision %q in %s: %w", k, section, err)
			}
			return d.emit(store.Entry{Decision: &store.DecisionRecord{SectionID: string(section), Edit: e}})
		})
	})
}

func (d *dumper) sections() error {
	b := d.tx.Bucket(bucketSections)
	if b == nil { // schema 2
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var sv newsdesk.SectionVersion
		if err := json.Unmarshal(v, &sv); err != nil {
			return fmt.Errorf("section %s: version: %w", k, err)
		}
		return d.emit(store.Entry{Section: &store.SectionRecord{ID: string(k), Version: sv}})
	})
}

// webSub emits the hub subscriptions, then the push subscriptions.
func (d *dumper) webSub() error {
	err := eachHubSubscription(d.tx, func(s newsdesk.HubSubscription) bool {
		d.err = d.emit(store.Entry{HubSub: &s})
		return d.err == nil
	})
	if err == nil {
		err = d.err
	}
	if err != nil {
		return err
	}
	b := d.tx.Bucket(bucketPushSubs)
	if b == nil { // before schema 6
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var p newsdesk.PushSubscription
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("push subscription of %s: %w", k, err)
		}
		return d.emit(store.Entry{PushSub: &p})
	})
}

// Load starts loading records into the database, which must hold no
// data. Each store.LoadBatch records are one write transaction, written
// as SaveFetch writes: items with their time, link and title index
// entries, and each source's count from the items written.
func (db *DB) Load(ctx context.Context) (store.RecordWriter, error) {
	var held []string
	err := db.view(func(tx *bbolt.Tx) error {
		held = holdings(tx)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(held) > 0 {
		return nil, fmt.Errorf("%w: %s holds %s", store.ErrNotEmpty, db.path, strings.Join(held, ", "))
	}
	l := &loader{db: db, ctx: ctx, marks: map[string]time.Time{}, fresh: map[newsdesk.ItemRef]bool{}}
	return &store.Batcher{Check: l.check, Flush: l.flush, Undo: l.abort}, nil
}

// holdings says what data the file holds, as "3 sources", "120 items"...
func holdings(tx *bbolt.Tx) []string {
	keys := func(name []byte) int {
		if b := tx.Bucket(name); b != nil {
			return b.Stats().KeyN
		}
		return 0
	}
	var out []string
	for _, h := range []struct {
		n    int
		what string
	}{
		{keys(bucketState), "fetch state"},
		{nestedKeys(tx, bucketItems), "item"},
		{nestedKeys(tx, bucketSeen), "tombstone"},
		{nestedKeys(tx, bucketEdits), "editorial decision"},
		{keys(bucketSections), "section version"},
		{keys(bucketHubSubs) + keys(bucketPushSubs), "WebSub subscription"},
	} {
		if h.n > 0 {
			out = append(out, fmt.Sprintf("%d %s", h.n, plural(h.n, h.what)))
		}
	}
	return out
}

// nestedKeys is how many keys the buckets inside the top-level bucket
// name hold together.
func nestedKeys(tx *bbolt.Tx, name []byte) int {
	n := 0
	if b := tx.Bucket(name); b != nil {
		b.ForEachBucket(func(k []byte) error { n += b.Bucket(k).Stats().KeyN; return nil })
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// loader is a Load in progress.
type loader struct {
	db    *DB
	ctx   context.Context
	marks map[string]time.Time      // every orphan mark loaded so far
	fresh map[newsdesk.ItemRef]bool // the items taken since the last flush
}

// check refuses what keepable refuses, and an article whose item the load
// has not taken.
func (l *loader) check(r store.Entry) error {
	if err := keepable(r); err != nil {
		return err
	}
	switch {
	case r.Item != nil:
		l.fresh[newsdesk.ItemRef{SourceID: r.Item.SourceID, ID: r.Item.ID}] = true
	case r.Article != nil:
		a := r.Article.Article
		if l.fresh[newsdesk.ItemRef{SourceID: a.SourceID, ID: a.ItemID}] {
			return nil
		}
		found := false
		err := l.db.view(func(tx *bbolt.Tx) error {
			found = nestedGet(tx, bucketItems, a.SourceID, a.ItemID) != nil
			return nil
		})
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: the article of item %.80q of %s, which the copy does not hold", store.ErrSkipped, a.ItemID, a.SourceID)
		}
	}
	return nil
}

// keepable refuses a tombstone that has only its item's hash: bbolt
// keeps tombstones by item id.
func keepable(r store.Entry) error {
	if t := r.Tombstone; t != nil && t.ItemID == "" {
		return fmt.Errorf("%w: only the hash of its item's id is known (it was pruned before the PostgreSQL store's schema 2), and a bbolt file keeps tombstones by id", store.ErrSkipped)
	}
	return nil
}

// abort empties the database again: it held no data when the load began,
// and the load's process holds the file's lock.
func (l *loader) abort() error {
	return l.db.update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketState, bucketCounts, bucketItems, bucketByTime, bucketSeen, bucketLinks, bucketTitles, bucketEdits, bucketSections, bucketArticles, bucketPages, bucketHubSubs, bucketPushSubs} {
			if tx.Bucket(name) == nil {
				continue
			}
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(keyRemoved)
	})
}

// flush writes records in one transaction.
func (l *loader) flush(records []store.Entry) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	err := l.db.update(func(tx *bbolt.Tx) error {
		w := &loadTx{tx: tx, sources: map[string]*loadSource{}}
		for _, r := range records {
			if err := w.add(r, l.marks); err != nil {
				return err
			}
		}
		return w.finish(l.marks)
	})
	if err != nil {
		return fmt.Errorf("load into %s: %w", l.db.path, err)
	}
	clear(l.fresh)
	return nil
}

// loadTx is one transaction of a load: the entries of each source's
// buckets are gathered first, then put in key order (putSorted), as
// SaveFetch does.
type loadTx struct {
	tx      *bbolt.Tx
	sources map[string]*loadSource
	order   []*loadSource
}

// loadSource is a source's buckets in a loadTx and the entries to put.
type loadSource struct {
	*source
	putIDs, putTimes, putLinks, putTitles, putSeen []entry
}

func (w *loadTx) source(id string) (*loadSource, error) {
	if s := w.sources[id]; s != nil {
		return s, nil
	}
	src, err := openSource(w.tx, id)
	if err != nil {
		return nil, err
	}
	s := &loadSource{source: src}
	w.sources[id] = s
	w.order = append(w.order, s)
	return s, nil
}

// add takes one record into the transaction.
func (w *loadTx) add(r store.Entry, marks map[string]time.Time) error {
	switch {
	case r.Source != nil:
		return w.addSource(r.Source, marks)
	case r.Item != nil:
		return w.addItem(r.Item)
	case r.Tombstone != nil:
		s, err := w.source(r.Tombstone.SourceID)
		if err != nil {
			return err
		}
		s.putSeen = append(s.putSeen, entry{[]byte(r.Tombstone.ItemID), timeBytes(r.Tombstone.Seen)})
		return nil
	case r.Decision != nil:
		b, err := w.tx.Bucket(bucketEdits).CreateBucketIfNotExists([]byte(r.Decision.SectionID))
		if err != nil {
			return err
		}
		e := r.Decision.Edit
		e.At = e.At.UTC()
		return putJSON(b, editKey(e.Ref), e)
	case r.Section != nil:
		b, err := w.tx.CreateBucketIfNotExists(bucketSections)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(r.Section.ID), r.Section.Version)
	case r.Article != nil:
		return w.addArticle(r.Article)
	case r.HubSub != nil:
		s := *r.HubSub
		s.Created, s.Expires, s.Sent, s.NextTry, s.LastAttempt = s.Created.UTC(), s.Expires.UTC(), s.Sent.UTC(), s.NextTry.UTC(), s.LastAttempt.UTC()
		return putJSON(w.tx.Bucket(bucketHubSubs), hubKey(s.Topic, s.Callback), s)
	case r.PushSub != nil:
		p := *r.PushSub
		p.RequestedAt, p.LeaseEnd, p.NextTry, p.LastPush = p.RequestedAt.UTC(), p.LeaseEnd.UTC(), p.NextTry.UTC(), p.LastPush.UTC()
		return putJSON(w.tx.Bucket(bucketPushSubs), []byte(p.SourceID), p)
	}
	return nil
}

// addArticle puts an article record and its page, as SaveArticle does;
// the loader checked that the load holds its item.
func (w *loadTx) addArticle(r *store.ArticleRecord) error {
	a := r.Article
	a.NextTry, a.FetchedAt = a.NextTry.UTC(), a.FetchedAt.UTC()
	rec, err := encodeArticle(&a)
	if err != nil {
		return fmt.Errorf("article of item %.80q of %s: %w", a.ItemID, a.SourceID, err)
	}
	arts, err := createNested(w.tx, bucketArticles, a.SourceID)
	if err != nil {
		return err
	}
	if err := arts.Put([]byte(a.ItemID), rec); err != nil {
		return err
	}
	if len(r.Page) == 0 || len(r.Page) > store.MaxArticlePage {
		return nil
	}
	pages, err := createNested(w.tx, bucketPages, a.SourceID)
	if err != nil {
		return err
	}
	return pages.Put([]byte(a.ItemID), s2.Encode(nil, r.Page))
}

func (w *loadTx) addSource(rec *store.SourceRecord, marks map[string]time.Time) error {
	if _, err := w.source(rec.ID); err != nil { // its buckets, as SaveFetch makes them
		return err
	}
	if !rec.RemovedAt.IsZero() {
		marks[rec.ID] = rec.RemovedAt.UTC()
	}
	if rec.State == nil {
		return nil
	}
	return putJSON(w.tx.Bucket(bucketState), []byte(rec.ID), rec.State)
}

// addItem gathers an item's entries: the item, its time index entry, and
// its link and title index entries as SaveFetch writes them.
func (w *loadTx) addItem(rec *store.Record) error {
	s, err := w.source(rec.SourceID)
	if err != nil {
		return err
	}
	it := *rec
	it.Duplicates = nil
	it.Published, it.Updated, it.FirstSeen = it.Published.UTC(), it.Updated.UTC(), it.FirstSeen.UTC()
	data, err := encodeItem(&it)
	if err != nil {
		return fmt.Errorf("item %.80q of %s: %w", it.ID, it.SourceID, err)
	}
	s.putIDs = append(s.putIDs, entry{[]byte(it.ID), data})
	s.putTimes = append(s.putTimes, entry{timeKey(it.Published, it.ID), nil})
	s.putLinks, s.putTitles = appendIndexEntries(s.putLinks, s.putTitles, s.id, &it)
	s.count++
	return nil
}

// finish puts every source's entries in key order, its count, and the
// orphan marks.
func (w *loadTx) finish(marks map[string]time.Time) error {
	for _, s := range w.order {
		for _, p := range []struct {
			b       *bbolt.Bucket
			entries []entry
		}{{s.items, s.putIDs}, {s.bytime, s.putTimes}, {s.links, s.putLinks}, {s.titles, s.putTitles}, {s.seen, s.putSeen}} {
			if err := putSorted(p.b, p.entries); err != nil {
				return err
			}
		}
		if err := s.saveCount(); err != nil {
			return err
		}
	}
	if len(marks) == 0 {
		return nil
	}
	return putRemovedMarks(w.tx, marks)
}
