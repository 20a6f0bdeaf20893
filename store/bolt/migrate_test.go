package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// fixture copies testdata/NAME, a database made by an older newsdesk,
// into a temporary folder, so a test may migrate it.
func fixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// schema2 is a copy of testdata/schema-2.db, made by newsdesk when its
// schema was 2.
func schema2(t *testing.T) string { return fixture(t, "schema-2.db") }

// migrate reads the old-schema file at path read-only with read, checks
// that it holds each of wants, then opens it to write, which migrates it,
// and checks that read finds the same in it. It returns what read found
// and the migrated store, for the caller's checks and to close.
func migrate(t *testing.T, path string, read func(*testing.T, *bolt.DB) string, wants ...string) (string, *bolt.DB) {
	t.Helper()
	ro, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open(%s) error = %v, want it read as it is", filepath.Base(path), err)
	}
	before := read(t, ro)
	ro.Close()
	for _, want := range wants {
		if !strings.Contains(before, want) {
			t.Fatalf("fixture read before migrating lacks %q:\n%s", want, before)
		}
	}
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("Open(%s) error = %v, want it migrated", filepath.Base(path), err)
	}
	if after := read(t, db); after != before {
		t.Errorf("contents after migrating:\n%s\nwant as before:\n%s", after, before)
	}
	return before, db
}

// contents is everything the fixture holds, as the store API reads it.
func contents(t *testing.T, db *bolt.DB) string {
	t.Helper()
	var b strings.Builder
	states, err := db.States()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		n, err := db.CountItems(st.SourceID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "state %s %s %s failures=%d next=%s count=%d\n", st.SourceID, st.Result, st.ETag, st.Failures, st.NextDue.Format(time.RFC3339), n)
		db.Items(st.SourceID, func(it newsdesk.Item) bool {
			fmt.Fprintf(&b, "  item %s %q %s %s first=%s\n", it.ID, it.Title, it.Link, it.Published.Format(time.RFC3339), it.FirstSeen.Format(time.RFC3339))
			return true
		})
	}
	for _, sec := range []string{"world", "local"} {
		edits, err := db.Edits(sec)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range edits {
			fmt.Fprintf(&b, "edit %s %s/%s %s\n", sec, e.Ref.SourceID, e.Ref.ID, e.Decision)
		}
	}
	return b.String()
}

// TestMigrateSchema2: a schema-2 database (testdata/schema-2.db, made by
// the code of that schema) opens, is migrated to the current schema with
// nothing lost, in one go, and its old form is kept as
// newsdesk.db.schema-2.bak. Before migrations, Open refused it ("schema
// version 2, this newsdesk reads 3").
func TestMigrateSchema2(t *testing.T) {
	path := schema2(t)
	orig, _ := os.ReadFile(path)
	before, db := migrate(t, path, contents, "state alpha ok", "state gamma error", "item a5-undated", "edit world alpha/a2 pin", "edit world beta/b2 hide", "edit local alpha/a4 hide")
	if strings.Contains(before, "item a1 ") {
		t.Fatalf("fixture holds a1, which it pruned:\n%s", before)
	}
	if n := db.Notices(); len(n) != 1 || !strings.Contains(n[0], "migrated database "+path+" from schema 2 to 6") || !strings.Contains(n[0], path+".schema-2.bak") {
		t.Errorf("Notices() = %q, want the migration and the copy's path", n)
	}
	// The tombstone of a1 survived: the feed carrying it again does not bring it back.
	st, err := db.SaveFetch(newsdesk.FetchState{SourceID: "alpha", LastFetch: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}, []newsdesk.Item{{ID: "a1", Title: "Story number a1 about the harbour"}}, newsdesk.Retention{MaxItems: 4})
	if err != nil || st.New != 0 {
		t.Errorf("SaveFetch(a1 again) = new %d, %v; want 0 new: its tombstone must survive the migration", st.New, err)
	}
	db.Close()
	bak, err := os.ReadFile(path + ".schema-2.bak")
	if err != nil {
		t.Fatalf("no copy of the schema-2 file: %v", err)
	}
	if len(bak) == 0 || len(bak) > len(orig) {
		t.Errorf("copy is %d bytes, the original %d", len(bak), len(orig))
	}
	r, err := bolt.Verify(path + ".schema-2.bak")
	if err != nil || len(r.Faults) > 0 || r.Items != 6 || !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "schema 2") }) {
		t.Errorf("Verify(copy) = %+v, %v; want a sound schema-2 file with 6 items", r, err)
	}
	r, err = bolt.Verify(path)
	if err != nil || len(r.Faults) > 0 || r.Schema != 6 {
		t.Errorf("Verify(migrated) = %+v, %v; want a sound schema-6 file", r, err)
	}
	// Opened again: nothing more to do.
	db, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := db.Notices(); len(n) != 0 {
		t.Errorf("second Open() notices = %q, want none", n)
	}
	db.Close()
}

// TestMigrateTooBigToCopy: a file over the copy limit is not migrated
// until the operator says it is backed up (NEWSDESK_MIGRATE=1); the message
// says how.
func TestMigrateTooBigToCopy(t *testing.T) {
	defer bolt.SetMigrateCopyLimit(1024)()
	path := schema2(t)
	t.Setenv("NEWSDESK_MIGRATE", "")
	_, err := bolt.Open(path, bolt.Options{})
	if !errors.Is(err, store.ErrSchema) {
		t.Fatalf("Open(too big to copy) error = %v, want ErrSchema", err)
	}
	for _, want := range []string{path, "schema version 2", "newsdesk backup FILE", "NEWSDESK_MIGRATE=1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Setenv("NEWSDESK_MIGRATE", "1")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("Open() with NEWSDESK_MIGRATE=1 error = %v", err)
	}
	defer db.Close()
	if n := db.Notices(); len(n) != 1 || !strings.Contains(n[0], "without a copy") {
		t.Errorf("Notices() = %q, want a migration without a copy", n)
	}
	if _, err := os.Stat(path + ".schema-2.bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a copy was made: %v", err)
	}
}

// TestNewerSchemaRefused: downgrading is not supported.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	if err := bolt.SetSchema(db, "7"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{false, true} {
		_, err := bolt.Open(path, bolt.Options{ReadOnly: ro})
		if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "schema version 7, newer than this newsdesk's 6") {
			t.Errorf("Open(schema 7, read-only %v) error = %v, want a refusal naming both versions", ro, err)
		}
	}
}

// TestStaleTemporariesRemoved: killed compacts and migrations leave files
// beside the database; the next Open, which holds the lock, removes them,
// and nothing else.
func TestStaleTemporariesRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "newsdesk.db")
	openDBAt(t, path).Close()
	stale := []string{"newsdesk.db.compact-123", "newsdesk.db.compact-456", "newsdesk.db.verify-9", "newsdesk.db.migrate-7"}
	kept := []string{"newsdesk.db.schema-2.bak", "other.db.compact-1", "newsdesk.db.sock.txt", "feeds.yaml"}
	for _, name := range append(slices.Clone(stale), kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Read-only opens take a shared lock: a compact could be running.
	ro, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	if _, err := os.Stat(filepath.Join(dir, stale[0])); err != nil {
		t.Errorf("a read-only Open removed %s", stale[0])
	}
	db := openDBAt(t, path)
	if n := db.Notices(); len(n) != 1 || !strings.Contains(n[0], "removed 4 temporary files (4.0 MiB)") {
		t.Errorf("Notices() = %q, want the 4 files removed", n)
	}
	db.Close()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append([]string{"newsdesk.db"}, kept...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files after Open = %q, want %q", got, want)
	}
}

// TestCompactRemovesStaleTemporaries: compact, which holds the lock too.
func TestCompactRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "newsdesk.db")
	openDBAt(t, path).Close()
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("newsdesk.db.compact-%d", i)), make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := bolt.Compact(path); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "newsdesk.db.compact-*")); len(m) > 0 {
		t.Errorf("left after compact: %q", m)
	}
}
