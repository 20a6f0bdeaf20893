package bolt

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

// Section returns up to q.Limit items of q.Sources, newest first by
// Published (ties by source id, then item id), with their articles,
// skipping those q.Keep rejects (it sees the article). A story carried by several of the sources appears once: the item
// seen first is kept, and the others are listed in its Duplicates. It walks
// each source's time index from the newest end and merges, so it reads
// about as many items as it returns.
func (db *DB) Section(q newsdesk.Query) ([]newsdesk.Item, error) {
	out := []newsdesk.Item{}
	if q.Limit <= 0 {
		return out, nil
	}
	err := db.view(func(tx *bbolt.Tx) error {
		r := &reader{tx: tx, Reading: store.NewReading(q), cache: map[newsdesk.ItemRef]*storedItem{}, arts: map[string]*bbolt.Bucket{}, hashed: db.schema >= 4}
		edits, err := editsOf(tx, q.SectionID)
		if err != nil {
			return err
		}
		if out, err = r.Pins(edits, q.Limit, r.lookup, out); err != nil {
			return err
		}
		out, err = r.merge(q, out)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("section items: %w", err)
	}
	return out, nil
}

// head is where the merge stands in one source's time index.
type head struct {
	src string
	c   *bbolt.Cursor
	key []byte
}

// merge appends to out, up to q.Limit, the newest items of the sources that
// the rules keep and that are not pinned, hidden or another's duplicate,
// walking each source's time index from the newest end.
func (r *reader) merge(q newsdesk.Query, out []newsdesk.Item) ([]newsdesk.Item, error) {
	var heads []*head
	for _, id := range r.Sources {
		tb := r.tx.Bucket(bucketByTime).Bucket([]byte(id))
		if tb == nil || r.tx.Bucket(bucketItems).Bucket([]byte(id)) == nil {
			continue
		}
		h := &head{src: id, c: tb.Cursor()}
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
			return nil, err
		}
		if it != nil && !r.Skipped(ref) && r.Kept(&it.Item) {
			dups, shown, err := r.duplicates(it, q.DedupeTitles)
			if err != nil {
				return nil, err
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
	return out, nil
}

// reader reads items for one section query, remembering what it decoded.
type reader struct {
	*store.Reading
	tx     *bbolt.Tx
	cache  map[newsdesk.ItemRef]*storedItem // nil value: not stored
	arts   map[string]*bbolt.Bucket         // each source's articles bucket, nil when it has none
	hashed bool                             // the links and titles indexes are keyed by hashes (schema 4)
}

func (r *reader) item(ref newsdesk.ItemRef) (*storedItem, error) {
	if it, ok := r.cache[ref]; ok {
		return it, nil
	}
	var out *storedItem
	if b := r.tx.Bucket(bucketItems).Bucket([]byte(ref.SourceID)); b != nil {
		it, found, err := getItem(b, ref.SourceID, ref.ID)
		if err != nil {
			return nil, err
		}
		if found {
			out = &it
			if err := fillArticle(r.articles(ref.SourceID), &out.Item); err != nil {
				return nil, err
			}
		}
	}
	r.cache[ref] = out
	return out, nil
}

// articles is the articles bucket of source src, nil when it has none.
func (r *reader) articles(src string) *bbolt.Bucket {
	b, ok := r.arts[src]
	if !ok {
		b = nested(r.tx, bucketArticles, src)
		r.arts[src] = b
	}
	return b
}

// duplicates finds the other items of the section that are the same story
// as it. shown is false when one of them was seen first: that one is shown
// instead and it is one of its duplicates.
func (r *reader) duplicates(it *storedItem, titles bool) (dups []newsdesk.ItemRef, shown bool, err error) {
	var cands []store.Candidate
	if it.Link != "" {
		prefix := indexPrefix(it.Link, true, r.hashed)
		c := r.tx.Bucket(bucketLinks).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			cand, ok := candidate(k[len(prefix):])
			if cands, err = r.add(cands, cand, ok, func(o *storedItem) bool { return o.Link == it.Link }); err != nil {
				return nil, false, err
			}
		}
	}
	if t := store.TitleKey(it.Title); titles && t != "" {
		prefix := indexPrefix(t, false, r.hashed)
		from := append(slices.Clone(prefix), timeBytes(it.Published.Add(-store.TitleWindow))...)
		until := it.Published.Add(store.TitleWindow)
		c := r.tx.Bucket(bucketTitles).Cursor()
		for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			cand, ok := candidate(k[len(prefix):])
			if !ok || len(v) != 8 || cand.FirstSeen.After(until) { // FirstSeen: the time in the key, published
				break
			}
			cand.FirstSeen = bytesTime(v)
			if cand.Ref.SourceID == it.SourceID { // titles collapse across sources only
				continue
			}
			if cands, err = r.add(cands, cand, true, func(o *storedItem) bool { return store.TitleKey(o.Title) == t }); err != nil {
				return nil, false, err
			}
		}
	}
	return r.Story(&it.Item, cands, r.lookup)
}

// candidate reads what follows the text's prefix in a links or titles
// index key: TIME SOURCE_ID 0 ITEM_ID, with TIME as its FirstSeen (a
// title entry's TIME is when the item was published: its first-seen time
// is the entry's value). ok is false when it is malformed.
func candidate(rest []byte) (c store.Candidate, ok bool) {
	if len(rest) < 9 {
		return c, false
	}
	src, id, _ := strings.Cut(string(rest[8:]), "\x00")
	return store.Candidate{Ref: newsdesk.ItemRef{SourceID: src, ID: id}, FirstSeen: bytesTime(rest[:8])}, true
}

// add appends cand to cands when ok and the index entry that found it is
// the text's, not another text's of the same hash: match checks the
// candidate item. A candidate that is not stored is left to Story.
func (r *reader) add(cands []store.Candidate, cand store.Candidate, ok bool, match func(*storedItem) bool) ([]store.Candidate, error) {
	if !ok {
		return cands, nil
	}
	if r.hashed {
		other, err := r.item(cand.Ref)
		if err != nil {
			return nil, err
		}
		if other != nil && !match(other) {
			return cands, nil
		}
	}
	return append(cands, cand), nil
}

// lookup is store.Lookup from the reader's cache.
func (r *reader) lookup(ref newsdesk.ItemRef) (*newsdesk.Item, error) {
	it, err := r.item(ref)
	if it == nil || err != nil {
		return nil, err
	}
	return &it.Item, nil
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
