package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// TestSectionVersions records versions in a real file: a database without
// the sections bucket reads as empty, a hash that stays keeps its time, a
// new hash moves it forward (never back, even with the clock set back),
// and everything survives closing and reopening, read-only too.
func TestSectionVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.SectionVersions()
	if err != nil || len(got) != 0 {
		t.Fatalf("SectionVersions() of a new database = %v, %v; want none", got, err)
	}

	record := func(db *bolt.DB, hashes map[string]string, now time.Time) map[string]newsdesk.SectionVersion {
		t.Helper()
		out, err := db.RecordSectionVersions(hashes, now)
		if err != nil {
			t.Fatalf("RecordSectionVersions() error = %v", err)
		}
		return out
	}
	v1 := record(db, map[string]string{"russia": "h1", "world": "w1"}, t0)
	if v1["russia"].Hash != "h1" || !v1["russia"].ChangedAt.Equal(t0) || !v1["world"].ChangedAt.Equal(t0) {
		t.Fatalf("first versions = %+v, want h1 and w1 at %s", v1, t0)
	}
	// Re-rendering the same content keeps the time.
	if v := record(db, map[string]string{"russia": "h1"}, t0.Add(time.Hour)); !v["russia"].ChangedAt.Equal(t0) {
		t.Errorf("same hash an hour later: changed_at = %s, want %s", v["russia"].ChangedAt, t0)
	}
	// New content moves it to now.
	if v := record(db, map[string]string{"russia": "h2"}, t0.Add(2*time.Hour)); !v["russia"].ChangedAt.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("new hash: changed_at = %s, want %s", v["russia"].ChangedAt, t0.Add(2*time.Hour))
	}
	// With the clock set back, it still moves forward.
	back := record(db, map[string]string{"russia": "h3"}, t0)
	if !back["russia"].ChangedAt.After(t0.Add(2 * time.Hour)) {
		t.Errorf("new hash with the clock set back: changed_at = %s, want after %s", back["russia"].ChangedAt, t0.Add(2*time.Hour))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err = db.SectionVersions()
	if err != nil {
		t.Fatal(err)
	}
	if got["russia"] != back["russia"] || got["world"] != v1["world"] {
		t.Errorf("after reopening: %+v, want russia %+v and world %+v", got, back["russia"], v1["world"])
	}
	db.Close()

	db = openDBAt(t, path)
	if v := record(db, map[string]string{"russia": "h3", "world": "w1"}, t0.Add(24*time.Hour)); v["russia"] != back["russia"] || v["world"] != v1["world"] {
		t.Errorf("same content after a restart: %+v, want the stored versions", v)
	}
}
