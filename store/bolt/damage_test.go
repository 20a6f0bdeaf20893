package bolt_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// bigDB makes a real database of a few MB: sources with items, tombstones
// and decisions, closed, and returns its path.
func bigDB(t testing.TB, sources, items int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for s := range sources {
		src := fmt.Sprintf("src%d", s)
		batch := make([]newsdesk.Item, items)
		for i := range batch {
			batch[i] = item(src, fmt.Sprintf("%s-%05d", src, i), t0.Add(time.Duration(i)*time.Minute))
			batch[i].Summary = strings.Repeat("Words of a summary. ", 25)
		}
		keep := newsdesk.Retention{MaxItems: items - 10}
		if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: t0.Add(time.Duration(items) * time.Minute), Result: newsdesk.ResultOK}, batch, keep); err != nil {
			t.Fatal(err)
		}
		if err := db.SetDecision("sec", newsdesk.ItemRef{SourceID: src, ID: batch[items-1].ID}, newsdesk.Pin, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// garble overwrites n bytes from the middle of the file with seeded random
// bytes.
func garble(t testing.TB, path string, at float64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	if _, err := f.WriteAt(junk, int64(float64(fi.Size())*at)); err != nil {
		t.Fatal(err)
	}
}

func wantDamaged(t *testing.T, what string, err error, path string) {
	t.Helper()
	if !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("%s: error = %v, want ErrDamaged", what, err)
	}
	for _, want := range []string{path, "newsdesk backup", "newsdesk verify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not name %q", what, err, want)
		}
	}
}

// TestOpenRefusesTruncatedFile: bbolt maps the pages the meta page names
// beyond the end of a truncated file and faults (SIGSEGV/SIGBUS) in Open;
// Open must refuse the file with an error instead, to write and to read.
func TestOpenRefusesTruncatedFile(t *testing.T) {
	path := bigDB(t, 3, 1000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 2<<20 {
		t.Fatalf("test database is %d bytes, want a few MB", fi.Size())
	}
	for _, size := range []int64{fi.Size() / 2, 3 * 4096, 4096 + 100} {
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{false, true} {
			db, err := bolt.Open(path, bolt.Options{ReadOnly: ro})
			if err == nil {
				db.Close()
			}
			wantDamaged(t, fmt.Sprintf("Open(truncated to %d, read-only %v)", size, ro), err, path)
		}
	}
	_, _, err = bolt.Compact(path)
	wantDamaged(t, "Compact(truncated)", err, path)
}

// TestOpenRefusesEmptyFile: bbolt makes a 0-byte file a new, empty
// database; an empty file where a database was is damage, not a fresh start.
func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(path, bolt.Options{})
	wantDamaged(t, "Open(empty file)", err, path)
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was changed: %v, %v", fi, err)
	}
	// A file that does not exist is still a new database.
	db, err := bolt.Open(filepath.Join(t.TempDir(), "new.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("Open(new file) error = %v", err)
	}
	db.Close()
}

// TestOpenRefusesBrokenMetaPages: both meta pages overwritten.
func TestOpenRefusesBrokenMetaPages(t *testing.T) {
	path := bigDB(t, 1, 50)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat("x", 100))
	f.WriteAt(junk, 0)
	f.WriteAt(junk, 4096)
	f.Close()
	_, err = bolt.Open(path, bolt.Options{})
	wantDamaged(t, "Open(both meta pages overwritten)", err, path)
	if !strings.Contains(err.Error(), "neither meta page is valid") {
		t.Errorf("error %q does not say what is wrong", err)
	}
}

// TestDamagedPagesAreErrorsNotPanics: garbage in the middle of the file
// made every transaction that read it panic inside bbolt ("assertion
// failed: Page expected to be ..."), which took down run, compact and
// serve. Each store method returns ErrDamaged instead; after the first,
// the store stops: writes and Ping fail fast with the same error, and it
// still closes.
func TestDamagedPagesAreErrorsNotPanics(t *testing.T) {
	path := bigDB(t, 3, 1000)
	garble(t, path, 0.5, 4096) // a branch page of src1's items
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("Open() error = %v; the damage is past the pages Open reads", err)
	}
	var first error
	note := func(what string, err error) {
		if err != nil && first == nil {
			wantDamaged(t, what, err, path)
			first = err
		}
	}
	for s := range 3 {
		src := fmt.Sprintf("src%d", s)
		note("Items", db.Items(src, func(newsdesk.Item) bool { return true }))
		_, err := db.Section(newsdesk.Query{SectionID: "sec", Sources: []string{src}, Limit: 5000})
		note("Section", err)
		_, err = db.SaveFetch(newsdesk.FetchState{SourceID: src, LastFetch: t0.Add(48 * time.Hour)}, []newsdesk.Item{item(src, "new", t0.Add(47*time.Hour))}, newsdesk.Retention{MaxItems: 10})
		note("SaveFetch", err)
	}
	if first == nil {
		t.Fatal("no method noticed 4 KiB of garbage in the middle of the file")
	}
	if err := db.Ping(); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("Ping() after damage = %v, want ErrDamaged", err)
	}
	if err := db.SaveState(newsdesk.FetchState{SourceID: "src0"}); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("SaveState() after damage = %v, want ErrDamaged (a damaged store stops writing)", err)
	}
	if err := db.Borrow().Ping(); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("a borrowed handle's Ping() = %v, want ErrDamaged", err)
	}
	db.Close() // returns: a panic must not leave bbolt's locks held
	_, _, err = bolt.Compact(path)
	wantDamaged(t, "Compact(garbled)", err, path)
}

// TestVerify: a sound database verifies with its counts; a truncated one
// gives the fault. (A file garbled in its pages can crash bbolt's check,
// which runs in a goroutine of its own: the command runs it in a child
// process, tested in cmd/newsdesk/testdata/script/damage.txtar.)
func TestVerify(t *testing.T) {
	path := bigDB(t, 2, 100)
	r, err := bolt.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Faults) > 0 || r.Sources != 2 || r.Items != 180 || r.Tombstones != 20 || r.Decisions != 2 || r.Schema != 6 {
		t.Errorf("Verify(sound) = %+v, want no faults, 2 sources, 180 items, 20 tombstones, 2 decisions, schema 6", r)
	}
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	r, err = bolt.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Faults) != 1 || !strings.Contains(r.Faults[0], "truncated") {
		t.Errorf("Verify(truncated) faults = %q, want one saying it was truncated", r.Faults)
	}
}

// TestVerifyFindsBrokenIndex: newsdesk's own invariants, beyond bbolt's.
func TestVerifyFindsBrokenIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	if _, err := db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0}, []newsdesk.Item{item("a", "1", t0), item("a", "2", t0)}, noLimit); err != nil {
		t.Fatal(err)
	}
	if err := bolt.BreakCount(db, "a", 5); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := bolt.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Faults) != 1 || !strings.Contains(r.Faults[0], "source a: its item count says 5, 2 items are stored") {
		t.Errorf("Verify() faults = %q, want the wrong count", r.Faults)
	}
}
