// Package pgtest gives the tests of other packages (the fetcher's lease
// loop, the commands) a PostgreSQL database of their own, so that nothing
// outside store/postgres imports pgx: a fresh schema per test on the
// cluster NEWSDESK_TEST_DATABASE_URL names (.ci/postgres.sh starts one).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DSN is the test cluster's address: NEWSDESK_TEST_DATABASE_URL. Without
// it the test skips, or fails under CI, which always starts one.
func DSN(tb testing.TB) string {
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

// Schema creates an empty schema for the test, dropped when it ends, and
// returns the test cluster's address with search_path set to it, and
// application_name too (Terminate finds the test's connections by it).
func Schema(tb testing.TB) (dsn, name string) {
	tb.Helper()
	base := DSN(tb)
	admin := connect(tb, base)
	b := make([]byte, 6)
	rand.Read(b)
	name = "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE") })
	return WithParams(tb, base, map[string]string{"search_path": name, "application_name": name}), name
}

// Terminate ends, from the server's side, every connection of the test
// cluster whose application_name is app (pg_terminate_backend, what a
// database restart does to them), and returns how many it ended.
func Terminate(tb testing.TB, app string) int {
	tb.Helper()
	admin := connect(tb, DSN(tb))
	var n int
	if err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// connect connects to dsn for the test's duration.
func connect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("connect to the test database: %v", err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// WithParams adds run-time parameters (search_path, application_name:
// pgx sends them when it connects) to a postgres:// URL or a key=value
// connection string.
func WithParams(tb testing.TB, dsn string, params map[string]string) string {
	tb.Helper()
	if !strings.Contains(dsn, "://") {
		for k, v := range params {
			dsn += " " + k + "=" + v
		}
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
