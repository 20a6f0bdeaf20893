package websub_test

import (
	"sync"
	"testing"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/websubtest"
	"github.com/newsdesk/newsdesk/publisher"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/websub"
)

// TestHubDeliversOnceAcrossInstances: two instances share a PostgreSQL
// store; both render the same change and both deliver at once, and the
// subscriber receives it once (the claim), from whichever took it.
func TestHubDeliversOnceAcrossInstances(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	open := func() store.Store {
		db, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	f := newFixtureOn(t, open())
	db2 := open()
	pub2 := publisher.NewServer(db2, f.cfg, nil)
	hub2 := &websub.Hub{Store: db2, Site: pub2, URL: f.hub.URL, Holder: "second", Now: f.clock.Now, AllowPrivate: true}

	topic := f.topic("world", newsdesk.FormatAtom)
	f.mustSubscribe("reader", topic, websubtest.Options{Secret: testSecret})
	for round := range 3 {
		f.publish("a")
		if err := pub2.Rebuild(); err != nil {
			t.Fatal(err)
		}
		if v1, v2 := f.pub.SectionVersions()["world"], pub2.SectionVersions()["world"]; !v1.Equal(v2) {
			t.Fatalf("round %d: the instances serve versions %v and %v, want the same", round, v1, v2)
		}
		var (
			wg     sync.WaitGroup
			counts [2]int
		)
		for i, h := range []*websub.Hub{f.hub, hub2} {
			wg.Go(func() {
				rs, err := h.Deliver(t.Context())
				if err != nil {
					t.Error(err)
				}
				counts[i] = len(rs)
			})
		}
		wg.Wait()
		if counts[0]+counts[1] != 1 {
			t.Fatalf("round %d: the instances delivered %v times, want once in all", round, counts)
		}
		if d := f.received(); !d.SignatureOK {
			t.Errorf("round %d: the delivery's signature did not verify", round)
		}
		if n := len(f.sub.Deliveries); n != 0 {
			t.Errorf("round %d: %d more deliveries, want none", round, n)
		}
	}
}
