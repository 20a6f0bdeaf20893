package pgtest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SchemaBytes is the disk space of the tables in dsn's schema (the first
// of its search_path), each with its indexes and TOAST
// (pg_total_relation_size): what a store in that schema takes, for the
// benchmark's bytes per item.
func SchemaBytes(ctx context.Context, dsn string) (int64, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("connect to the database: %w", err)
	}
	defer c.Close(ctx)
	var n int64
	err = c.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("size of the schema's tables: %w", err)
	}
	return n, nil
}
