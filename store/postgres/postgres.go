// Package postgres is newsdesk's PostgreSQL storage engine (issue 11): a
// store.Store on a PostgreSQL 13+ database through pgx v5, so that several
// newsdesk instances can share one store. It is the only importer of pgx.
//
// Its tests run against a real PostgreSQL: NEWSDESK_TEST_DATABASE_URL,
// which .ci/postgres.sh exports (`eval "$(.ci/postgres.sh start)"`).
//
// Schema (migrations.go): one row per source (its fetch state as JSON, its
// item count, its orphan mark), items keyed by source and the SHA-256 of
// their id (ids may be 32 KiB long, beyond what a btree index entry
// holds), tombstones, editorial decisions, section versions. Times that
// order or compare items are stored as Unix nanoseconds (bigint), exactly
// as the bbolt engine keeps them, not as timestamptz (microseconds).
// Schema 2 adds what several instances sharing the store need (it is a
// store.Cluster, cluster.go and lease.go): each source's due time, host
// and lease (owner, epoch, expiry), the instances and the sources each is
// configured with, and change numbers for Changes and Listen. The schema
// records, per migration, the oldest schema a binary must know to use the
// database (min_reader), so that a rolling upgrade keeps older binaries
// working until a migration contracts.
//
// Clocks: the store.Store methods keep the times their callers give (as
// the conformance suite checks); the cluster's times are the database's:
// leases and due times use the statement's time (statement_timestamp(),
// see lease.go), instances' heartbeats now(), and a leased
// save (SaveFetchLeased) dates new items by now() in its transaction, so
// instances whose clocks differ agree on which copy of a story was seen
// first. Instances pass Clock's time to RecordSectionVersions.
//
// Every call is bounded (callTimeout, more for a big fetch), so a database
// that stops answering fails the call instead of hanging its caller.
package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// DB is an open PostgreSQL store.
type DB struct {
	pool     *pgxpool.Pool
	path     string // the address without its password
	borrowed bool
	closeMu  *sync.Once
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at dsn (a postgres:// URL or a key=value
// connection string) and brings its schema up to date (migrations, under
// an advisory lock, so that instances starting at once migrate once).
func Open(ctx context.Context, dsn string) (*DB, error) { return open(ctx, dsn, migrations) }

// open is Open applying the migrations known (all but in tests that make
// the database of an older newsdesk).
func open(ctx context.Context, dsn string, known []migration) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sessionDefaults(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := &DB{pool: pool, path: newsdesk.RedactDSN(dsn), closeMu: &sync.Once{}}
	if err := db.migrate(ctx, known); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", db.path, err)
	}
	return db, nil
}

// callTimeout bounds every store call, so that a database that stops
// answering (a partition, a hung server) fails the call rather than
// hanging a fetch worker or a request. The longest call, a fetch of a big
// feed or a purge batch, takes well under a second.
const callTimeout = 30 * time.Second

// rowTimeout is what callTimeout grows by per item a fetch stores: a fetch
// of 100,000 items is one transaction, bounded but given the time it needs.
const rowTimeout = time.Millisecond

// pingTimeout bounds Ping: health checks must answer fast.
const pingTimeout = 5 * time.Second

// call is the context of one store call: the Store interface takes none.
func call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// bound is ctx limited to callTimeout, for the Cluster methods that take one.
func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// tx runs fn in a read-write transaction under one call's timeout,
// committed when fn returns nil.
func (db *DB) tx(fn func(context.Context, pgx.Tx) error) error {
	ctx, cancel := call()
	defer cancel()
	return db.txCtx(ctx, fn)
}

// txRows is tx for a call that writes about rows rows: its timeout grows
// by rowTimeout for each. A call of more than bigSave rows may also sit
// idle in its transaction that long (longIdle), not just idleInTransaction.
func (db *DB) txRows(rows int, fn func(context.Context, pgx.Tx) error) error {
	timeout := callTimeout + time.Duration(rows)*rowTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if rows <= bigSave {
		return db.txCtx(ctx, fn)
	}
	return db.txCtx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := longIdle(ctx, tx, timeout); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// txCtx is tx under the caller's ctx.
func (db *DB) txCtx(ctx context.Context, fn func(context.Context, pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

// view runs fn in a read-only transaction that sees one snapshot, under
// one call's timeout.
func (db *DB) view(fn func(context.Context, pgx.Tx) error) error {
	ctx, cancel := call()
	defer cancel()
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(ctx, tx) })
}

// Ping reports whether the database answers, within pingTimeout, a read
// of the schema version that this newsdesk can use.
func (db *DB) Ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	var have, minReader int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0), coalesce(max(min_reader), 0) FROM schema_version`).Scan(&have, &minReader); err != nil {
		return fmt.Errorf("ping %s: %w", db.path, err)
	}
	if err := usable(have, minReader); err != nil {
		return fmt.Errorf("ping %s: %w", db.path, err)
	}
	return nil
}

// Damaged is nil: PostgreSQL guards its own data, and a failed query is an
// error of that call, not a damaged store.
func (db *DB) Damaged() error { return nil }

// Path is the database's address without its password.
func (db *DB) Path() string { return db.path }

// Borrow returns a handle on the same pool whose Close does nothing.
func (db *DB) Borrow() store.Store {
	return &DB{pool: db.pool, path: db.path, borrowed: true, closeMu: db.closeMu}
}

// Close closes the pool, waiting for connections in use to be released.
func (db *DB) Close() error {
	if db.borrowed {
		return nil
	}
	db.closeMu.Do(db.pool.Close)
	return nil
}
