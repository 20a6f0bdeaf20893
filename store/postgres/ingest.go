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
	err := db.txRows(len(items), func(ctx context.Context, tx pgx.Tx) error {
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
		b, err := s.ingest(items, keep, now, true)
		if err != nil {
			return err
		}
		b.Fill(&st)
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

// ingest stores items as a fetch (full) or a push does: batch,
// retention, write. It returns the batch, counted.
func (s *source) ingest(items []newsdesk.Item, keep newsdesk.Retention, now time.Time, full bool) (*batch, error) {
	b, err := s.batch(items, now)
	if err != nil {
		return nil, err
	}
	if err := s.retain(b, keep); err != nil {
		return nil, err
	}
	b.encode()
	return b, s.write(b, now, full)
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
	fresh   []*incoming // in key order
	refresh []tomb      // pruned items the feed still carries
	pruned  []tomb      // stored items retention drops
	count   int64
	store.Tally
}

// batch sorts the fetch's items as the bbolt engine does; the stored
// versions and tombstones of the fetch's ids are read in two queries.
func (s *source) batch(items []newsdesk.Item, now time.Time) (*batch, error) {
	b := &batch{count: s.count}
	uniq := store.Storable(items)
	hashes := make([][]byte, len(uniq))
	for i, it := range uniq {
		hashes[i] = hash(it.ID)
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
		var old *storedItem
		if o, found := stored[it.ID]; found {
			old = &o
		}
		rec, renew := store.Classify(s.id, it, old, tombs[string(hashes[i])], now)
		switch {
		case renew:
			b.refresh = append(b.refresh, tomb{hashes[i], it.ID})
		case rec == nil:
		case old == nil:
			b.Added++
			b.count++
			b.fresh = append(b.fresh, &incoming{rec: *rec, key: key{ns(rec.Published), rec.ID}})
		default:
			b.Changed++
			b.fresh = append(b.fresh, &incoming{rec: *rec, key: key{ns(rec.Published), rec.ID}, old: old})
		}
	}
	slices.SortFunc(b.fresh, func(x, y *incoming) int { return x.key.compare(y.key) })
	return b, nil
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
			b.count--
		}
		b.Skip(in.rec.ID, in.old == nil, err)
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
// linear in the source's size, which retention itself bounds (bbolt walks
// a cursor from the oldest end instead).
func (s *source) retain(b *batch, keep newsdesk.Retention) error {
	if !store.Active(keep) {
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
	p := store.NewPruner(keep, b.count, nsTime(newest.published))
	defer func() { b.count = p.Count }()
	i, j := 0, 0
	for {
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
		if !p.Drop(nsTime(k.published)) {
			return nil
		}
		if fromStored {
			b.pruned = append(b.pruned, tomb{stored[i].hash, stored[i].id})
			i++
		} else {
			b.fresh[j].drop = true
			j++
		}
	}
}

// write applies a batch: deletes and tombstones, expired tombstones
// forgotten when full is set (a full fetch; a push leaves them), then the
// new and changed items in chunks, and the count.
func (s *source) write(b *batch, now time.Time, full bool) error {
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
	if full {
		if _, err := s.tx.Exec(s.ctx, `DELETE FROM tombstones WHERE source_id = $1 AND seen_ns < $2`, s.id, ns(now.Add(-store.TombstoneTTL))); err != nil {
			return err
		}
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
	n := len(rows)
	hashes, ids, links, titles := make([][]byte, 0, n), make([][]byte, 0, n), make([][]byte, 0, n), make([][]byte, 0, n)
	published, firstSeen := make([]int64, 0, n), make([]int64, 0, n)
	data := make([]string, 0, n)
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
