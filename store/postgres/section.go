package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Section returns up to q.Limit items of q.Sources, with the bbolt engine's
// rules: pinned first (most recently pinned first), then newest first by
// Published (ties by source id, then item id), hidden never, rejected by
// q.Keep never, a story carried by several sources once (the copy seen
// first, the others in its Duplicates). It reads in one snapshot, the
// newest items of every source a page at a time (a LATERAL query per page,
// each source's part from its (source_id, published_ns) index), so it
// reads about as many items as it returns.
//
// TODO(issue 11): duplicates are looked up with one query per shown item
// (and one per candidate not read yet); batch them per page.
func (db *DB) Section(q newsdesk.Query) ([]newsdesk.Item, error) {
	out := []newsdesk.Item{}
	if q.Limit <= 0 {
		return out, nil
	}
	err := db.view(func(ctx context.Context, tx pgx.Tx) error {
		r := &reader{ctx: ctx, tx: tx, keep: q.Keep, sources: dedupe(q.Sources), cache: map[newsdesk.ItemRef]*storedItem{},
			skip: map[newsdesk.ItemRef]bool{}, pinned: map[newsdesk.ItemRef]bool{}}
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

// reader reads one section in one transaction (ctx is that transaction's,
// which the reader does not outlive).
type reader struct {
	ctx     context.Context
	tx      pgx.Tx
	keep    func(*newsdesk.Item) bool
	sources []string
	cache   map[newsdesk.ItemRef]*storedItem
	verdict map[newsdesk.ItemRef]bool
	skip    map[newsdesk.ItemRef]bool
	pinned  map[newsdesk.ItemRef]bool
}

func (r *reader) pins(q newsdesk.Query, out []newsdesk.Item) ([]newsdesk.Item, error) {
	es, err := edits(r.ctx, r.tx, q.SectionID)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if !slices.Contains(r.sources, e.Ref.SourceID) {
			continue
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

// merge appends the newest kept items to out, a page at a time.
func (r *reader) merge(q newsdesk.Query, out []newsdesk.Item) ([]newsdesk.Item, error) {
	if len(r.sources) == 0 {
		return out, nil
	}
	page := max(q.Limit, 50)
	first := true
	var curP int64 = math.MaxInt64
	var curS string
	var curID []byte
	for len(out) < q.Limit {
		rows, err := r.tx.Query(r.ctx, `SELECT x.source_id, x.item_id, x.published_ns, x.data
			FROM unnest($1::text[]) AS s(id) CROSS JOIN LATERAL (
				SELECT i.source_id, i.item_id, i.published_ns, i.data FROM items i
				WHERE i.source_id = s.id AND i.published_ns <= $2
				  AND ($5 OR i.published_ns < $2 OR i.source_id > $3 OR (i.source_id = $3 AND i.item_id > $4))
				ORDER BY i.published_ns DESC, i.item_id LIMIT $6) x
			ORDER BY x.published_ns DESC, x.source_id, x.item_id LIMIT $6`,
			r.sources, curP, curS, curID, first, page)
		if err != nil {
			return nil, err
		}
		var batch []*storedItem
		for rows.Next() {
			var src string
			var id, data []byte
			var p int64
			if err := rows.Scan(&src, &id, &p, &data); err != nil {
				return nil, err
			}
			var it storedItem
			if err := json.Unmarshal(data, &it); err != nil {
				return nil, fmt.Errorf("item %.80q of %s: %w", id, src, err)
			}
			curP, curS, curID = p, src, id
			batch = append(batch, &it)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		first = false
		for _, it := range batch {
			if len(out) >= q.Limit {
				break
			}
			ref := newsdesk.ItemRef{SourceID: it.SourceID, ID: it.ID}
			if c, ok := r.cache[ref]; ok && c != nil {
				it = c
			} else {
				r.cache[ref] = it
			}
			if r.skip[ref] || !r.kept(it) {
				continue
			}
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
		if len(batch) < page {
			break
		}
	}
	return out, nil
}

func (r *reader) item(ref newsdesk.ItemRef) (*storedItem, error) {
	if it, ok := r.cache[ref]; ok {
		return it, nil
	}
	it, err := getItem(r.ctx, r.tx, ref.SourceID, ref.ID)
	if err != nil {
		return nil, err
	}
	r.cache[ref] = it
	return it, nil
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

type candidate struct {
	ref       newsdesk.ItemRef
	firstSeen time.Time
}

// duplicates finds the other items of the section that are the same story
// as it: same link (any of the section's sources), or, when titles is
// set, the same title key from another source within store.TitleWindow. shown is
// false when one of them was seen first (or is pinned).
func (r *reader) duplicates(it *storedItem, titles bool) (dups []newsdesk.ItemRef, shown bool, err error) {
	self := newsdesk.ItemRef{SourceID: it.SourceID, ID: it.ID}
	var cands []candidate
	collect := func(sql string, args ...any) error {
		rows, err := r.tx.Query(r.ctx, sql, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c candidate
			var id []byte
			var fs int64
			if err := rows.Scan(&c.ref.SourceID, &id, &fs); err != nil {
				return err
			}
			c.ref.ID, c.firstSeen = string(id), nsTime(fs)
			cands = append(cands, c)
		}
		return rows.Err()
	}
	if it.Link != "" {
		if err := collect(`SELECT source_id, item_id, first_seen_ns FROM items WHERE link_hash = $1 AND source_id = ANY($2)`, hash(it.Link), r.sources); err != nil {
			return nil, false, err
		}
	}
	if t := store.TitleKey(it.Title); titles && t != "" {
		if err := collect(`SELECT source_id, item_id, first_seen_ns FROM items WHERE title_hash = $1 AND published_ns BETWEEN $2 AND $3 AND source_id = ANY($4) AND source_id <> $5`,
			hash(t), ns(it.Published.Add(-store.TitleWindow)), ns(it.Published.Add(store.TitleWindow)), r.sources, it.SourceID); err != nil {
			return nil, false, err
		}
	}
	winner, winnerSeen := self, it.FirstSeen
	seen := map[newsdesk.ItemRef]bool{self: true}
	for _, c := range cands {
		if r.pinned[c.ref] {
			return nil, false, nil
		}
		if seen[c.ref] || r.skip[c.ref] {
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
