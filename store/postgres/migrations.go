package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// migration is one forward step of the schema.
type migration struct {
	sql string
	// minReader is the oldest schema level a binary must know to use the
	// database once this migration is applied: the migration's own level
	// when it contracts (drops or changes what older binaries use), else
	// the previous migration's minReader (an expand-only change that older
	// binaries can ignore).
	minReader int
}

// migrations are the schema's forward migrations: migrations[i] brings
// version i to i+1. Each runs in its own transaction with its version
// row, which records its minReader. Never edit one that has shipped: add
// the next. Rolling upgrades are expand-then-contract: a migration that
// only adds keeps minReader, so binaries of the previous release keep
// working while the others are upgraded; a later release contracts
// (drops what nothing reads any more) and raises it.
var migrations = []migration{
	{minReader: 1, sql: migration1},
	{minReader: 1, sql: migration2},
	{minReader: 1, sql: migration3},
	{minReader: 1, sql: migration4},
	{minReader: 1, sql: migration5},
}

const migration1 = `
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
`

// migration2 adds what several instances sharing the store need (expand
// only: a binary of schema 1 could ignore all of it).
const migration2 = `
ALTER TABLE sources
	ADD COLUMN due_at      timestamptz,                 -- next fetch; NULL: due now
	ADD COLUMN host        text NOT NULL DEFAULT '',    -- where its fetches go, for per_host
	ADD COLUMN lease_owner text,                        -- instance holding the lease, NULL when none
	ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0,   -- leases taken so far: what a leased save checks
	ADD COLUMN lease_until timestamptz,                 -- the lease's expiry, database clock
	ADD COLUMN changed_seq bigint NOT NULL DEFAULT 0;   -- transaction id of the last change of items or state
CREATE INDEX sources_by_due ON sources (due_at NULLS FIRST, source_id);
CREATE INDEX sources_leased ON sources (host, lease_until) WHERE lease_owner IS NOT NULL;
CREATE INDEX sources_by_change ON sources (changed_seq);
CREATE TABLE instances (
	instance_id text COLLATE "C" PRIMARY KEY,
	host        text NOT NULL,
	command     text NOT NULL,
	version     text NOT NULL,
	config_hash text NOT NULL,
	sources     integer NOT NULL,
	started_at  timestamptz NOT NULL DEFAULT now(),
	seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE instance_sources (
	instance_id text COLLATE "C" NOT NULL,
	source_id   text COLLATE "C" NOT NULL,
	PRIMARY KEY (instance_id, source_id)
);
CREATE INDEX instance_sources_by_source ON instance_sources (source_id);
CREATE TABLE section_changes (
	section_id  text COLLATE "C" PRIMARY KEY,
	changed_seq bigint NOT NULL            -- transaction id of the last change of its decisions
);
CREATE INDEX section_changes_by_change ON section_changes (changed_seq);
ALTER TABLE tombstones ADD COLUMN item_id bytea; -- the pruned item's stored id; NULL for those pruned before schema 2
`

// migration3 keeps, with each section version, the snapshot its content
// was read in (expand only: older binaries leave it as it is).
const migration3 = `
ALTER TABLE section_versions ADD COLUMN read_pos text NOT NULL DEFAULT ''; -- pg_current_snapshot() before the render's reads; '': unknown
`

// migration4 adds full article text (issue 13): one row per item of a
// full-text source, keyed like its item, which it never changes. Expand
// only: older binaries neither read nor write the table, and the foreign
// key's cascade removes an item's article (and its page) with the item, so
// their retention pruning and purges stay correct unchanged.
const migration4 = `
CREATE TABLE articles (
	source_id   text COLLATE "C" NOT NULL,
	id_hash     bytea NOT NULL,          -- the item's: sha256(item_id)
	link_hash   bytea,                   -- sha256(the item link it was made for), NULL for none
	status      text NOT NULL,           -- newsdesk.ArticleStatus
	attempts    integer NOT NULL DEFAULT 0,
	next_try_ns bigint,                  -- when a failed article is due again, Unix ns; NULL: not set
	fetched_ns  bigint,                  -- when its page was last read, Unix ns; NULL: never
	html        text NOT NULL DEFAULT '', -- the article, shown when status is 'ok'
	data        json NOT NULL,           -- the rest of the newsdesk.Article (its HTML is in html)
	page        bytea,                   -- the decoded page it came from, up to 2 MiB (store.MaxArticlePage); NULL when not kept
	PRIMARY KEY (source_id, id_hash),
	FOREIGN KEY (source_id, id_hash) REFERENCES items (source_id, id_hash) ON DELETE CASCADE
);
`

// migration5 adds WebSub (issue 14): readers' subscriptions to sections,
// with their delivery state and claim (claimed_by, claim_until_ns: the
// instance delivering and until when), and newsdesk's subscriptions to
// sources' hubs, removed with the source's row. Expand only: older
// binaries neither read nor write them, and the cascade keeps their
// purges correct.
const migration5 = `
CREATE TABLE hub_subscriptions (
	topic           text COLLATE "C" NOT NULL,  -- hub.topic as given (a private section's has its token)
	callback        text COLLATE "C" NOT NULL,
	section_id      text COLLATE "C" NOT NULL,
	format          text NOT NULL,
	secret          text NOT NULL DEFAULT '',
	lease_seconds   integer NOT NULL,
	created_ns      bigint,                     -- times in Unix ns; NULL: zero
	expires_ns      bigint,
	sent_ns         bigint,                     -- ChangedAt of the section version last delivered
	failures        integer NOT NULL DEFAULT 0,
	next_try_ns     bigint,
	last_attempt_ns bigint,
	last_result     text NOT NULL DEFAULT '',
	claimed_by      text,                       -- instance holding the delivery, NULL when none
	claim_until_ns  bigint,
	PRIMARY KEY (topic, callback)
);
CREATE INDEX hub_subscriptions_due ON hub_subscriptions (section_id, next_try_ns);
CREATE TABLE push_subscriptions (
	source_id text COLLATE "C" PRIMARY KEY REFERENCES sources (source_id) ON DELETE CASCADE,
	data      json NOT NULL                     -- newsdesk.PushSubscription
);
`

// migrationLock is the pg_advisory_lock key under which migrations run
// ("newsdesk" in ASCII).
const migrationLock int64 = 0x6e65777364657368

// migrate applies the migrations known (migrations) the database lacks,
// holding the advisory lock so that instances starting at once apply each
// exactly once. A
// database newer than this binary is used when its migrations allow it
// (usable), else refused with store.ErrSchema.
func (db *DB) migrate(ctx context.Context, known []migration) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	// min_reader came with schema 2; a database of schema 1 has no such
	// column yet (its one row reads as 1).
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	);
	ALTER TABLE schema_version ADD COLUMN IF NOT EXISTS min_reader integer NOT NULL DEFAULT 1`); err != nil {
		return fmt.Errorf("schema_version: %w", err)
	}
	var have, minReader int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0), coalesce(max(min_reader), 0) FROM schema_version`).Scan(&have, &minReader); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if err := usable(have, minReader); err != nil {
		return err
	}
	for v := have; v < len(known); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, known[v].sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_version (version, min_reader) VALUES ($1, $2)`, v+1, known[v].minReader)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration to schema %d: %w", v+1, err)
		}
	}
	return nil
}

// usable says whether this binary, which knows len(migrations) schema
// levels, can use a database at level have whose migrations need a binary
// that knows at least minReader: a newer database is fine while what it
// added is expand-only for this binary (a rolling upgrade under way).
func usable(have, minReader int) error {
	known := len(migrations)
	if have <= known || minReader <= known {
		return nil
	}
	return fmt.Errorf("database schema %d needs a newsdesk that knows schema %d or newer, and this one (%s) knows %d: upgrade newsdesk on this machine: %w",
		have, minReader, newsdesk.Version, known, store.ErrSchema)
}
