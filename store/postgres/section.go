package postgres

import (
	"context"
	"fmt"
	"math"

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
// Duplicates cost one query per shown item (and one per candidate not
// read yet), as bbolt's cost one index seek each.
func (db *DB) Section(q newsdesk.Query) ([]newsdesk.Item, error) {
	out := []newsdesk.Item{}
	if q.Limit <= 0 {
		return out, nil
	}
	err := db.view(func(ctx context.Context, tx pgx.Tx) error {
		r := &reader{ctx: ctx, tx: tx, Reading: store.NewReading(q), cache: map[newsdesk.ItemRef]*storedItem{}}
		es, err := edits(ctx, tx, q.SectionID)
		if err != nil {
			return err
		}
		if out, err = r.Pins(es, q.Limit, r.lookup, out); err != nil {
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
	*store.Reading
	ctx   context.Context
	tx    pgx.Tx
	cache map[newsdesk.ItemRef]*storedItem // nil value: not stored
}

// merge appends the newest kept items to out, a page at a time, in the
// contract's order: ties by source id, then the higher item id first (as
// the bbolt engine walks its time index backwards).
func (r *reader) merge(q newsdesk.Query, out []newsdesk.Item) ([]newsdesk.Item, error) {
	if len(r.Sources) == 0 {
		return out, nil
	}
	page := max(q.Limit, 50)
	first := true
	var curP int64 = math.MaxInt64
	var curS string
	var curID []byte
	for len(out) < q.Limit {
		rows, err := r.tx.Query(r.ctx, sectionPage, r.Sources, curP, curS, curID, first, page)
		if err != nil {
			return nil, err
		}
		var batch []*storedItem
		for rows.Next() {
			var src string
			var id, data []byte
			var p int64
			var article *string
			if err := rows.Scan(&src, &id, &p, &data, &article); err != nil {
				return nil, err
			}
			it, err := decodeItem(data, article)
			if err != nil {
				return nil, fmt.Errorf("item %.80q of %s: %w", id, src, err)
			}
			curP, curS, curID = p, src, id
			batch = append(batch, it)
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
			if r.Skipped(ref) || !r.Kept(&it.Item) {
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

// sectionPage reads the next page of a section's items ($6 of them) after
// the last one read ($2 published, $3 source, $4 item id; $5: none yet) of
// the sources $1: the newest of each source from its time index, merged,
// and only then the html of the articles the page's items show
// (articleJoin, one primary-key probe per item read; never the page).
const sectionPage = `SELECT i.source_id, i.item_id, i.published_ns, i.data, a.html FROM (
	SELECT x.* FROM unnest($1::text[]) AS s(id) CROSS JOIN LATERAL (
		SELECT i.source_id, i.id_hash, i.item_id, i.published_ns, i.link_hash, i.data FROM items i
		WHERE i.source_id = s.id AND i.published_ns <= $2
		  AND ($5 OR i.published_ns < $2 OR i.source_id > $3 OR (i.source_id = $3 AND i.item_id < $4))
		ORDER BY i.published_ns DESC, i.item_id DESC LIMIT $6) x
	ORDER BY x.published_ns DESC, x.source_id, x.item_id DESC LIMIT $6) i
	` + articleJoin + `
	ORDER BY i.published_ns DESC, i.source_id, i.item_id DESC`

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

// duplicates finds the other items of the section that are the same story
// as it: same link (any of the section's sources), or, when titles is
// set, the same title key from another source within store.TitleWindow. shown is
// false when one of them was seen first (or is pinned).
func (r *reader) duplicates(it *storedItem, titles bool) (dups []newsdesk.ItemRef, shown bool, err error) {
	var cands []store.Candidate
	collect := func(sql string, args ...any) error {
		rows, err := r.tx.Query(r.ctx, sql, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c store.Candidate
			var id []byte
			var fs int64
			if err := rows.Scan(&c.Ref.SourceID, &id, &fs); err != nil {
				return err
			}
			c.Ref.ID, c.FirstSeen = string(id), nsTime(fs)
			cands = append(cands, c)
		}
		return rows.Err()
	}
	if it.Link != "" {
		if err := collect(`SELECT source_id, item_id, first_seen_ns FROM items WHERE link_hash = $1 AND source_id = ANY($2)`, hash(it.Link), r.Sources); err != nil {
			return nil, false, err
		}
	}
	if t := store.TitleKey(it.Title); titles && t != "" {
		if err := collect(`SELECT source_id, item_id, first_seen_ns FROM items WHERE title_hash = $1 AND published_ns BETWEEN $2 AND $3 AND source_id = ANY($4) AND source_id <> $5`,
			hash(t), ns(it.Published.Add(-store.TitleWindow)), ns(it.Published.Add(store.TitleWindow)), r.Sources, it.SourceID); err != nil {
			return nil, false, err
		}
	}
	return r.Story(&it.Item, cands, r.lookup)
}

// lookup is store.Lookup from the reader's cache.
func (r *reader) lookup(ref newsdesk.ItemRef) (*newsdesk.Item, error) {
	it, err := r.item(ref)
	if it == nil || err != nil {
		return nil, err
	}
	return &it.Item, nil
}
