package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// TestVerify: a store filled through its methods verifies clean, with its
// counts; each kind of damage SQL can do behind newsdesk's back is found.
func TestVerify(t *testing.T) {
	db := openStore(t).(*postgres.DB)
	storetest.Fill(t, db)
	if err := db.SaveArticle(okArticle("b", "b-link"), []byte("page")); err != nil {
		t.Fatal(err)
	}
	r, err := db.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	items := storetest.CopyBig - 1000 + 5 + 3
	if len(r.Faults) > 0 || r.Sources != 4 || r.Items != items || r.Tombstones != 1000 || r.Decisions != 4 || r.WebSub != 3 || r.Schema < 2 {
		t.Fatalf("Verify() of a sound store = %+v, want no faults, 4 sources, %d items, 1000 tombstones, 4 decisions, 3 WebSub subscriptions", r, items)
	}
	for _, tc := range []struct {
		sql, fault string
	}{
		{`UPDATE sources SET item_count = item_count + 1 WHERE source_id = 'b'`, "source b: its item count says 6, 5 items are stored"},
		{`UPDATE items SET link_hash = NULL WHERE source_id = 'b' AND item_id = 'b-link'`, `item "b-link" of b: its link or title hash`},
		{`UPDATE items SET published_ns = published_ns + 1 WHERE source_id = 'a' AND item_id = 'a-00007'`, `item "a-00007" of a: its time columns`},
		{`INSERT INTO tombstones (source_id, id_hash, item_id, seen_ns) SELECT source_id, id_hash, item_id, 0 FROM items WHERE source_id = 'gone'`, "3 items are both stored and tombstoned"},
		{`INSERT INTO decisions (section_id, source_id, id_hash, item_id, decision, at_ns) VALUES ('s1', 'nowhere', sha256('x'), 'x', 'pin', 0)`, "1 editorial decisions are about sources with no row"},
		{`UPDATE tombstones SET item_id = NULL WHERE source_id = 'a'`, "1000 tombstones are from before schema 2"},
		{`UPDATE articles SET status = 'failed' WHERE source_id = 'b'`, `article of "b-link" of b: its link hash or status`},
		{`UPDATE push_subscriptions SET data = '{"source": 5}' WHERE source_id = 'a'`, "push subscription of a: json"},
		{`UPDATE hub_subscriptions SET expires_ns = NULL WHERE section_id = 's2'`, "hub subscription of https://reader.example has no section or no lease end"},
	} {
		if _, err := postgres.Exec(db, tc.sql); err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		r, err := db.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(append(r.Faults, r.Notes...), "\n")
		if !strings.Contains(all, tc.fault) {
			t.Errorf("after %s: Verify() found\n%s\nwant %q", tc.sql, all, tc.fault)
		}
	}
}
