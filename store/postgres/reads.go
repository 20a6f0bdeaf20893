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
	var st newsdesk.FetchState
	var data []byte
	err := db.pool.QueryRow(ctx(), `SELECT state FROM sources WHERE source_id = $1 AND state IS NOT NULL`, sourceID).Scan(&data)
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

// States returns the fetch state of every source that has one, by id.
func (db *DB) States() ([]newsdesk.FetchState, error) {
	rows, err := db.pool.Query(ctx(), `SELECT source_id, state FROM sources WHERE state IS NOT NULL ORDER BY source_id`)
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
	var n int64
	err := db.pool.QueryRow(ctx(), `SELECT item_count FROM sources WHERE source_id = $1`, sourceID).Scan(&n)
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
	it, err := getItem(db.pool, sourceID, itemID)
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

// getItem reads one item; nil when it is not stored.
func getItem(q querier, sourceID, itemID string) (*storedItem, error) {
	var data []byte
	err := q.QueryRow(ctx(), `SELECT data FROM items WHERE source_id = $1 AND id_hash = $2`, sourceID, hash(itemID)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var it storedItem
	if err := json.Unmarshal(data, &it); err != nil {
		return nil, fmt.Errorf("item %.80q of %s: %w", itemID, sourceID, err)
	}
	return &it, nil
}

// Items calls fn with each stored item of a source, in id order (bytes),
// until fn returns false. It reads in one snapshot, streaming the rows.
func (db *DB) Items(sourceID string, fn func(newsdesk.Item) bool) error {
	return db.view(func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx(), `SELECT data FROM items WHERE source_id = $1 ORDER BY item_id`, sourceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				return err
			}
			var it storedItem
			if err := json.Unmarshal(data, &it); err != nil {
				return fmt.Errorf("item of %s: %w", sourceID, err)
			}
			if !fn(it.Item) {
				return nil
			}
		}
		return rows.Err()
	})
}

// SetDecision records an editor's decision about an item in a section, or
// removes the one recorded when d is empty.
func (db *DB) SetDecision(sectionID string, ref newsdesk.ItemRef, d newsdesk.Decision, at time.Time) error {
	var err error
	if d == "" {
		_, err = db.pool.Exec(ctx(), `DELETE FROM decisions WHERE section_id = $1 AND source_id = $2 AND id_hash = $3`, sectionID, ref.SourceID, hash(ref.ID))
	} else {
		_, err = db.pool.Exec(ctx(), `INSERT INTO decisions (section_id, source_id, id_hash, item_id, decision, at_ns) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (section_id, source_id, id_hash) DO UPDATE SET decision = excluded.decision, at_ns = excluded.at_ns`,
			sectionID, ref.SourceID, hash(ref.ID), []byte(ref.ID), string(d), ns(at))
	}
	if err != nil {
		return fmt.Errorf("record %s of %s in %s: %w", d, ref.Short(), sectionID, err)
	}
	return nil
}

// Edits returns the editorial decisions of a section, most recent first.
func (db *DB) Edits(sectionID string) ([]store.Edit, error) {
	out, err := edits(db.pool, sectionID)
	if err != nil {
		return nil, fmt.Errorf("editorial decisions of %s: %w", sectionID, err)
	}
	return out, nil
}

// rowsQuerier is a pool or a transaction.
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func edits(q rowsQuerier, sectionID string) ([]store.Edit, error) {
	if sectionID == "" {
		return nil, nil
	}
	rows, err := q.Query(ctx(), `SELECT source_id, item_id, decision, at_ns FROM decisions WHERE section_id = $1
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
	out, err := versions(db.pool, nil)
	if err != nil {
		return nil, fmt.Errorf("section versions: %w", err)
	}
	return out, nil
}

// versions reads the versions of the sections ids (all when nil).
func versions(q rowsQuerier, ids []string) (map[string]newsdesk.SectionVersion, error) {
	rows, err := q.Query(ctx(), `SELECT section_id, hash, changed_at_ns FROM section_versions WHERE $1::text[] IS NULL OR section_id = ANY($1)`, ids)
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

// RecordSectionVersions records each section's content hash and returns
// their versions (newsdesk.SectionVersion.Next), in one transaction that
// locks the rows it reads, so that a version never goes back.
//
// TODO(issue 11): now should be the database's clock, and a change
// announced with NOTIFY.
func (db *DB) RecordSectionVersions(hashes map[string]string, now time.Time) (map[string]newsdesk.SectionVersion, error) {
	ids := make([]string, 0, len(hashes))
	for id := range hashes {
		ids = append(ids, id)
	}
	slices.Sort(ids) // lock rows in one order
	out := make(map[string]newsdesk.SectionVersion, len(hashes))
	err := db.tx(func(tx pgx.Tx) error {
		// Create missing rows first so that FOR UPDATE locks every one.
		if _, err := tx.Exec(ctx(), `INSERT INTO section_versions (section_id, hash, changed_at_ns) SELECT id, '', 0 FROM unnest($1::text[]) AS s(id) ON CONFLICT DO NOTHING`, ids); err != nil {
			return err
		}
		rows, err := tx.Query(ctx(), `SELECT section_id, hash, changed_at_ns FROM section_versions WHERE section_id = ANY($1) ORDER BY section_id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		stored := map[string]newsdesk.SectionVersion{}
		for rows.Next() {
			var id string
			var sv newsdesk.SectionVersion
			var at int64
			if err := rows.Scan(&id, &sv.Hash, &at); err != nil {
				return err
			}
			if at != 0 {
				sv.ChangedAt = nsTime(at)
			}
			stored[id] = sv
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			old := stored[id]
			sv := old.Next(hashes[id], now)
			out[id] = sv
			if sv.Hash == old.Hash && sv.ChangedAt.Equal(old.ChangedAt) {
				continue
			}
			if _, err := tx.Exec(ctx(), `UPDATE section_versions SET hash = $2, changed_at_ns = $3 WHERE section_id = $1`, id, sv.Hash, ns(sv.ChangedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record section versions: %w", err)
	}
	return out, nil
}
