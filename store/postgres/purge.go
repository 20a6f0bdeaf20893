package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk/store"
)

// Orphans returns the stored sources that are not in configured, nor in
// the configuration of another instance sharing the store, by id.
func (db *DB) Orphans(configured []string) ([]store.Orphan, error) {
	var out []store.Orphan
	err := db.view(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = orphans(ctx, tx, configured)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("orphaned sources: %w", err)
	}
	return out, nil
}

// orphaned is the condition on sources s (configured being $1) of an
// orphan: not configured here, not configured by another instance sharing
// the store (SyncSources: its data is still in use there), and with
// something stored (a row SyncSources made for a source never fetched
// holds nothing to purge).
const orphaned = `NOT (s.source_id = ANY($1)) AND (s.state IS NOT NULL OR s.item_count > 0)
	AND NOT EXISTS (SELECT 1 FROM instance_sources i WHERE i.source_id = s.source_id)`

func orphans(ctx context.Context, tx pgx.Tx, configured []string) ([]store.Orphan, error) {
	if configured == nil {
		configured = []string{}
	}
	rows, err := tx.Query(ctx, `SELECT source_id, item_count, removed_at FROM sources s WHERE `+orphaned+` ORDER BY source_id`, configured)
	if err != nil {
		return nil, err
	}
	out := []store.Orphan{}
	for rows.Next() {
		var o store.Orphan
		var n int64
		var removed *int64
		if err := rows.Scan(&o.SourceID, &n, &removed); err != nil {
			return nil, err
		}
		o.Items = int(n)
		if removed != nil {
			o.RemovedAt = nsTime(*removed)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// MarkOrphans marks the stored sources missing from configured as first
// seen missing at now (unless marked), forgets the marks of configured
// ones, and returns the orphans.
func (db *DB) MarkOrphans(configured []string, now time.Time) ([]store.Orphan, error) {
	if configured == nil {
		configured = []string{}
	}
	var out []store.Orphan
	err := db.tx(func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sources s SET removed_at = NULL WHERE removed_at IS NOT NULL AND NOT (`+orphaned+`)`, configured); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sources s SET removed_at = $2 WHERE removed_at IS NULL AND `+orphaned, configured, ns(now.UTC())); err != nil {
			return err
		}
		var err error
		out, err = orphans(ctx, tx, configured)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mark orphaned sources: %w", err)
	}
	return out, nil
}

// Purge removes everything stored about a marked orphan, store.PurgeBatch items
// per transaction, and returns how many items it removed.
func (db *DB) Purge(sourceID string) (int, error) {
	removed := 0
	for {
		n, done, err := db.purgeSome(sourceID)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("purge %s: %w", sourceID, err)
		}
		if done {
			return removed, nil
		}
	}
}

func (db *DB) purgeSome(sourceID string) (n int, done bool, err error) {
	err = db.tx(func(ctx context.Context, tx pgx.Tx) error {
		var marked bool
		err := tx.QueryRow(ctx, `SELECT removed_at IS NOT NULL FROM sources WHERE source_id = $1 FOR UPDATE`, sourceID).Scan(&marked)
		if err == pgx.ErrNoRows || err == nil && !marked {
			return fmt.Errorf("source %q is not marked as removed from feeds.yaml", sourceID)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM items WHERE source_id = $1 AND id_hash IN (SELECT id_hash FROM items WHERE source_id = $1 LIMIT $2)`, sourceID, store.PurgeBatch)
		if err != nil {
			return err
		}
		if n = int(tag.RowsAffected()); n > 0 {
			_, err = tx.Exec(ctx, `UPDATE sources SET item_count = greatest(item_count - $2, 0) WHERE source_id = $1`, sourceID, n)
			return err
		}
		done = true
		for _, sql := range []string{
			`DELETE FROM tombstones WHERE source_id = $1`,
			`DELETE FROM decisions WHERE source_id = $1`,
			`DELETE FROM sources WHERE source_id = $1`,
		} {
			if _, err := tx.Exec(ctx, sql, sourceID); err != nil {
				return err
			}
		}
		return nil
	})
	return n, done, err
}

// PurgeExpired marks the orphans of configured and purges those first seen
// missing at least grace before now; a grace of 0 purges nothing.
func (db *DB) PurgeExpired(configured []string, now time.Time, grace time.Duration) (purged, kept []store.Orphan, err error) {
	orphans, err := db.MarkOrphans(configured, now)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range orphans {
		if grace <= 0 || now.Sub(o.RemovedAt) < grace {
			kept = append(kept, o)
			continue
		}
		if _, err := db.Purge(o.SourceID); err != nil {
			return purged, kept, err
		}
		purged = append(purged, o)
	}
	return purged, kept, nil
}
