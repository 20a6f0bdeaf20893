package bolt_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/storetest"
)

// TestMigrateSchema5: a schema-5 file (no websub buckets) reads as it is
// when opened read-only, with no subscriptions; opened to write, it is
// migrated to schema 6, verifies sound, and keeps subscriptions.
func TestMigrateSchema5(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, storetest.Feed("a", 3, t0), noLimit); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Downgrade5(db); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ro, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := ro.HubSubscriptions(func(newsdesk.HubSubscription) bool { n++; return true }); err != nil || n != 0 {
		t.Errorf("read-only HubSubscriptions() = %d, %v; want none", n, err)
	}
	if ps, err := ro.PushSubscriptions(); err != nil || len(ps) != 0 {
		t.Errorf("read-only PushSubscriptions() = %v, %v; want none", ps, err)
	}
	if _, err := ro.PushSubscription("a"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("read-only PushSubscription() = %v, want ErrNotFound", err)
	}
	ro.Close()

	db = openDBAt(t, path)
	if n := db.Notices(); len(n) != 1 || !strings.Contains(n[0], "from schema 5 to 6") || !strings.Contains(n[0], path+".schema-5.bak") {
		t.Errorf("Notices() = %q, want the migration and the copy's path", n)
	}
	if err := db.SavePushSubscription(storetest.PushSub("a")); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveHubSubscription(storetest.HubSub("world", "https://reader.example/cb")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := bolt.Verify(path)
	if err != nil || len(r.Faults) > 0 || r.Schema != 6 || r.WebSub != 2 || r.Items != 3 {
		t.Errorf("Verify(migrated) = %+v, %v; want a sound schema-6 file with 3 items and 2 WebSub subscriptions", r, err)
	}
}

// TestVerifyWebSub: a subscription stored under another key, or one that
// does not decode, is a fault, and the fault shows no callback token.
func TestVerifyWebSub(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	if err := bolt.BreakWebSub(db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := bolt.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(r.Faults, "\n")
	if len(r.Faults) != 2 || !strings.Contains(all, "hub subscription 1 (callback at https://reader.example) is not stored under its topic and callback") ||
		!strings.Contains(all, "push subscription of a does not decode") || strings.Contains(all, "secret") {
		t.Errorf("Verify() faults = %q, want the misplaced hub subscription (no token shown) and the push subscription that does not decode", r.Faults)
	}
}
