package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Int runs query, which returns one integer, on dsn (e.g. a schema's, from
// Schema) over a connection of its own that it closes, so that a test may
// poll with it.
func Int(tb testing.TB, dsn, query string, args ...any) int64 {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to the test database: %v", err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}
