package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
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

// cmdPGJoin: pgjoin ID HOST COMMAND CONFIGHASH|@FILE
// Records an instance in the PostgreSQL store at $PGURL as a newsdesk
// process sharing it does (store.Cluster.Join), for status to list; @FILE
// gives the config hash of FILE, as config.Config.Hash makes it.
func cmdPGJoin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: pgjoin ID HOST COMMAND CONFIGHASH|@FILE")
	}
	if file, ok := strings.CutPrefix(args[3], "@"); ok {
		sum := sha256.Sum256([]byte(ts.ReadFile(file)))
		args[3] = hex.EncodeToString(sum[:])[:12]
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, ts.Getenv("PGURL"))
	ts.Check(err)
	defer db.Close()
	ts.Check(db.Join(ctx, store.Instance{ID: args[0], Host: args[1], Command: args[2], Version: newsdesk.Version, ConfigHash: args[3], Sources: 1}))
}
