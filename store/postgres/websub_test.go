package postgres_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"

	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// TestClaimOnceAcrossInstances: instances (separately opened stores on one
// database) claiming at once from 1,000 due subscriptions claim each once.
func TestClaimOnceAcrossInstances(t *testing.T) {
	dsn := newSchema(t)
	var stores []store.Store
	for range 4 {
		db := openDB(t, dsn)
		stores = append(stores, db, db.Borrow())
	}
	storetest.ClaimEachOnce(t, stores)
}

// BenchmarkDeliveries: ClaimDeliveries and FinishDelivery, per delivery,
// on a bbolt file and on PostgreSQL.
//
//	go test ./store/postgres -run '^$' -bench Deliveries
func BenchmarkDeliveries(b *testing.B) {
	for _, e := range []struct {
		name string
		open storetest.Open
	}{{"engine=bolt", openBoltFile}, {"engine=postgres", openStore}} {
		for _, workers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/workers=%d", e.name, workers), func(b *testing.B) { storetest.BenchDeliveries(b, e.open, workers) })
		}
	}
}

// TestMigration5RollingUpgrade: migration 5 is expand-only. A newsdesk of
// schema 4 keeps using the migrated database during a rolling upgrade, and
// its purge of a source (which knows nothing of WebSub) removes the
// source's push subscription with the source's row.
func TestMigration5RollingUpgrade(t *testing.T) {
	dsn := newSchema(t)
	old, err := postgres.OpenAt(bg, dsn, 4)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	db := openDB(t, dsn)
	saveFetch(t, db, "a", storetest.T0, storetest.Feed("a", 2, storetest.T0), storetest.NoLimit)
	if err := db.SavePushSubscription(storetest.PushSub("a")); err != nil {
		t.Fatal(err)
	}
	if v := pgtest.Int(t, dsn, `SELECT max(min_reader) FROM schema_version`); v != 1 {
		t.Errorf("min_reader after migration 5 = %d, want 1 (expand only)", v)
	}
	old, err = postgres.OpenAt(bg, dsn, 4)
	if err != nil {
		t.Fatalf("a schema-4 newsdesk opening the schema-5 database: %v", err)
	}
	defer old.Close()
	if _, err := old.MarkOrphans(nil, storetest.T0); err != nil {
		t.Fatal(err)
	}
	if n, err := old.Purge("a"); err != nil || n != 2 {
		t.Fatalf("Purge(a) by the schema-4 newsdesk = %d, %v; want its 2 items", n, err)
	}
	if _, err := db.PushSubscription("a"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("PushSubscription(a) after the old newsdesk's purge: %v, want ErrNotFound", err)
	}
}

// TestSavePushIsAChange: a push stored by one instance is a change of its
// source for the others (Changes, Listen), so they render its sections
// again.
func TestSavePushIsAChange(t *testing.T) {
	dsn := newSchema(t)
	db, other := openDB(t, dsn), openDB(t, dsn)
	saveFetch(t, other, "a", storetest.T0, storetest.Feed("a", 2, storetest.T0), storetest.NoLimit)
	start, err := db.Changes(bg, 0)
	if err != nil {
		t.Fatal(err)
	}
	wait, _ := listenWakes(t, db)
	res, err := other.SavePush("a", []newsdesk.Item{storetest.Item("a", "a-pushed", storetest.T0.Add(time.Minute))}, storetest.NoLimit, storetest.T0.Add(time.Minute))
	if err != nil || res.New != 1 {
		t.Fatalf("SavePush = %+v, %v; want 1 new", res, err)
	}
	wait("a push on another instance")
	ch, err := db.Changes(bg, start.Seq)
	if err != nil || !slices.Contains(ch.Sources, "a") {
		t.Errorf("Changes(%d) after the push = %+v, %v; want source a", start.Seq, ch, err)
	}
	if n, err := db.CountItems("a"); err != nil || n != 3 {
		t.Errorf("CountItems(a) after the push = %d, %v; want 3", n, err)
	}
}
