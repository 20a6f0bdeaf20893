package postgres_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// openBolt is a new bbolt file in the test's folder.
func openBolt(t *testing.T, name string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), name), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCopyAcrossEngines: a bbolt store copied into PostgreSQL and from
// there into a new bbolt file holds the same at each step: everything
// storetest.SameStore compares. Each comparison ends with the same fetch
// on both stores, so each is made against an untouched original (Fill is
// deterministic).
func TestCopyAcrossEngines(t *testing.T) {
	ctx := context.Background()
	orig, orig2 := openBolt(t, "orig.db"), openBolt(t, "orig2.db")
	f := storetest.Fill(t, orig)
	storetest.Fill(t, orig2)
	pg := openStore(t)
	rep, err := store.Copy(ctx, orig, pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != storetest.CopyBig-1000+5+3 || rep.Tombstones != 1000 || len(rep.Skipped) != 0 {
		t.Errorf("bbolt -> PostgreSQL: %+v", rep)
	}
	back := openBolt(t, "back.db")
	rep2, err := store.Copy(ctx, pg, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	if asJSON(rep2) != asJSON(rep) {
		t.Errorf("PostgreSQL -> bbolt copied %+v, bbolt -> PostgreSQL %+v", rep2, rep)
	}
	t.Run("postgres", func(t *testing.T) { storetest.SameStore(t, orig, pg, f) })
	t.Run("bolt again", func(t *testing.T) { storetest.SameStore(t, orig2, back, f) })
}

// TestCopyTombstonesWithoutID: a tombstone pruned before schema 2 has only
// its id's hash. A copy into PostgreSQL keeps it (it still stops the item
// coming back); one into bbolt, which keeps tombstones by id, skips it and
// counts it.
func TestCopyTombstonesWithoutID(t *testing.T) {
	ctx := context.Background()
	pg := openStore(t).(*postgres.DB)
	f := storetest.Fill(t, pg)
	n, err := postgres.Exec(pg, `UPDATE tombstones SET item_id = NULL WHERE id_hash IN (SELECT id_hash FROM tombstones ORDER BY id_hash LIMIT 10)`)
	if err != nil || n != 10 {
		t.Fatalf("clearing 10 tombstones' ids: %d, %v", n, err)
	}
	pg2 := openStore(t)
	rep, err := store.Copy(ctx, pg, pg2, nil)
	if err != nil || rep.Tombstones != 1000 || len(rep.Skipped) != 0 {
		t.Errorf("PostgreSQL -> PostgreSQL = %+v, %v; want all 1000 tombstones", rep, err)
	}
	b := openBolt(t, "copy.db")
	rep, err = store.Copy(ctx, pg, b, nil)
	if err != nil || rep.Tombstones != 990 || rep.Skipped["tombstone"] != 10 || rep.Why["tombstone"] == "" {
		t.Errorf("PostgreSQL -> bbolt = %+v, %v; want 990 tombstones and 10 skipped, with a reason", rep, err)
	}
	storetest.SameStore(t, pg, pg2, f)
}

func asJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}
