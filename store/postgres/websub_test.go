package postgres_test

import (
	"testing"

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
		b.Run(e.name, func(b *testing.B) { storetest.BenchDeliveries(b, e.open) })
	}
}
