package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
	"github.com/newsdesk/newsdesk/store/storetest"
)

func openDB(t testing.TB) *bolt.DB {
	t.Helper()
	return openDBAt(t, filepath.Join(t.TempDir(), "sub", "newsdesk.db"))
}

func openDBAt(t testing.TB, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openStore is storetest.Open for bbolt: a new file in its own folder.
func openStore(tb testing.TB) store.Store { return openDB(tb) }

// TestConformance runs the store conformance suite on real bbolt files.
func TestConformance(t *testing.T) { storetest.Run(t, openStore) }

// The suite's helpers, for the engine tests here.
var (
	t0      = storetest.T0
	item    = storetest.Item
	ids     = storetest.IDs
	noLimit = storetest.NoLimit
)

// TestOpenLocked: a file another open holds is refused with ErrLocked.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	openDBAt(t, path)
	if _, err := bolt.Open(path, bolt.Options{}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open error = %v, want ErrLocked", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", ETag: `"v1"`, LastFetch: t0}, []newsdesk.Item{item("a", "1", t0)}, noLimit); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	if st.ETag != `"v1"` {
		t.Errorf("ETag after reopen = %q, want %q", st.ETag, `"v1"`)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

// TestTombstonesAreBounded: once the feed stops carrying a pruned item, its
// tombstone is forgotten after 30 days, so the file does not grow forever.
func TestTombstonesAreBounded(t *testing.T) {
	dir := t.TempDir()
	db := openDBAt(t, dir+"/newsdesk.db")
	keep := newsdesk.Retention{MaxItems: 10}
	// A busy source: 100 new items a day for 200 days, the feed carrying the
	// latest 50.
	var sizes []int64
	for day := range 200 {
		now := t0.AddDate(0, 0, day)
		items := make([]newsdesk.Item, 50)
		for i := range items {
			n := day*100 + 99 - i
			items[i] = item("a", fmt.Sprintf("a-%06d", n), now.Add(-time.Duration(i)*time.Minute))
		}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: now}, items, keep); err != nil {
			t.Fatal(err)
		}
		if day%50 == 49 {
			fi, err := os.Stat(dir + "/newsdesk.db")
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, fi.Size())
		}
	}
	if n, _ := db.CountItems("a"); n != 10 {
		t.Errorf("CountItems = %d, want 10", n)
	}
	// Tombstones: 40 a day for 30 days at most; the file stops growing.
	t.Logf("file size after 50, 100, 150, 200 days: %v", sizes)
	if sizes[3] > sizes[1] {
		t.Errorf("file size after 100, 150, 200 days: %v; want it bounded", sizes[1:])
	}
}

// TestConformanceCollidingHashes runs the suite with every link and title
// hashing alike in the index keys: duplicates are still only items of the
// same link or title, as readers check each candidate.
func TestConformanceCollidingHashes(t *testing.T) {
	defer bolt.SetTextHash(func(string) uint64 { return 42 })()
	storetest.Run(t, openStore)
}

// TestClaimOnceAcrossHandles: goroutines claiming at once through the
// handles Borrow makes of one open file (a command run inside serve)
// claim each subscription once: the claims are the file's, not a handle's.
func TestClaimOnceAcrossHandles(t *testing.T) {
	db := openDB(t)
	stores := []store.Store{db}
	for range 7 {
		stores = append(stores, db.Borrow())
	}
	storetest.ClaimEachOnce(t, stores)
}
