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
//
// They read the clock with statement_timestamp(), never now(): now() is
// when the transaction began, and a lease may wait for a host's advisory
// lock (perHost) as long as another instance's lease transaction holds it
// (one paused in the middle of it: until the server ends that session). A
// lease dated by now() would then be granted already expired, for the next
// instance to lease again while its fetch runs: two fetches of a source at
// once, more than per_host requests to a host.

// inRequest is the condition on sources s of being one the request asks for.
const inRequest = `(s.source_id = ANY($2) OR $2::text[] IS NULL AND EXISTS (
	SELECT 1 FROM instance_sources i WHERE i.instance_id = $1 AND i.source_id = s.source_id))`

// leasable is the condition on sources s of being leasable now: due (or
// forced) and held by no unexpired lease.
const leasable = `($3 OR s.due_at IS NULL OR s.due_at <= statement_timestamp()) AND (s.lease_owner IS NULL OR s.lease_until <= statement_timestamp())`

// candidatesSQL locks up to $5 sources a lease may take, oldest due
// first, skipping rows another transaction holds (so no one waits on a
// row) and the hosts whose $4 slots are all leased (none when $4 <= 0). It
// walks the due-time index and stops after $5 rows, so its cost does not
// grow with the number of sources; the slots are counted again under the
// host locks (perHost), which keeps at most the free ones of each host.
const candidatesSQL = `SELECT s.source_id, s.host FROM sources s
WHERE ` + inRequest + ` AND ` + leasable + `
	AND ($4 <= 0 OR s.host NOT IN (SELECT host FROM sources WHERE lease_owner IS NOT NULL AND lease_until > statement_timestamp() GROUP BY host HAVING count(*) >= $4))
ORDER BY s.due_at NULLS FIRST, s.source_id
LIMIT $5
FOR UPDATE OF s SKIP LOCKED`

// candidatesPerLease is how many candidates a lease of n sources locks
// when hosts limit it: enough that a few busy hosts among the oldest due
// do not leave the lease short.
func candidatesPerLease(n int) int { return 4*n + 16 }

// nextSQL is when the earliest of the request's sources not leased by this
// call ($3) is due (now when it is already) or its lease expires.
const nextSQL = `SELECT least(
	(SELECT coalesce(s.due_at, statement_timestamp()) FROM sources s WHERE ` + inRequest + ` AND NOT (s.source_id = ANY($3))
		AND (s.lease_owner IS NULL OR s.lease_until <= statement_timestamp()) ORDER BY s.due_at NULLS FIRST, s.source_id LIMIT 1),
	(SELECT s.lease_until FROM sources s WHERE ` + inRequest + ` AND NOT (s.source_id = ANY($3))
		AND s.lease_owner IS NOT NULL AND s.lease_until > statement_timestamp() ORDER BY s.lease_until LIMIT 1)), statement_timestamp()`

// leaseCand is a source a lease may take.
type leaseCand struct{ id, host string }

// Lease leases up to req.Max sources, as store.Cluster says, in one
// transaction committed at once: it locks the candidate rows with SKIP
// LOCKED, takes an advisory lock per candidate host in one order (so
// concurrent leases of one host count its leases one after the other, and
// never deadlock), keeps what the hosts' free slots allow, and sets the
// leases: owner, epoch + 1, until the database's clock + req.For. Sources no instance has
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
			picked = picked[:min(len(picked), req.Max)]
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
	limit := req.Max
	if req.PerHost > 0 {
		limit = candidatesPerLease(req.Max)
	}
	rows, err := tx.Query(ctx, candidatesSQL, req.Instance, sources, req.Force, req.PerHost, limit)
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
	rows, err := tx.Query(ctx, `SELECT host, count(*) FROM sources WHERE host = ANY($1) AND lease_owner IS NOT NULL AND lease_until > statement_timestamp() GROUP BY host`, hosts)
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
		lease_until = statement_timestamp() + $2::bigint * interval '1 microsecond'
		WHERE source_id = ANY($3) RETURNING source_id, lease_epoch, lease_until, statement_timestamp()`, req.Instance, req.For.Microseconds(), ids)
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
