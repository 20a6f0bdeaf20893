package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store"
)

// The file commands (compact, backup, verify) on a PostgreSQL store:
// PostgreSQL does the first two with its own tools, which the commands
// name; verify checks newsdesk's own invariants in the database.

// compactPostgres is `newsdesk compact` on PostgreSQL: autovacuum does it.
func compactPostgres(cfg *config.Config) error {
	return fmt.Errorf("the store is PostgreSQL (%s), which reclaims the space of pruned rows itself (autovacuum): nothing to compact; to do it now, run: psql %s -c 'VACUUM (ANALYZE)'  (VACUUM FULL also gives the space back to the system, but locks the tables: stop every newsdesk first)",
		newsdesk.RedactDSN(cfg.Postgres), shellDSN(cfg))
}

// backupPostgres is `newsdesk backup FILE` on PostgreSQL: pg_dump does it.
func backupPostgres(cfg *config.Config, file string) error {
	return fmt.Errorf("the store is PostgreSQL (%s): back it up with PostgreSQL's own tools, while newsdesk runs: pg_dump -Fc -f %s %s  (restore into an empty database with pg_restore -d URL %s; for the whole cluster and point-in-time recovery, pg_basebackup)",
		newsdesk.RedactDSN(cfg.Postgres), shellQuote(file), shellDSN(cfg), shellQuote(file))
}

// verifier is a store that checks its own invariants (the PostgreSQL
// engine; a bbolt file is verified by path, in a child process).
type verifier interface {
	Verify(ctx context.Context) (*store.Report, error)
}

// verifyPostgres is `newsdesk verify` on PostgreSQL.
func (e *env) verifyPostgres(ctx context.Context, cfg *config.Config) error {
	db, err := e.openStore(cfg, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	v, ok := db.(verifier)
	if !ok {
		return fmt.Errorf("verify: the store %s cannot check itself", db.Path())
	}
	r, err := v.Verify(ctx)
	if err != nil {
		return err
	}
	if len(r.Faults) > 0 {
		return writeFaults(e.stderr, r, "has faults in newsdesk's records (PostgreSQL itself reported none)",
			"restore the last good dump into an empty database (pg_restore -d URL FILE); or copy the store out and back, which rebuilds counts, hashes and item columns from the records: newsdesk migrate -to FILE.db, then newsdesk migrate -from FILE.db with "+config.DatabaseURLEnv+" naming an empty database")
	}
	fmt.Fprintf(e.stdout, "ok: %s: schema %d: %s, %s, %s, %s; newsdesk's invariants hold (item counts, item columns, rows without their source, tombstoned items)\n",
		r.Path, r.Schema, plural(r.Sources, "source"), plural(r.Items, "item"), plural(r.Tombstones, "tombstone"), plural(r.Decisions, "editorial decision"))
	for _, n := range r.Notes {
		fmt.Fprintf(e.stdout, "note: %s\n", n)
	}
	return nil
}

// shellDSN is the database's address as an argument for psql or pg_dump
// in a message: "$NEWSDESK_DATABASE_URL" when it came from there (no
// secret shown, and it works as it is), else the address quoted, with any
// password replaced.
func shellDSN(cfg *config.Config) string {
	if cfg.PostgresFrom == config.DatabaseURLEnv {
		return `"$` + config.DatabaseURLEnv + `"`
	}
	return shellQuote(newsdesk.RedactDSN(cfg.Postgres))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
