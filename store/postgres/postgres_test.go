package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// dsn is the test database's address: NEWSDESK_TEST_DATABASE_URL, which
// .ci/postgres.sh exports. Without it the tests skip, or fail under CI.
func dsn(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("NEWSDESK_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("NEWSDESK_TEST_DATABASE_URL is not set, and CI is: .ci/run starts a PostgreSQL cluster (.ci/postgres.sh) for these tests")
		}
		tb.Skip("NEWSDESK_TEST_DATABASE_URL is not set: no PostgreSQL to test against (start one with: eval \"$(.ci/postgres.sh start)\")")
	}
	return u
}

// openStore is storetest.Open for PostgreSQL: a schema of its own, created
// empty, migrated by Open and dropped when the test ends.
func openStore(tb testing.TB) store.Store {
	tb.Helper()
	return openDB(tb, newSchema(tb))
}

// newSchema creates an empty schema, dropped when the test ends, and
// returns the test database's address with it as search_path.
func newSchema(tb testing.TB) string {
	tb.Helper()
	base := dsn(tb)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close(context.Background()) })
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	return withSearchPath(tb, base, schema)
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

// withSearchPath adds search_path (a run-time parameter for pgx) to a URL.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
