package postgres

import (
	"cmp"
	"context"
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
// source's state, count and due time (st.NextDue) are written with them.
// The source's row is locked first, so two saves of one source never
// interleave. It leaves the source's lease alone.
func (db *DB) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	return db.saveFetch(nil, st, items, keep)
}

// SaveFetchLeased is SaveFetch under lease l (store.Cluster): in the same
// transaction it checks that l is still the source's latest lease (else
// it writes nothing and returns an error matching store.ErrLeaseLost),
// stores st.NextDue as the source's due time and ends the lease. The
// times it records (new items' FirstSeen, the date of undated items,
// tombstones) are the database's clock in the transaction, not
// st.LastFetch: instances on machines whose clocks differ agree on which
// copy of a story was seen first.
func (db *DB) SaveFetchLeased(l store.Lease, st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	if l.SourceID != st.SourceID {
		return st, fmt.Errorf("save fetch of %s under the lease of %s", st.SourceID, l.SourceID)
	}
	return db.saveFetch(&l, st, items, keep)
}

func (db *DB) saveFetch(l *store.Lease, st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	if st.SourceID == "" {
		return st, errors.New("save fetch: empty source id")
	}
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		s := &source{ctx: ctx, tx: tx, id: st.SourceID}
		if err := s.lock(); err != nil {
			return err
		}
		now := st.LastFetch.UTC()
		if l != nil {
			if err := s.leased(*l); err != nil {
				return err
			}
			now = s.dbNow
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
		return saveState(ctx, tx, st, &b.count, l != nil)
	})
	if err != nil {
		return st, fmt.Errorf("save fetch of %s: %w", st.SourceID, err)
	}
	return st, nil
}

// SaveState stores a source's fetch state alone (a 304 or a failed fetch)
// and its due time, st.NextDue.
func (db *DB) SaveState(st newsdesk.FetchState) error {
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error { return saveState(ctx, tx, st, nil, false) })
	if err != nil {
		return fmt.Errorf("save state of %s: %w", st.SourceID, err)
	}
	return nil
}

// SaveStateLeased is SaveState under lease l, as SaveFetchLeased.
func (db *DB) SaveStateLeased(l store.Lease, st newsdesk.FetchState) error {
	if l.SourceID != st.SourceID {
		return fmt.Errorf("save state of %s under the lease of %s", st.SourceID, l.SourceID)
	}
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		s := &source{ctx: ctx, tx: tx, id: st.SourceID}
		if err := s.lock(); err != nil {
			return err
		}
		if err := s.leased(l); err != nil {
			return err
		}
		return saveState(ctx, tx, st, nil, true)
	})
	if err != nil {
		return fmt.Errorf("save state of %s: %w", st.SourceID, err)
	}
	return nil
}

// saveState writes st, its due time and the item count when count is not
// nil, ends the source's lease when endLease, and announces the change
// (changed_seq and a notification, see Changes).
func saveState(ctx context.Context, tx pgx.Tx, st newsdesk.FetchState, count *int64, endLease bool) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	var due *time.Time
	if !st.NextDue.IsZero() {
		due = &st.NextDue
	}
	_, err = tx.Exec(ctx, `WITH w AS (
		INSERT INTO sources (source_id, state, item_count, due_at, changed_seq) VALUES ($1, $2, coalesce($3, 0), $4, `+xactSeq+`)
		ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, item_count = coalesce($3, sources.item_count),
			due_at = excluded.due_at, changed_seq = excluded.changed_seq,
			lease_owner = CASE WHEN $5 THEN NULL ELSE sources.lease_owner END,
			lease_until = CASE WHEN $5 THEN NULL ELSE sources.lease_until END
		RETURNING changed_seq)
		SELECT pg_notify('`+channel+`', changed_seq::text) FROM w`,
		st.SourceID, string(data), count, due, endLease)
	return err
}

// source is one source inside a SaveFetch transaction (ctx is that of the
// transaction, which the struct does not outlive).
type source struct {
	ctx   context.Context
	tx    pgx.Tx
	id    string
	count int64
	owner string    // lease_owner, "" when none
	epoch int64     // lease_epoch
	dbNow time.Time // the transaction's now()
}

// lock creates the source's row when it has none and locks it.
func (s *source) lock() error {
	if _, err := s.tx.Exec(s.ctx, `INSERT INTO sources (source_id) VALUES ($1) ON CONFLICT DO NOTHING`, s.id); err != nil {
		return err
	}
	return s.tx.QueryRow(s.ctx, `SELECT item_count, coalesce(lease_owner, ''), lease_epoch, now() FROM sources WHERE source_id = $1 FOR UPDATE`, s.id).
		Scan(&s.count, &s.owner, &s.epoch, &s.dbNow)
}

// leased checks, with the row locked, that l is the source's latest lease.
func (s *source) leased(l store.Lease) error {
	if s.owner == l.Instance && s.epoch == l.Epoch {
		return nil
	}
	holder := "no one"
	if s.owner != "" {
		holder = s.owner
	}
	return fmt.Errorf("source %s was leased by %s (lease %d) after %s's lease %d: %w", s.id, holder, s.epoch, l.Instance, l.Epoch, store.ErrLeaseLost)
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
	refresh    []tomb      // pruned items the feed still carries
	pruned     []tomb      // stored items retention drops
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
	rows, err := s.tx.Query(s.ctx, `SELECT data FROM items WHERE source_id = $1 AND id_hash = ANY($2)`, s.id, hashes)
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
	rows, err = s.tx.Query(s.ctx, `SELECT id_hash FROM tombstones WHERE source_id = $1 AND id_hash = ANY($2)`, s.id, hashes)
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
			b.refresh = append(b.refresh, tomb{hashes[i], it.ID})
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

// tomb is a tombstone to write: the pruned item's id and its hash.
type tomb struct {
	hash []byte
	id   string
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
	rows, err := s.tx.Query(s.ctx, `SELECT published_ns, item_id, id_hash FROM items WHERE source_id = $1 ORDER BY published_ns, item_id`, s.id)
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
			b.pruned = append(b.pruned, tomb{stored[i].hash, stored[i].id})
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
	tombs := append(slices.Clone(b.refresh), b.pruned...)
	var gone [][]byte
	for _, t := range b.pruned {
		gone = append(gone, t.hash)
	}
	for _, in := range b.fresh {
		if in.drop {
			h := hash(in.rec.ID)
			tombs = append(tombs, tomb{h, in.rec.ID})
			if in.old != nil {
				gone = append(gone, h)
			}
		}
	}
	if len(gone) > 0 {
		if _, err := s.tx.Exec(s.ctx, `DELETE FROM items WHERE source_id = $1 AND id_hash = ANY($2)`, s.id, gone); err != nil {
			return err
		}
	}
	if _, err := s.tx.Exec(s.ctx, `DELETE FROM tombstones WHERE source_id = $1 AND seen_ns < $2`, s.id, ns(now.Add(-store.TombstoneTTL))); err != nil {
		return err
	}
	if len(tombs) > 0 {
		hashes, ids := make([][]byte, len(tombs)), make([][]byte, len(tombs))
		for i, t := range tombs {
			hashes[i], ids[i] = t.hash, []byte(t.id)
		}
		if _, err := s.tx.Exec(s.ctx, `INSERT INTO tombstones (source_id, id_hash, item_id, seen_ns) SELECT $1, h, i, $4 FROM unnest($2::bytea[], $3::bytea[]) AS t(h, i)
			ON CONFLICT (source_id, id_hash) DO UPDATE SET seen_ns = excluded.seen_ns, item_id = excluded.item_id`, s.id, hashes, ids, ns(now)); err != nil {
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
	_, err := s.tx.Exec(s.ctx, `INSERT INTO items (source_id, id_hash, item_id, published_ns, first_seen_ns, link_hash, title_hash, data)
		SELECT $1, h, i, p, f, l, t, d::json FROM unnest($2::bytea[], $3::bytea[], $4::bigint[], $5::bigint[], $6::bytea[], $7::bytea[], $8::text[]) AS x(h, i, p, f, l, t, d)
		ON CONFLICT (source_id, id_hash) DO UPDATE SET item_id = excluded.item_id, published_ns = excluded.published_ns,
			first_seen_ns = excluded.first_seen_ns, link_hash = excluded.link_hash, title_hash = excluded.title_hash, data = excluded.data`,
		s.id, hashes, ids, published, firstSeen, links, titles, data)
	return err
}
