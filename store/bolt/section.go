package bolt

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	bbolt "go.etcd.io/bbolt"
)

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
	err := db.view(func(tx *bbolt.Tx) error {
		r := &reader{tx: tx, keep: q.Keep, sources: dedupe(q.Sources), cache: map[newsdesk.ItemRef]*storedItem{}, skip: map[newsdesk.ItemRef]bool{}, pinned: map[newsdesk.ItemRef]bool{}}
		var err error
		if out, err = r.pins(q, out); err != nil {
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

// pins appends the section's pinned items to out, most recently pinned
// first, whatever the rules say, and notes the pinned and hidden items,
// which the merge skips. A decision about a source that left the section
// lapses.
func (r *reader) pins(q newsdesk.Query, out []newsdesk.Item) ([]newsdesk.Item, error) {
	edits, err := editsOf(r.tx, q.SectionID)
	if err != nil {
		return nil, err
	}
	for _, e := range edits {
		if !slices.Contains(r.sources, e.Ref.SourceID) {
			continue // its source left the section
		}
		r.skip[e.Ref] = true
		if e.Decision != newsdesk.Pin {
			continue
		}
		r.pinned[e.Ref] = true
		if len(out) >= q.Limit {
			continue
		}
		it, err := r.item(e.Ref)
		if err != nil {
			return nil, err
		}
		if it != nil {
			out = append(out, it.Item)
		}
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
	for _, id := range r.sources {
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
		if it != nil && !r.skip[ref] && r.kept(it) {
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
	if t := store.TitleKey(it.Title); titles && t != "" {
		prefix := append([]byte(t), 0)
		from := append(slices.Clone(prefix), timeBytes(it.Published.Add(-store.TitleWindow))...)
		until := it.Published.Add(store.TitleWindow)
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
