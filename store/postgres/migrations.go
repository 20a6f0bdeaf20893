package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk/store"
)

// migrations are the schema's forward migrations: migrations[i] brings
// version i to i+1. Each runs in its own transaction with its version
// row. Never edit one that has shipped: add the next.
//
// TODO(issue 11): expand-then-contract rolling upgrades need the oldest
// compatible binary recorded (a column of schema_version), checked here.
var migrations = []string{
	// 1: the store.
	`
CREATE TABLE sources (
	source_id  text COLLATE "C" PRIMARY KEY,
	state      json,                      -- newsdesk.FetchState; NULL until SaveState/SaveFetch
	item_count bigint NOT NULL DEFAULT 0, -- rows in items, kept by SaveFetch and Purge
	removed_at bigint                     -- Unix ns when first seen missing from feeds.yaml
);
CREATE TABLE items (
	source_id     text COLLATE "C" NOT NULL,
	id_hash       bytea NOT NULL,  -- sha256(item_id): ids can be 32 KiB, more than a btree entry holds
	item_id       bytea NOT NULL,  -- the stored id's bytes: ties sort as Go strings do
	published_ns  bigint NOT NULL,
	first_seen_ns bigint NOT NULL,
	link_hash     bytea,           -- sha256(link), NULL without a link
	title_hash    bytea,           -- sha256(title key), NULL for a title too short to compare
	data          json NOT NULL,   -- the item as JSON, with "Dated"
	PRIMARY KEY (source_id, id_hash)
);
CREATE INDEX items_by_time ON items (source_id, published_ns);
CREATE INDEX items_by_link ON items (link_hash) WHERE link_hash IS NOT NULL;
CREATE INDEX items_by_title ON items (title_hash, published_ns) WHERE title_hash IS NOT NULL;
CREATE TABLE tombstones (
	source_id text COLLATE "C" NOT NULL,
	id_hash   bytea NOT NULL,
	seen_ns   bigint NOT NULL,     -- last fetch that carried the pruned item
	PRIMARY KEY (source_id, id_hash)
);
CREATE TABLE decisions (
	section_id text COLLATE "C" NOT NULL,
	source_id  text COLLATE "C" NOT NULL,
	id_hash    bytea NOT NULL,
	item_id    bytea NOT NULL,
	decision   text NOT NULL CHECK (decision IN ('pin', 'hide')),
	at_ns      bigint NOT NULL,
	PRIMARY KEY (section_id, source_id, id_hash)
);
CREATE INDEX decisions_by_source ON decisions (source_id);
CREATE TABLE section_versions (
	section_id    text COLLATE "C" PRIMARY KEY,
	hash          text NOT NULL,
	changed_at_ns bigint NOT NULL
);
`,
}

// migrationLock is the pg_advisory_lock key under which migrations run
// ("newsdesk" in ASCII).
const migrationLock int64 = 0x6e65777364657368

// migrate applies the migrations the database lacks, holding the advisory
// lock so that instances starting at once apply each exactly once. A
// database newer than this binary is refused with store.ErrSchema.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("schema_version: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this newsdesk's %d: %w", have, len(migrations), store.ErrSchema)
	}
	for v := have; v < len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration to schema %d: %w", v+1, err)
		}
	}
	return nil
}
