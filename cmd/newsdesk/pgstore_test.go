package main

import (
	"context"
	"errors"
	"os"

	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
	"github.com/rogpeppe/go-internal/testscript"
)

// havePostgres is the condition [postgres]: NEWSDESK_TEST_DATABASE_URL
// names a cluster to test against. Under CI, which always starts one, its
// absence fails the script instead of skipping what needs it.
func havePostgres() (bool, error) {
	if os.Getenv("NEWSDESK_TEST_DATABASE_URL") != "" {
		return true, nil
	}
	if os.Getenv("CI") != "" {
		return false, errors.New("NEWSDESK_TEST_DATABASE_URL is not set, and CI is: .ci/run starts a PostgreSQL cluster (.ci/postgres.sh) for these scripts")
	}
	return false, nil
}

// cmdPGStore: pgstore
// Creates an empty schema of its own for the script on the test cluster
// (dropped when the script ends) and sets $PGURL to its address, for
// `env NEWSDESK_DATABASE_URL=$PGURL` or a storage.postgres. Scripts check
// the condition [postgres] first.
func cmdPGStore(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: pgstore")
	}
	dsn, drop, err := pgtest.NewSchema(context.Background(), os.Getenv("NEWSDESK_TEST_DATABASE_URL"))
	ts.Check(err)
	ts.Defer(func() { drop() })
	ts.Setenv("PGURL", dsn)
}
