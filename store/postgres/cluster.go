package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk/store"
)

var _ store.Cluster = (*DB)(nil)

// channel is the NOTIFY channel on which every commit that changes a
// source's items or state or a section's decisions is announced.
const channel = "newsdesk_changes"

// xactSeq is the change number of the writing transaction: its 64-bit
// transaction id. Change numbers are transaction ids, not a sequence,
// because a sequence is drawn in one order and committed in another: a
// reader could see number 6 committed and then miss 5. A snapshot's xmin
// instead says that every transaction below it has ended (Changes).
const xactSeq = `pg_current_xact_id()::text::bigint`

// forgetAfter is how long an instance that stopped sending heartbeats
// (Join) stays recorded: Join deletes older ones, so dead instances do not
// pile up.
const forgetAfter = 7 * 24 * time.Hour

// listenCheck is how long Listen waits for a notification before it checks
// that its connection still answers: a connection lost without a word (a
// partition) is noticed within about this long.
const listenCheck = time.Minute

// hostLocks is the first key of the advisory locks Lease takes per host
// (pg_advisory_xact_lock(hostLocks, hashtext(host))): two 32-bit keys, a
// key space apart from the migration lock's single 64-bit key.
const hostLocks int32 = 0x6e657773 // "news"

// Clock returns the database's time now.
func (db *DB) Clock(ctx context.Context) (time.Time, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var now time.Time
	if err := db.pool.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("clock of %s: %w", db.path, err)
	}
	return now.UTC(), nil
}

// Join records this instance, or refreshes its record (a heartbeat): its
// Seen is the database's time now, its Started that of its first Join.
// It also forgets the instances not seen for forgetAfter, with their
// configured sources.
func (db *DB) Join(ctx context.Context, in store.Instance) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := db.txCtx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := forgetDead(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO instances (instance_id, host, command, version, config_hash, sources) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (instance_id) DO UPDATE SET host = excluded.host, command = excluded.command, version = excluded.version,
				config_hash = excluded.config_hash, sources = excluded.sources, seen_at = now()`,
			in.ID, in.Host, in.Command, in.Version, in.ConfigHash, in.Sources)
		return err
	})
	if err != nil {
		return fmt.Errorf("join instance %s: %w", in.ID, err)
	}
	return nil
}

// forgetDead deletes the instances not seen for forgetAfter and the
// configured sources of instances no longer recorded.
func forgetDead(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `DELETE FROM instances WHERE seen_at < now() - $1::bigint * interval '1 microsecond'`, forgetAfter.Microseconds()); err != nil {
		return err
	}
	return unconfigure(ctx, tx, `NOT EXISTS (SELECT 1 FROM instances n WHERE n.instance_id = i.instance_id)`)
}

// unconfigure deletes the configured sources i (instance_sources) that
// where selects, and then the rows of those sources that hold nothing
// (SyncSources made them, nothing was fetched), that no lease holds and
// that no instance is configured with any more.
func unconfigure(ctx context.Context, tx pgx.Tx, where string, args ...any) error {
	rows, err := tx.Query(ctx, `DELETE FROM instance_sources i WHERE `+where+` RETURNING source_id`, args...)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM sources s WHERE s.source_id = ANY($1) AND s.state IS NULL AND s.item_count = 0 AND s.lease_owner IS NULL
		AND NOT EXISTS (SELECT 1 FROM instance_sources i WHERE i.source_id = s.source_id)`, ids)
	return err
}

// Leave removes this instance's record and its configured sources.
func (db *DB) Leave(ctx context.Context, instanceID string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	err := db.txCtx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM instances WHERE instance_id = $1`, instanceID); err != nil {
			return err
		}
		return unconfigure(ctx, tx, `i.instance_id = $1`, instanceID)
	})
	if err != nil {
		return fmt.Errorf("leave as instance %s: %w", instanceID, err)
	}
	return nil
}

// Instances returns the instances seen within the last since, most
// recently started first.
func (db *DB) Instances(ctx context.Context, since time.Duration) ([]store.Instance, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT instance_id, host, command, version, config_hash, sources, started_at, seen_at FROM instances
		WHERE seen_at >= now() - $1::bigint * interval '1 microsecond' AND command <> '' -- not the bare row SyncSources makes before a Join
		ORDER BY started_at DESC, instance_id`, since.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("instances: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Instance, error) {
		var in store.Instance
		err := row.Scan(&in.ID, &in.Host, &in.Command, &in.Version, &in.ConfigHash, &in.Sources, &in.Started, &in.Seen)
		in.Started, in.Seen = in.Started.UTC(), in.Seen.UTC()
		return in, err
	})
	if err != nil {
		return nil, fmt.Errorf("instances: %w", err)
	}
	return out, nil
}

// SyncSources records the sources instanceID is configured with (and
// forgets the others for it), the host of each, and its due time: a
// zero Due makes a source new to the store due now and leaves a stored
// due time as it is (a restart never makes a source due early). A row it
// creates holds no state until the source is fetched: States and Orphans
// do not list it. It records the instance too when Join has not yet.
func (db *DB) SyncSources(ctx context.Context, instanceID string, sources []store.SourceDue) error {
	sorted := slices.Clone(sources)
	slices.SortFunc(sorted, func(a, b store.SourceDue) int { return strings.Compare(a.ID, b.ID) }) // lock rows in one order
	ids, hosts := make([]string, len(sorted)), make([]string, len(sorted))
	dues := make([]*time.Time, len(sorted))
	for i, s := range sorted {
		ids[i], hosts[i] = s.ID, s.Host
		if !s.Due.IsZero() {
			dues[i] = &sorted[i].Due
		}
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	err := db.txCtx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO instances (instance_id, host, command, version, config_hash, sources) VALUES ($1, '', '', '', '', $2)
			ON CONFLICT (instance_id) DO NOTHING`, instanceID, len(ids)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sources (source_id, host, due_at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
			ON CONFLICT (source_id) DO UPDATE SET host = excluded.host, due_at = coalesce(excluded.due_at, sources.due_at)
			WHERE sources.host <> excluded.host OR excluded.due_at IS DISTINCT FROM sources.due_at AND excluded.due_at IS NOT NULL`,
			ids, hosts, dues); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO instance_sources (instance_id, source_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, instanceID, ids); err != nil {
			return err
		}
		return unconfigure(ctx, tx, `i.instance_id = $1 AND NOT (i.source_id = ANY($2))`, instanceID, ids)
	})
	if err != nil {
		return fmt.Errorf("record the sources of instance %s: %w", instanceID, err)
	}
	return nil
}

// Release ends lease l without a fetch, leaving the source due as it
// was; a lease lost already is not an error.
func (db *DB) Release(ctx context.Context, l store.Lease) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := db.pool.Exec(ctx, `UPDATE sources SET lease_owner = NULL, lease_until = NULL WHERE source_id = $1 AND lease_owner = $2 AND lease_epoch = $3`,
		l.SourceID, l.Instance, l.Epoch); err != nil {
		return fmt.Errorf("release the lease of %s: %w", l.SourceID, err)
	}
	return nil
}

// Changes returns the sources and sections changed by the transactions
// whose change number (transaction id) is since or more, and the next
// since: the oldest transaction still running, below which every change
// has been seen. A change may be returned twice (a transaction that was
// running at one call and had committed by the next); none is missed.
// Since 0 returns the starting number and no ids.
func (db *DB) Changes(ctx context.Context, since int64) (store.Changes, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var out store.Changes
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&out.Seq); err != nil {
			return err
		}
		if since <= 0 {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT source_id FROM sources WHERE changed_seq >= $1 ORDER BY source_id`, since)
		if err != nil {
			return err
		}
		if out.Sources, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT section_id FROM section_changes WHERE changed_seq >= $1 ORDER BY section_id`, since)
		if err != nil {
			return err
		}
		out.Sections, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return store.Changes{}, fmt.Errorf("changes since %d: %w", since, err)
	}
	return out, nil
}

// Listen calls fn once it listens (commits made while it was not listening
// were not announced to it) and then after each notification of a change,
// until ctx is done (it returns nil) or its connection fails (it returns
// the error, for the caller to listen again). It uses a connection of its
// own, outside the pool, and checks every listenCheck that it still
// answers. It needs a session that lasts: not a PgBouncer in transaction
// mode.
func (db *DB) Listen(ctx context.Context, fn func()) error {
	conn, err := db.listen(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("listen for changes on %s: %w", db.path, err)
	}
	defer conn.Close(context.Background())
	fn()
	for {
		wait, cancel := context.WithTimeout(ctx, listenCheck)
		_, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			fn()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			ping, cancel := context.WithTimeout(ctx, pingTimeout)
			err = conn.Ping(ping)
			cancel()
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("listen for changes on %s: %w", db.path, err)
			}
		default:
			return fmt.Errorf("listen for changes on %s: %w", db.path, err)
		}
	}
}

// listen opens the listening connection.
func (db *DB) listen(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}
