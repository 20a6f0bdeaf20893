package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// State returns the fetch state of a source, or newsdesk.ErrNotFound.
func (db *DB) State(sourceID string) (newsdesk.FetchState, error) {
	ctx, cancel := call()
	defer cancel()
	var st newsdesk.FetchState
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT state FROM sources WHERE source_id = $1 AND state IS NOT NULL`, sourceID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		err = newsdesk.ErrNotFound
	}
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		return st, fmt.Errorf("state of %s: %w", sourceID, err)
	}
	return st, nil
}

// States returns the fetch state of every source that has one, by id (a
// source SyncSources recorded but nothing fetched yet has none).
func (db *DB) States() ([]newsdesk.FetchState, error) {
	ctx, cancel := call()
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT source_id, state FROM sources WHERE state IS NOT NULL ORDER BY source_id`)
	if err != nil {
		return nil, fmt.Errorf("states: %w", err)
	}
	var out []newsdesk.FetchState
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("states: %w", err)
		}
		var st newsdesk.FetchState
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("state of %s: %w", id, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("states: %w", err)
	}
	return out, nil
}

// CountItems returns how many items of a source are stored.
func (db *DB) CountItems(sourceID string) (int, error) {
	ctx, cancel := call()
	defer cancel()
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT item_count FROM sources WHERE source_id = $1`, sourceID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count items of %s: %w", sourceID, err)
	}
	return int(n), nil
}

// Item returns one stored item, or newsdesk.ErrNotFound.
func (db *DB) Item(sourceID, itemID string) (newsdesk.Item, error) {
	ctx, cancel := call()
	defer cancel()
	it, err := getItem(ctx, db.pool, sourceID, itemID)
	if err == nil && it == nil {
		err = newsdesk.ErrNotFound
	}
	if err != nil {
		return newsdesk.Item{}, fmt.Errorf("item %s of %s: %w", itemID, sourceID, err)
	}
	return it.Item, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// getItem reads one item, with its article (articleJoin); nil when it is
// not stored.
func getItem(ctx context.Context, q querier, sourceID, itemID string) (*storedItem, error) {
	var data []byte
	var article *string
	err := q.QueryRow(ctx, `SELECT i.data, a.html FROM items i `+articleJoin+`
		WHERE i.source_id = $1 AND i.id_hash = $2`, sourceID, hash(itemID)).Scan(&data, &article)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	it, err := decodeItem(data, article)
	if err != nil {
		return nil, fmt.Errorf("item %.80q of %s: %w", itemID, sourceID, err)
	}
	return it, nil
}

// decodeItem is the item of a row's data, showing article (html of its
// articles row, NULL when it has none to show).
func decodeItem(data []byte, article *string) (*storedItem, error) {
	var it storedItem
	if err := json.Unmarshal(data, &it); err != nil {
		return nil, err
	}
	if article != nil {
		it.Article = *article
	}
	return &it, nil
}

// Items calls fn with each stored item of a source, in id order (bytes),
// until fn returns false. It reads the ids in one query, then the items
// itemsPage at a time, each query under its own timeout, and holds no
// transaction while fn runs: an item removed meanwhile is not seen, one
// stored meanwhile may not be.
func (db *DB) Items(sourceID string, fn func(newsdesk.Item) bool) error {
	hashes, err := db.itemHashes(sourceID)
	if err != nil {
		return fmt.Errorf("items of %s: %w", sourceID, err)
	}
	for len(hashes) > 0 {
		n := min(len(hashes), itemsPage)
		page, err := db.itemsByHash(sourceID, hashes[:n])
		if err != nil {
			return fmt.Errorf("items of %s: %w", sourceID, err)
		}
		for _, h := range hashes[:n] {
			if it, ok := page[string(h)]; ok && !fn(it.Item) {
				return nil
			}
		}
		hashes = hashes[n:]
	}
	return nil
}

// itemsPage is how many items one query of Items reads.
const itemsPage = 1000

// itemHashes returns the id hashes of a source's items in id order.
func (db *DB) itemHashes(sourceID string) ([][]byte, error) {
	ctx, cancel := call()
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT id_hash FROM items WHERE source_id = $1 ORDER BY item_id`, sourceID)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// itemsByHash reads the items of a source with the id hashes given, with
// their articles, by hash.
func (db *DB) itemsByHash(sourceID string, hashes [][]byte) (map[string]storedItem, error) {
	ctx, cancel := call()
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT i.id_hash, i.data, a.html FROM items i `+articleJoin+`
		WHERE i.source_id = $1 AND i.id_hash = ANY($2)`, sourceID, hashes)
	if err != nil {
		return nil, err
	}
	out := make(map[string]storedItem, len(hashes))
	for rows.Next() {
		var h, data []byte
		var article *string
		if err := rows.Scan(&h, &data, &article); err != nil {
			return nil, err
		}
		it, err := decodeItem(data, article)
		if err != nil {
			return nil, err
		}
		out[string(h)] = *it
	}
	return out, rows.Err()
}

// SetDecision records an editor's decision about an item in a section, or
// removes the one recorded when d is empty, and announces the section's
// change (Changes, Listen) in the same transaction.
func (db *DB) SetDecision(sectionID string, ref newsdesk.ItemRef, d newsdesk.Decision, at time.Time) error {
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if d == "" {
			_, err = tx.Exec(ctx, `DELETE FROM decisions WHERE section_id = $1 AND source_id = $2 AND id_hash = $3`, sectionID, ref.SourceID, hash(ref.ID))
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO decisions (section_id, source_id, id_hash, item_id, decision, at_ns) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (section_id, source_id, id_hash) DO UPDATE SET decision = excluded.decision, at_ns = excluded.at_ns`,
				sectionID, ref.SourceID, hash(ref.ID), []byte(ref.ID), string(d), ns(at))
		}
		if err != nil {
			return err
		}
		return sectionsChanged(ctx, tx, []string{sectionID})
	})
	if err != nil {
		return fmt.Errorf("record %s of %s in %s: %w", d, ref.Short(), sectionID, err)
	}
	return nil
}

// sectionsChanged announces, in tx, that the sections ids changed
// (Changes, Listen).
func sectionsChanged(ctx context.Context, tx pgx.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `WITH w AS (
		INSERT INTO section_changes (section_id, changed_seq) SELECT id, `+xactSeq+` FROM unnest($1::text[]) AS s(id)
		ON CONFLICT (section_id) DO UPDATE SET changed_seq = excluded.changed_seq RETURNING changed_seq)
		SELECT pg_notify('`+channel+`', changed_seq::text) FROM w`, ids)
	return err
}

// Edits returns the editorial decisions of a section, most recent first.
func (db *DB) Edits(sectionID string) ([]store.Edit, error) {
	ctx, cancel := call()
	defer cancel()
	out, err := edits(ctx, db.pool, sectionID)
	if err != nil {
		return nil, fmt.Errorf("editorial decisions of %s: %w", sectionID, err)
	}
	return out, nil
}

// rowsQuerier is a pool or a transaction.
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func edits(ctx context.Context, q rowsQuerier, sectionID string) ([]store.Edit, error) {
	if sectionID == "" {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT source_id, item_id, decision, at_ns FROM decisions WHERE section_id = $1
		ORDER BY at_ns DESC, source_id, item_id`, sectionID)
	if err != nil {
		return nil, err
	}
	var out []store.Edit
	for rows.Next() {
		var e store.Edit
		var id []byte
		var d string
		var at int64
		if err := rows.Scan(&e.Ref.SourceID, &id, &d, &at); err != nil {
			return nil, err
		}
		e.Ref.ID, e.Decision, e.At = string(id), newsdesk.Decision(d), nsTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// SectionVersions returns the stored version of every section that has one.
func (db *DB) SectionVersions() (map[string]newsdesk.SectionVersion, error) {
	ctx, cancel := call()
	defer cancel()
	out, err := versions(ctx, db.pool, nil)
	if err != nil {
		return nil, fmt.Errorf("section versions: %w", err)
	}
	return out, nil
}

// versions reads the versions of the sections ids (all when nil).
func versions(ctx context.Context, q rowsQuerier, ids []string) (map[string]newsdesk.SectionVersion, error) {
	rows, err := q.Query(ctx, `SELECT section_id, hash, changed_at_ns FROM section_versions WHERE $1::text[] IS NULL OR section_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]newsdesk.SectionVersion{}
	for rows.Next() {
		var id string
		var sv newsdesk.SectionVersion
		var at int64
		if err := rows.Scan(&id, &sv.Hash, &at); err != nil {
			return nil, err
		}
		sv.ChangedAt = nsTime(at)
		out[id] = sv
	}
	return out, rows.Err()
}

// Position returns the database's current snapshot (pg_current_snapshot,
// as text): a read begun after it sees every transaction it sees as done.
func (db *DB) Position() (string, error) {
	ctx, cancel := call()
	defer cancel()
	var pos string
	if err := db.pool.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&pos); err != nil {
		return "", fmt.Errorf("position: %w", err)
	}
	return pos, nil
}

// RecordSectionVersions records each section's content hash and returns
// their versions (newsdesk.SectionVersion.Next at now), in one transaction
// that locks the rows it reads, so that a version never goes back. The
// first instance to record a hash stores its version; the others read it,
// so every instance serves the same ETag. A render whose reads began
// (pos) before a transaction that the stored version's render saw as done
// keeps the stored version: it may have read older content, and recording
// it would move every instance's version back and forth (a new date, so a
// new ETag, for content that ends as it was). A new version is announced
// as a change of its section (Changes, Listen), so that every instance
// renders the section again and serves that version. Instances sharing the
// store pass the database's clock (Clock) as now, as store.Cluster says.
func (db *DB) RecordSectionVersions(hashes map[string]string, now time.Time, pos string) (map[string]newsdesk.SectionVersion, error) {
	var readAt snapshot
	if pos != "" {
		var err error
		if readAt, err = parseSnapshot(pos); err != nil {
			return nil, fmt.Errorf("record section versions: position %q is not one of this store's: %w", pos, err)
		}
	}
	ids := make([]string, 0, len(hashes))
	for id := range hashes {
		ids = append(ids, id)
	}
	slices.Sort(ids) // lock rows in one order
	out := make(map[string]newsdesk.SectionVersion, len(hashes))
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		// Create missing rows first so that FOR UPDATE locks every one.
		if _, err := tx.Exec(ctx, `INSERT INTO section_versions (section_id, hash, changed_at_ns) SELECT id, '', 0 FROM unnest($1::text[]) AS s(id) ON CONFLICT DO NOTHING`, ids); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT section_id, hash, changed_at_ns, read_pos, pg_current_snapshot()::text FROM section_versions WHERE section_id = ANY($1) ORDER BY section_id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		stored := map[string]newsdesk.SectionVersion{}
		behind := map[string]bool{}
		for rows.Next() {
			var id, readPos, current string
			var sv newsdesk.SectionVersion
			var at int64
			if err := rows.Scan(&id, &sv.Hash, &at, &readPos, &current); err != nil {
				return err
			}
			if at != 0 {
				sv.ChangedAt = nsTime(at)
			}
			stored[id] = sv
			if pos != "" && readPos != "" {
				behind[id] = isBehind(readAt, readPos, current)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var changed []string
		for _, id := range ids {
			old := stored[id]
			sv := old.Next(hashes[id], now)
			if behind[id] && sv.Hash != old.Hash {
				sv = old
			}
			out[id] = sv
			if sv.Hash == old.Hash && sv.ChangedAt.Equal(old.ChangedAt) {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE section_versions SET hash = $2, changed_at_ns = $3, read_pos = $4 WHERE section_id = $1`, id, sv.Hash, ns(sv.ChangedAt), pos); err != nil {
				return err
			}
			changed = append(changed, id)
		}
		// A new version is a change the other instances must render: one
		// that rendered older content (a snapshot from before another's
		// commit) and recorded it after another instance had recorded the
		// newer gives the newer content, rendered again, a new date, which
		// an instance that does not render again would never serve.
		return sectionsChanged(ctx, tx, changed)
	})
	if err != nil {
		return nil, fmt.Errorf("record section versions: %w", err)
	}
	return out, nil
}
