package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk/store"
)

// In the lease queries, $1 is the instance and $2 the request's sources
// (NULL: the instance's configured ones); in candidatesSQL $3 is Force.

// inRequest is the condition on sources s of being one the request asks for.
const inRequest = `(s.source_id = ANY($2) OR $2::text[] IS NULL AND EXISTS (
	SELECT 1 FROM instance_sources i WHERE i.instance_id = $1 AND i.source_id = s.source_id))`

// leasable is the condition on sources s of being leasable now: due (or
// forced) and held by no unexpired lease.
const leasable = `($3 OR s.due_at IS NULL OR s.due_at <= now()) AND (s.lease_owner IS NULL OR s.lease_until <= now())`

// candidatesSQL locks the sources a lease may take, oldest due first,
// skipping rows another transaction holds (so no one waits on a row). The
// inner query, which takes no locks, leaves out the sources beyond what
// their host's free slots ($4 per host, none when $4 <= 0) can take, so
// that one busy host does not crowd out the others within the $5 rows; the
// slots are counted again under the host locks (perHost).
const candidatesSQL = `SELECT s.source_id, s.host FROM sources s WHERE s.source_id IN (
	SELECT d.source_id FROM (
		SELECT s.source_id, s.host, s.due_at, row_number() OVER (PARTITION BY s.host ORDER BY s.due_at NULLS FIRST, s.source_id) AS rn
		FROM sources s WHERE ` + inRequest + ` AND ` + leasable + `) d
	LEFT JOIN (SELECT host, count(*) AS n FROM sources WHERE lease_owner IS NOT NULL AND lease_until > now() GROUP BY host) b ON b.host = d.host
	WHERE $4 <= 0 OR d.rn <= $4 - coalesce(b.n, 0)
	ORDER BY d.due_at NULLS FIRST, d.source_id LIMIT $5)
AND ` + leasable + `
ORDER BY s.due_at NULLS FIRST, s.source_id
FOR UPDATE OF s SKIP LOCKED`

// nextSQL is when the earliest of the request's sources not leased by this
// call ($3) is due (now when it is already) or its lease expires.
const nextSQL = `SELECT least(
	(SELECT coalesce(s.due_at, now()) FROM sources s WHERE ` + inRequest + ` AND NOT (s.source_id = ANY($3))
		AND (s.lease_owner IS NULL OR s.lease_until <= now()) ORDER BY s.due_at NULLS FIRST, s.source_id LIMIT 1),
	(SELECT s.lease_until FROM sources s WHERE ` + inRequest + ` AND NOT (s.source_id = ANY($3))
		AND s.lease_owner IS NOT NULL AND s.lease_until > now() ORDER BY s.lease_until LIMIT 1)), now()`

// leaseCand is a source a lease may take.
type leaseCand struct{ id, host string }

// Lease leases up to req.Max sources, as store.Cluster says, in one
// transaction committed at once: it locks the candidate rows with SKIP
// LOCKED, takes an advisory lock per leaseCand host in one order (so
// concurrent leases of one host count its leases one after the other, and
// never deadlock), keeps what the hosts' free slots allow, and sets the
// leases: owner, epoch + 1, until now() + req.For. Sources no instance has
// recorded with SyncSources have no row and are not leased.
func (db *DB) Lease(ctx context.Context, req store.LeaseRequest) (store.LeaseBatch, error) {
	var out store.LeaseBatch
	if req.Instance == "" || req.For <= 0 {
		return out, fmt.Errorf("lease: an instance and a duration are needed (got %q, %s)", req.Instance, req.For)
	}
	var sources []string // nil: the instance's
	if req.Sources != nil {
		sources = append([]string{}, req.Sources...)
	}
	ctx, cancel := bound(ctx)
	defer cancel()
	err := db.txCtx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var picked []leaseCand
		if req.Max > 0 {
			cands, err := leaseCandidates(ctx, tx, req, sources)
			if err != nil {
				return err
			}
			if picked, err = perHost(ctx, tx, req.PerHost, cands); err != nil {
				return err
			}
		}
		ids := make([]string, len(picked))
		for i, c := range picked {
			ids[i] = c.id
		}
		var err error
		if out.Leases, err = takeLeases(ctx, tx, req, ids); err != nil {
			return err
		}
		var next *time.Time
		if err := tx.QueryRow(ctx, nextSQL, req.Instance, sources, ids).Scan(&next, &out.Now); err != nil {
			return err
		}
		out.Now = out.Now.UTC()
		if next != nil {
			out.Next = next.UTC()
		}
		return nil
	})
	if err != nil {
		return store.LeaseBatch{}, fmt.Errorf("lease sources for %s: %w", req.Instance, err)
	}
	return out, nil
}

// leaseCandidates locks the rows that the lease may take.
func leaseCandidates(ctx context.Context, tx pgx.Tx, req store.LeaseRequest, sources []string) ([]leaseCand, error) {
	rows, err := tx.Query(ctx, candidatesSQL, req.Instance, sources, req.Force, req.PerHost, req.Max)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (leaseCand, error) {
		var c leaseCand
		err := row.Scan(&c.id, &c.host)
		return c, err
	})
}

// perHost keeps the candidates that their hosts' free slots allow, in
// order, holding each leaseCand host's advisory lock (until commit) while
// it counts the host's unexpired leases.
func perHost(ctx context.Context, tx pgx.Tx, limit int, cands []leaseCand) ([]leaseCand, error) {
	if limit <= 0 || len(cands) == 0 {
		return cands, nil
	}
	var hosts []string
	for _, c := range cands {
		if !slices.Contains(hosts, c.host) {
			hosts = append(hosts, c.host)
		}
	}
	// One statement locks them in the order of their keys: the inner
	// query's ORDER BY ... LIMIT makes it sort before the outer one
	// locks, row by row.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, k) FROM (
		SELECT DISTINCT hashtext(h) AS k FROM unnest($2::text[]) AS h ORDER BY k LIMIT $3) AS keys`,
		hostLocks, hosts, len(hosts)); err != nil {
		return nil, err
	}
	busy := map[string]int{}
	rows, err := tx.Query(ctx, `SELECT host, count(*) FROM sources WHERE host = ANY($1) AND lease_owner IS NOT NULL AND lease_until > now() GROUP BY host`, hosts)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var h string
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			return nil, err
		}
		busy[h] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []leaseCand
	for _, c := range cands {
		if busy[c.host] < limit {
			busy[c.host]++
			out = append(out, c)
		}
	}
	return out, nil
}

// takeLeases sets the leases of ids, in the order of ids.
func takeLeases(ctx context.Context, tx pgx.Tx, req store.LeaseRequest, ids []string) ([]store.Lease, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `UPDATE sources SET lease_owner = $1, lease_epoch = lease_epoch + 1,
		lease_until = now() + $2::bigint * interval '1 microsecond'
		WHERE source_id = ANY($3) RETURNING source_id, lease_epoch, lease_until, now()`, req.Instance, req.For.Microseconds(), ids)
	if err != nil {
		return nil, err
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Lease, error) {
		l := store.Lease{Instance: req.Instance}
		err := row.Scan(&l.SourceID, &l.Epoch, &l.Until, &l.Now)
		l.Until, l.Now = l.Until.UTC(), l.Now.UTC()
		return l, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b store.Lease) int { return slices.Index(ids, a.SourceID) - slices.Index(ids, b.SourceID) })
	return got, nil
}
