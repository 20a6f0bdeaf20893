package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// DB copies itself into another engine's store and takes another store's
// records (`newsdesk migrate`, see store.Copy).
var (
	_ store.Dumper = (*DB)(nil)
	_ store.Loader = (*DB)(nil)
)

// abortTimeout bounds RecordWriter.Abort, which deletes what a long load
// wrote and must work after the load's own context was cancelled.
const abortTimeout = 10 * time.Minute

// Dump calls fn with every record of the store, read in one repeatable-read
// transaction (one snapshot, however long the copy takes, while other
// instances go on writing): the sources with something stored, the items,
// the tombstones (with only their id's hash when they were pruned before
// schema 2), the articles with their pages (after every item), the
// editorial decisions, the section versions and the WebSub subscriptions
// (without their claims). What only
// the instances sharing the store use (leases, due times, instances,
// change numbers) is not a record.
func (db *DB) Dump(ctx context.Context, fn func(store.Entry) error) error {
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, part := range []struct {
			sql  string
			scan func(pgx.Rows) (store.Entry, error)
		}{
			{`SELECT source_id, state, item_count, removed_at FROM sources
				WHERE state IS NOT NULL OR item_count <> 0 OR removed_at IS NOT NULL ORDER BY source_id`, scanSource},
			{`SELECT source_id, data FROM items ORDER BY source_id, item_id`, scanItem},
			{`SELECT source_id, id_hash, item_id, seen_ns FROM tombstones ORDER BY source_id, item_id, id_hash`, scanTombstone},
			{`SELECT a.source_id, a.data, a.html, a.page FROM articles a JOIN items i ON i.source_id = a.source_id AND i.id_hash = a.id_hash
				ORDER BY a.source_id, i.item_id`, scanArticle},
			{`SELECT section_id, source_id, item_id, decision, at_ns FROM decisions ORDER BY section_id, source_id, item_id`, scanDecision},
			{`SELECT section_id, hash, changed_at_ns FROM section_versions WHERE hash <> '' ORDER BY section_id`, scanSection},
			{`SELECT ` + hubColumns + ` FROM hub_subscriptions ORDER BY topic, callback`, scanHubEntry},
			{`SELECT source_id, data FROM push_subscriptions ORDER BY source_id`, scanPushEntry},
		} {
			if err := dumpRows(ctx, tx, part.sql, part.scan, fn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", db.path, err)
	}
	return nil
}

func scanHubEntry(rows pgx.Rows) (store.Entry, error) {
	s, err := scanHub(rows)
	return store.Entry{HubSub: &s}, err
}

func scanPushEntry(rows pgx.Rows) (store.Entry, error) {
	p, err := scanPush(rows)
	return store.Entry{PushSub: &p}, err
}

// dumpRows streams the rows of one query to fn.
func dumpRows(ctx context.Context, tx pgx.Tx, sql string, scan func(pgx.Rows) (store.Entry, error), fn func(store.Entry) error) error {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func scanSource(rows pgx.Rows) (store.Entry, error) {
	var rec store.SourceRecord
	var state []byte
	var count int64
	var removed *int64
	if err := rows.Scan(&rec.ID, &state, &count, &removed); err != nil {
		return store.Entry{}, err
	}
	rec.Items = int(count)
	if removed != nil {
		rec.RemovedAt = nsTime(*removed)
	}
	if state != nil {
		rec.State = new(newsdesk.FetchState)
		if err := json.Unmarshal(state, rec.State); err != nil {
			return store.Entry{}, fmt.Errorf("state of %s: %w", rec.ID, err)
		}
	}
	return store.Entry{Source: &rec}, nil
}

func scanItem(rows pgx.Rows) (store.Entry, error) {
	var src string
	var data []byte
	if err := rows.Scan(&src, &data); err != nil {
		return store.Entry{}, err
	}
	var it storedItem
	if err := json.Unmarshal(data, &it); err != nil {
		return store.Entry{}, fmt.Errorf("item of %s: %w", src, err)
	}
	it.SourceID = src
	return store.Entry{Item: &it}, nil
}

func scanTombstone(rows pgx.Rows) (store.Entry, error) {
	var t store.TombstoneRecord
	var h, id []byte
	var seen int64
	if err := rows.Scan(&t.SourceID, &h, &id, &seen); err != nil {
		return store.Entry{}, err
	}
	t.Seen = nsTime(seen)
	if id != nil {
		t.ItemID = string(id)
	} else {
		t.IDHash = h
	}
	return store.Entry{Tombstone: &t}, nil
}

func scanArticle(rows pgx.Rows) (store.Entry, error) {
	var src, html string
	var data, page []byte
	if err := rows.Scan(&src, &data, &html, &page); err != nil {
		return store.Entry{}, err
	}
	a, err := decodeArticle(data, html)
	if err != nil {
		return store.Entry{}, fmt.Errorf("article of %s: %w", src, err)
	}
	a.SourceID = src
	return store.Entry{Article: &store.ArticleRecord{Article: a, Page: page}}, nil
}

func scanDecision(rows pgx.Rows) (store.Entry, error) {
	var d store.DecisionRecord
	var id []byte
	var decision string
	var at int64
	if err := rows.Scan(&d.SectionID, &d.Edit.Ref.SourceID, &id, &decision, &at); err != nil {
		return store.Entry{}, err
	}
	d.Edit.Ref.ID, d.Edit.Decision, d.Edit.At = string(id), newsdesk.Decision(decision), nsTime(at)
	return store.Entry{Decision: &d}, nil
}

func scanSection(rows pgx.Rows) (store.Entry, error) {
	var s store.SectionRecord
	var at int64
	if err := rows.Scan(&s.ID, &s.Version.Hash, &at); err != nil {
		return store.Entry{}, err
	}
	s.Version.ChangedAt = nsTime(at)
	return store.Entry{Section: &s}, nil
}

// Load starts loading records into the store, which must hold no data
// (rows SyncSources made for sources never fetched are not data). Each
// store.LoadBatch records are one transaction, written as SaveFetch
// writes them: items with their hashes, each source's count from the
// items written, its due time from its state's NextDue; each transaction
// announces its changes to the instances (Changes, Listen).
func (db *DB) Load(ctx context.Context) (store.RecordWriter, error) {
	var states, items, tombstones, decisions, versions, subs int64
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM sources WHERE state IS NOT NULL),
		greatest((SELECT coalesce(sum(item_count), 0) FROM sources), (SELECT count(*) FROM (SELECT 1 FROM items LIMIT 1) i)),
		(SELECT count(*) FROM (SELECT 1 FROM tombstones LIMIT 1) t),
		(SELECT count(*) FROM decisions),
		(SELECT count(*) FROM section_versions),
		(SELECT count(*) FROM hub_subscriptions) + (SELECT count(*) FROM push_subscriptions)`).Scan(&states, &items, &tombstones, &decisions, &versions, &subs)
	if err != nil {
		return nil, fmt.Errorf("load into %s: %w", db.path, err)
	}
	var held []string
	for _, h := range []struct {
		n    int64
		what string
	}{{states, "fetch state"}, {items, "item"}, {tombstones, "tombstone"}, {decisions, "editorial decision"}, {versions, "section version"}, {subs, "WebSub subscription"}} {
		switch {
		case h.n == 0:
		case h.what == "tombstone": // counted only up to 1
			held = append(held, "tombstones")
		case h.n == 1:
			held = append(held, "1 "+h.what)
		default:
			held = append(held, fmt.Sprintf("%d %ss", h.n, h.what))
		}
	}
	if len(held) > 0 {
		return nil, fmt.Errorf("%w: %s holds %s", store.ErrNotEmpty, db.path, strings.Join(held, ", "))
	}
	l := &loader{db: db, ctx: ctx, sources: map[string]bool{}, sections: map[string]bool{}, pushes: map[string]bool{}}
	l.Batcher = &store.Batcher{Flush: l.flush, Undo: l.abort}
	return l, nil
}

// loader is a Load in progress. It remembers the sources and sections it
// wrote, for Abort, and the items loaded of the source whose articles it
// is taking.
type loader struct {
	*store.Batcher
	db       *DB
	ctx      context.Context
	sources  map[string]bool
	sections map[string]bool
	// hubTopics, hubCallbacks and pushes are the subscriptions it wrote.
	hubTopics, hubCallbacks []string
	pushes                  map[string]bool
	// heldOf is the source whose loaded items held lists (hashes of their
	// ids), read when its first article came.
	heldOf string
	held   map[string]bool
}

// Write takes r into the next transaction; an article whose item was not
// loaded is refused (store.ErrSkipped). Articles come after their
// source's items: at a source's first article, the records taken so far
// are written and the source's loaded items read, once.
func (l *loader) Write(r store.Entry) error {
	if r.Article == nil {
		return l.Batcher.Write(r)
	}
	a := r.Article.Article
	if l.held == nil || l.heldOf != a.SourceID {
		if err := l.Batcher.Commit(); err != nil {
			return err
		}
		held, err := l.itemsOf(a.SourceID)
		if err != nil {
			return err
		}
		l.heldOf, l.held = a.SourceID, held
	}
	if !l.held[string(hash(a.ItemID))] {
		return fmt.Errorf("%w: the article of %.80q in %s: its item was not copied", store.ErrSkipped, a.ItemID, a.SourceID)
	}
	return l.Batcher.Write(r)
}

// itemsOf returns the id hashes of the items of a source loaded so far.
func (l *loader) itemsOf(sourceID string) (map[string]bool, error) {
	ctx, cancel := bound(l.ctx)
	defer cancel()
	rows, err := l.db.pool.Query(ctx, `SELECT id_hash FROM items WHERE source_id = $1`, sourceID)
	if err != nil {
		return nil, fmt.Errorf("load into %s: items of %s: %w", l.db.path, sourceID, err)
	}
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("load into %s: items of %s: %w", l.db.path, sourceID, err)
	}
	held := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		held[string(h)] = true
	}
	return held, nil
}

// abort deletes what the load wrote: everything about the sources and
// sections it wrote, which the store did not hold when the load began.
func (l *loader) abort() error {
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	ids, sections := keys(l.sources), keys(l.sections)
	err := l.db.txCtx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM hub_subscriptions h USING unnest($1::text[], $2::text[]) AS x(t, c)
			WHERE h.topic = x.t AND h.callback = x.c`, l.hubTopics, l.hubCallbacks); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE source_id = ANY($1)`, keys(l.pushes)); err != nil {
			return err
		}
		for _, del := range []struct {
			sql string
			ids []string
		}{
			{`DELETE FROM items WHERE source_id = ANY($1)`, ids},
			{`DELETE FROM tombstones WHERE source_id = ANY($1)`, ids},
			{`DELETE FROM decisions WHERE section_id = ANY($1)`, sections},
			{`DELETE FROM section_versions WHERE section_id = ANY($1)`, sections},
			{`UPDATE sources SET state = NULL, item_count = 0, removed_at = NULL, due_at = NULL WHERE source_id = ANY($1)`, ids},
			// Rows left bare, unless an instance is configured with them.
			{`DELETE FROM sources s WHERE s.source_id = ANY($1) AND s.lease_owner IS NULL
				AND NOT EXISTS (SELECT 1 FROM instance_sources i WHERE i.source_id = s.source_id)`, ids},
		} {
			if _, err := tx.Exec(ctx, del.sql, del.ids); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove what was loaded into %s: %w", l.db.path, err)
	}
	return nil
}

func keys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// flush writes records in one transaction.
func (l *loader) flush(records []store.Entry) error {
	b := &loadBatch{}
	for _, r := range records {
		b.add(r, l)
	}
	if b.err != nil {
		return fmt.Errorf("load into %s: %w", l.db.path, b.err)
	}
	ctx, cancel := bound(l.ctx)
	defer cancel()
	if err := l.db.txCtx(ctx, b.write); err != nil {
		return fmt.Errorf("load into %s: %w", l.db.path, err)
	}
	return nil
}

// loadBatch is one transaction of a load, sorted by table.
type loadBatch struct {
	sources                  []*store.SourceRecord
	items, tombstones, edits [][]any // rows for COPY
	articles                 [][]any
	err                      error // a record that could not be encoded
	counts                   map[string]int64
	sections                 []*store.SectionRecord
	editSections             []string
	hubs                     []newsdesk.HubSubscription
	pushes                   []newsdesk.PushSubscription
}

// add sorts one record into the batch, and notes its source or section
// in l for Abort.
func (b *loadBatch) add(r store.Entry, l *loader) {
	switch {
	case r.Source != nil:
		b.sources = append(b.sources, r.Source)
		l.sources[r.Source.ID] = true
	case r.Item != nil:
		b.items = append(b.items, itemRow(r.Item))
		b.count(r.Item.SourceID, 1)
		l.sources[r.Item.SourceID] = true
	case r.Tombstone != nil:
		t := r.Tombstone
		h, id := t.IDHash, []byte(nil)
		if t.ItemID != "" {
			h, id = hash(t.ItemID), []byte(t.ItemID)
		}
		b.tombstones = append(b.tombstones, []any{t.SourceID, h, id, ns(t.Seen)})
		l.sources[t.SourceID] = true
	case r.Decision != nil:
		d := r.Decision
		b.edits = append(b.edits, []any{d.SectionID, d.Edit.Ref.SourceID, hash(d.Edit.Ref.ID), []byte(d.Edit.Ref.ID), string(d.Edit.Decision), ns(d.Edit.At)})
		b.editSections = append(b.editSections, d.SectionID)
		l.sections[d.SectionID] = true
	case r.Section != nil:
		b.sections = append(b.sections, r.Section)
		l.sections[r.Section.ID] = true
	case r.Article != nil:
		row, err := articleRow(r.Article.Article, r.Article.Page)
		if err != nil {
			b.err = fmt.Errorf("article of %s in %s: %w", r.Article.Article.ItemID, r.Article.Article.SourceID, err)
		}
		b.articles = append(b.articles, row)
		b.count(r.Article.Article.SourceID, 0) // changed, for Changes
	case r.HubSub != nil:
		b.hubs = append(b.hubs, *r.HubSub)
		l.hubTopics, l.hubCallbacks = append(l.hubTopics, r.HubSub.Topic), append(l.hubCallbacks, r.HubSub.Callback)
	case r.PushSub != nil:
		b.pushes = append(b.pushes, *r.PushSub)
		l.pushes[r.PushSub.SourceID] = true
	}
}

// count adds n items to a source's count (writeCounts, which also marks
// the source changed).
func (b *loadBatch) count(sourceID string, n int64) {
	if b.counts == nil {
		b.counts = map[string]int64{}
	}
	b.counts[sourceID] += n
}

// itemRow is an item's row of the items table, as SaveFetch's put
// writes it.
func itemRow(rec *store.Record) []any {
	it := *rec
	it.Duplicates = nil
	it.Published, it.Updated, it.FirstSeen = it.Published.UTC(), it.Updated.UTC(), it.FirstSeen.UTC()
	data, err := json.Marshal(it)
	if err != nil { // a newsdesk.Item always encodes
		panic(err)
	}
	return []any{it.SourceID, hash(it.ID), []byte(it.ID), ns(it.Published), ns(it.FirstSeen), orNil(it.Link), orNil(store.TitleKey(it.Title)), string(data)}
}

// write writes the batch in tx: sources first, then the items (and the
// counts they add), tombstones, decisions, articles (after the items they
// belong to) and section versions.
func (b *loadBatch) write(ctx context.Context, tx pgx.Tx) error {
	if err := b.writeSources(ctx, tx); err != nil {
		return err
	}
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"items", []string{"source_id", "id_hash", "item_id", "published_ns", "first_seen_ns", "link_hash", "title_hash", "data"}, b.items},
		{"tombstones", []string{"source_id", "id_hash", "item_id", "seen_ns"}, b.tombstones},
		{"decisions", []string{"section_id", "source_id", "id_hash", "item_id", "decision", "at_ns"}, b.edits},
		{"articles", articleCols, b.articles},
	} {
		if len(c.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return fmt.Errorf("%s: %w", c.table, err)
		}
	}
	if err := b.writeCounts(ctx, tx); err != nil {
		return err
	}
	if err := b.writeSubscriptions(ctx, tx); err != nil {
		return err
	}
	return b.writeSections(ctx, tx)
}

// writeSubscriptions writes the WebSub subscriptions as SaveHubSubscription
// and SavePushSubscription do.
func (b *loadBatch) writeSubscriptions(ctx context.Context, tx pgx.Tx) error {
	for _, s := range b.hubs {
		if err := saveHub(ctx, tx, s); err != nil {
			return fmt.Errorf("hub subscription of %s: %w", store.Redact(s.Callback), err)
		}
	}
	for _, p := range b.pushes {
		if err := savePush(ctx, tx, p); err != nil {
			return fmt.Errorf("push subscription of %s: %w", p.SourceID, err)
		}
	}
	return nil
}

// writeSources upserts the sources' rows: state, orphan mark, and the due
// time their state says (a row SyncSources made keeps its host).
func (b *loadBatch) writeSources(ctx context.Context, tx pgx.Tx) error {
	if len(b.sources) == 0 {
		return nil
	}
	ids := make([]string, len(b.sources))
	states := make([]*string, len(b.sources))
	removed := make([]*int64, len(b.sources))
	dues := make([]*time.Time, len(b.sources))
	for i, s := range b.sources {
		ids[i] = s.ID
		if !s.RemovedAt.IsZero() {
			removed[i] = new(ns(s.RemovedAt))
		}
		if s.State == nil {
			continue
		}
		data, err := json.Marshal(s.State)
		if err != nil {
			return fmt.Errorf("state of %s: %w", s.ID, err)
		}
		states[i] = new(string(data))
		if !s.State.NextDue.IsZero() {
			dues[i] = &s.State.NextDue
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO sources (source_id, state, removed_at, due_at, changed_seq)
		SELECT id, st::json, r, d, `+xactSeq+` FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[]) AS x(id, st, r, d)
		ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, removed_at = excluded.removed_at,
			due_at = excluded.due_at, changed_seq = excluded.changed_seq`, ids, states, removed, dues)
	return err
}

// writeCounts adds the items of the batch to their sources' counts, and
// marks those sources (and those of its articles) changed.
func (b *loadBatch) writeCounts(ctx context.Context, tx pgx.Tx) error {
	if len(b.counts) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(b.counts)) // lock rows in one order
	counts := make([]int64, len(ids))
	for i, id := range ids {
		counts[i] = b.counts[id]
	}
	_, err := tx.Exec(ctx, `INSERT INTO sources AS s (source_id, item_count, changed_seq)
		SELECT id, n, `+xactSeq+` FROM unnest($1::text[], $2::bigint[]) AS x(id, n)
		ON CONFLICT (source_id) DO UPDATE SET item_count = s.item_count + excluded.item_count, changed_seq = excluded.changed_seq`, ids, counts)
	return err
}

// writeSections upserts the section versions, marks the sections whose
// decisions were loaded as changed, and announces the batch.
func (b *loadBatch) writeSections(ctx context.Context, tx pgx.Tx) error {
	ids, hashes, changed := []string{}, []string{}, []int64{}
	for _, s := range b.sections {
		ids, hashes, changed = append(ids, s.ID), append(hashes, s.Version.Hash), append(changed, ns(s.Version.ChangedAt))
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO section_versions (section_id, hash, changed_at_ns)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
			ON CONFLICT (section_id) DO UPDATE SET hash = excluded.hash, changed_at_ns = excluded.changed_at_ns`, ids, hashes, changed); err != nil {
			return err
		}
	}
	if len(b.editSections) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO section_changes (section_id, changed_seq) SELECT DISTINCT id, `+xactSeq+` FROM unnest($1::text[]) AS x(id)
			ON CONFLICT (section_id) DO UPDATE SET changed_seq = excluded.changed_seq`, b.editSections); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify('`+channel+`', (`+xactSeq+`)::text)`)
	return err
}
