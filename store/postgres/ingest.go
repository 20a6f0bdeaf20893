package postgres

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// writeChunk is how many rows one INSERT of a fetch's items carries.
const writeChunk = 5000

// SaveFetch stores one fetch of st.SourceID in one transaction, with the
// bbolt engine's rules (see store.Store and store/bolt's SaveFetch): new
// items get FirstSeen = st.LastFetch, undated ones are dated by it, a
// changed item is updated in place, an item pruned before is not stored
// again, retention counts stored and incoming items together, and the
// source's state and count are written with them. The source's row is
// locked first, so two saves of one source never interleave.
func (db *DB) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	if st.SourceID == "" {
		return st, errors.New("save fetch: empty source id")
	}
	now := st.LastFetch.UTC()
	err := db.tx(func(tx pgx.Tx) error {
		s := &source{tx: tx, id: st.SourceID}
		if err := s.lock(); err != nil {
			return err
		}
		b, err := s.batch(items, now)
		if err != nil {
			return err
		}
		if err := s.retain(b, keep); err != nil {
			return err
		}
		b.encode()
		if err := s.write(b, now); err != nil {
			return err
		}
		st.New, st.Updated, st.Skipped, st.SkipReason = b.added, b.changed, b.skipped, b.skipReason
		if n := len(st.History); n > 0 {
			st.History[n-1].New = st.New
		}
		return saveState(tx, st, &b.count)
	})
	if err != nil {
		return st, fmt.Errorf("save fetch of %s: %w", st.SourceID, err)
	}
	return st, nil
}

// SaveState stores a source's fetch state alone: a 304 or a failed fetch.
func (db *DB) SaveState(st newsdesk.FetchState) error {
	err := db.tx(func(tx pgx.Tx) error { return saveState(tx, st, nil) })
	if err != nil {
		return fmt.Errorf("save state of %s: %w", st.SourceID, err)
	}
	return nil
}

// saveState writes st, and the item count when count is not nil.
func saveState(tx pgx.Tx, st newsdesk.FetchState, count *int64) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx(), `INSERT INTO sources (source_id, state, item_count) VALUES ($1, $2, coalesce($3, 0))
		ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, item_count = coalesce($3, sources.item_count)`,
		st.SourceID, string(data), count)
	return err
}

// source is one source inside a SaveFetch transaction.
type source struct {
	tx    pgx.Tx
	id    string
	count int64
}

// lock creates the source's row when it has none and locks it.
func (s *source) lock() error {
	if _, err := s.tx.Exec(ctx(), `INSERT INTO sources (source_id) VALUES ($1) ON CONFLICT DO NOTHING`, s.id); err != nil {
		return err
	}
	return s.tx.QueryRow(ctx(), `SELECT item_count FROM sources WHERE source_id = $1 FOR UPDATE`, s.id).Scan(&s.count)
}

// key orders items as the bbolt time index does: published, then id bytes.
type key struct {
	published int64
	id        string
}

func (k key) compare(o key) int {
	return cmp.Or(cmp.Compare(k.published, o.published), strings.Compare(k.id, o.id))
}

// incoming is a new or changed item of the fetch.
type incoming struct {
	rec  storedItem
	data []byte
	old  *storedItem
	key  key
	drop bool // retention drops it: tombstone only
	skip bool // cannot be stored
}

// batch is what a fetch changes in a source, decided before any write.
type batch struct {
	fresh      []*incoming // in key order
	refresh    [][]byte    // id hashes of pruned items the feed still carries
	pruned     [][]byte    // id hashes of stored items retention drops
	count      int64
	added      int
	changed    int
	skipped    int
	skipReason string
}

// batch sorts the fetch's items as the bbolt engine does; the stored
// versions and tombstones of the fetch's ids are read in two queries.
func (s *source) batch(items []newsdesk.Item, now time.Time) (*batch, error) {
	b := &batch{count: s.count}
	seen := make(map[string]bool, len(items))
	var uniq []newsdesk.Item
	var hashes [][]byte
	for _, it := range items {
		if it.ID == "" {
			continue
		}
		it.ID = store.StoredID(it.ID)
		if seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		uniq = append(uniq, it)
		hashes = append(hashes, hash(it.ID))
	}
	stored := map[string]storedItem{}
	rows, err := s.tx.Query(ctx(), `SELECT data FROM items WHERE source_id = $1 AND id_hash = ANY($2)`, s.id, hashes)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var it storedItem
		if err := json.Unmarshal(data, &it); err != nil {
			return nil, fmt.Errorf("stored item of %s: %w", s.id, err)
		}
		stored[it.ID] = it
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tombs := map[string]bool{}
	rows, err = s.tx.Query(ctx(), `SELECT id_hash FROM tombstones WHERE source_id = $1 AND id_hash = ANY($2)`, s.id, hashes)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		tombs[string(h)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, it := range uniq {
		old, found := stored[it.ID]
		in, renew := classify(s.id, it, old, found, tombs[string(hashes[i])], now)
		switch {
		case renew:
			b.refresh = append(b.refresh, hashes[i])
		case in == nil:
		case in.old == nil:
			b.added++
			b.count++
			b.fresh = append(b.fresh, in)
		default:
			b.changed++
			b.fresh = append(b.fresh, in)
		}
	}
	slices.SortFunc(b.fresh, func(x, y *incoming) int { return x.key.compare(y.key) })
	return b, nil
}

// classify is the bbolt engine's: nil for an unchanged item, renew for one
// pruned before, else the record to write.
func classify(src string, it newsdesk.Item, old storedItem, found, tombstoned bool, now time.Time) (in *incoming, renew bool) {
	it.SourceID = src
	it.Duplicates = nil
	it.Title = newsdesk.CapTitle(it.Title)
	it.Published, it.Updated = it.Published.UTC(), it.Updated.UTC()
	rec := storedItem{Item: it, Dated: !it.Published.IsZero()}
	if found {
		rec.FirstSeen = old.FirstSeen
		if !rec.Dated {
			rec.Published = old.Published
		}
	} else {
		if tombstoned {
			return nil, true
		}
		rec.FirstSeen = now
		if !rec.Dated {
			rec.Published = now
		}
	}
	if rec.Updated.IsZero() || rec.Updated.Before(rec.Published) {
		rec.Updated = rec.Published
	}
	if found {
		if !rec.Updated.After(old.Updated) {
			rec.Updated = old.Updated
		}
		if sameItem(rec, old) {
			return nil, false
		}
		if !rec.Updated.After(old.Updated) {
			rec.Updated = now
		}
	}
	rec.FirstSeen = rec.FirstSeen.UTC()
	in = &incoming{rec: rec, key: key{ns(rec.Published), rec.ID}}
	if found {
		in.old = &old
	}
	return in, false
}

// encode turns the items retention keeps into JSON; one that cannot be
// encoded is skipped and counted, as in the bbolt engine.
func (b *batch) encode() {
	for _, in := range b.fresh {
		if in.drop {
			continue
		}
		data, err := json.Marshal(in.rec)
		if err == nil {
			in.data = data
			continue
		}
		in.skip = true
		if in.old == nil {
			b.added--
			b.count--
		} else {
			b.changed--
		}
		if b.skipped == 0 {
			b.skipReason = store.SkipReason(in.rec.ID, err)
		}
		b.skipped++
	}
}

// storedKey is a stored item's place in the time order.
type storedKey struct {
	key
	hash []byte
}

// retain applies retention to the stored items and the batch's together,
// as the bbolt engine does, from the oldest end.
//
// It reads the keys of all the source's stored items (not their data):
// linear in the source's size. TODO(issue 11): read from the oldest end
// in pages, as bbolt's cursor does, for sources with very many items.
func (s *source) retain(b *batch, keep newsdesk.Retention) error {
	if keep.MaxAge <= 0 && keep.MaxItems <= 0 {
		return nil
	}
	moved := map[string]bool{}
	for _, in := range b.fresh {
		if in.old != nil {
			moved[string(hash(in.old.ID))] = true
		}
	}
	rows, err := s.tx.Query(ctx(), `SELECT published_ns, item_id, id_hash FROM items WHERE source_id = $1 ORDER BY published_ns, item_id`, s.id)
	if err != nil {
		return err
	}
	var stored []storedKey
	for rows.Next() {
		var k storedKey
		var id []byte
		if err := rows.Scan(&k.published, &id, &k.hash); err != nil {
			return err
		}
		if !moved[string(k.hash)] {
			k.id = string(id)
			stored = append(stored, k)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var newest *key
	if n := len(stored); n > 0 {
		newest = &stored[n-1].key
	}
	if n := len(b.fresh); n > 0 && (newest == nil || b.fresh[n-1].key.compare(*newest) > 0) {
		newest = &b.fresh[n-1].key
	}
	if newest == nil {
		return nil
	}
	cutoff := nsTime(newest.published).Add(-keep.MaxAge)
	i, j := 0, 0
	for b.count > int64(max(keep.MinItems, 0)) {
		fromStored := i < len(stored) && (j == len(b.fresh) || stored[i].key.compare(b.fresh[j].key) < 0)
		var k key
		switch {
		case fromStored:
			k = stored[i].key
		case j < len(b.fresh):
			k = b.fresh[j].key
		default:
			return nil
		}
		tooOld := keep.MaxAge > 0 && nsTime(k.published).Before(cutoff)
		tooMany := keep.MaxItems > 0 && b.count > int64(keep.MaxItems)
		if !tooOld && !tooMany {
			return nil
		}
		b.count--
		if fromStored {
			b.pruned = append(b.pruned, stored[i].hash)
			i++
		} else {
			b.fresh[j].drop = true
			j++
		}
	}
	return nil
}

// write applies a batch: deletes and tombstones, expired tombstones
// forgotten, then the new and changed items in chunks, and the count.
func (s *source) write(b *batch, now time.Time) error {
	tombs := slices.Clone(b.refresh)
	gone := slices.Clone(b.pruned)
	tombs = append(tombs, b.pruned...)
	for _, in := range b.fresh {
		if in.drop {
			h := hash(in.rec.ID)
			tombs = append(tombs, h)
			if in.old != nil {
				gone = append(gone, h)
			}
		}
	}
	if len(gone) > 0 {
		if _, err := s.tx.Exec(ctx(), `DELETE FROM items WHERE source_id = $1 AND id_hash = ANY($2)`, s.id, gone); err != nil {
			return err
		}
	}
	if _, err := s.tx.Exec(ctx(), `DELETE FROM tombstones WHERE source_id = $1 AND seen_ns < $2`, s.id, ns(now.Add(-store.TombstoneTTL))); err != nil {
		return err
	}
	if len(tombs) > 0 {
		if _, err := s.tx.Exec(ctx(), `INSERT INTO tombstones (source_id, id_hash, seen_ns) SELECT $1, h, $3 FROM unnest($2::bytea[]) AS t(h)
			ON CONFLICT (source_id, id_hash) DO UPDATE SET seen_ns = excluded.seen_ns`, s.id, tombs, ns(now)); err != nil {
			return err
		}
	}
	var rows []*incoming
	for _, in := range b.fresh {
		if !in.drop && !in.skip {
			rows = append(rows, in)
		}
	}
	for len(rows) > 0 {
		n := min(len(rows), writeChunk)
		if err := s.put(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	s.count = b.count
	return nil
}

// put upserts items in one statement.
func (s *source) put(rows []*incoming) error {
	var (
		hashes, ids, links, titles [][]byte
		published, firstSeen       []int64
		data                       []string
	)
	for _, in := range rows {
		r := in.rec
		hashes = append(hashes, hash(r.ID))
		ids = append(ids, []byte(r.ID))
		published = append(published, ns(r.Published))
		firstSeen = append(firstSeen, ns(r.FirstSeen))
		links = append(links, orNil(r.Link))
		titles = append(titles, orNil(store.TitleKey(r.Title)))
		data = append(data, string(in.data))
	}
	_, err := s.tx.Exec(ctx(), `INSERT INTO items (source_id, id_hash, item_id, published_ns, first_seen_ns, link_hash, title_hash, data)
		SELECT $1, h, i, p, f, l, t, d::json FROM unnest($2::bytea[], $3::bytea[], $4::bigint[], $5::bigint[], $6::bytea[], $7::bytea[], $8::text[]) AS x(h, i, p, f, l, t, d)
		ON CONFLICT (source_id, id_hash) DO UPDATE SET item_id = excluded.item_id, published_ns = excluded.published_ns,
			first_seen_ns = excluded.first_seen_ns, link_hash = excluded.link_hash, title_hash = excluded.title_hash, data = excluded.data`,
		s.id, hashes, ids, published, firstSeen, links, titles, data)
	return err
}
