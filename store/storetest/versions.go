package storetest

import (
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// recordVersions records hashes at now, failing the test on an error.
func recordVersions(t *testing.T, db store.Store, hashes map[string]string, now time.Time) map[string]newsdesk.SectionVersion {
	t.Helper()
	out, err := db.RecordSectionVersions(hashes, now)
	if err != nil {
		t.Fatalf("RecordSectionVersions() error = %v", err)
	}
	return out
}

// testSectionVersions: a new store has no versions, a hash that stays
// keeps its time, a new hash moves it forward (never back, even with the
// clock set back), and what is recorded is what SectionVersions reads.
func testSectionVersions(t *testing.T, open Open) {
	db := open(t)
	got, err := db.SectionVersions()
	if err != nil || len(got) != 0 {
		t.Fatalf("SectionVersions() of a new store = %v, %v; want none", got, err)
	}
	v1 := recordVersions(t, db, map[string]string{"russia": "h1", "world": "w1"}, T0)
	if v1["russia"].Hash != "h1" || !v1["russia"].ChangedAt.Equal(T0) || !v1["world"].ChangedAt.Equal(T0) {
		t.Fatalf("first versions = %+v, want h1 and w1 at %s", v1, T0)
	}
	// Re-rendering the same content keeps the time.
	if v := recordVersions(t, db, map[string]string{"russia": "h1"}, T0.Add(time.Hour)); !v["russia"].ChangedAt.Equal(T0) {
		t.Errorf("same hash an hour later: changed_at = %s, want %s", v["russia"].ChangedAt, T0)
	}
	// New content moves it to now.
	if v := recordVersions(t, db, map[string]string{"russia": "h2"}, T0.Add(2*time.Hour)); !v["russia"].ChangedAt.Equal(T0.Add(2 * time.Hour)) {
		t.Errorf("new hash: changed_at = %s, want %s", v["russia"].ChangedAt, T0.Add(2*time.Hour))
	}
	// With the clock set back, it still moves forward.
	back := recordVersions(t, db, map[string]string{"russia": "h3"}, T0)
	if !back["russia"].ChangedAt.After(T0.Add(2 * time.Hour)) {
		t.Errorf("new hash with the clock set back: changed_at = %s, want after %s", back["russia"].ChangedAt, T0.Add(2*time.Hour))
	}
	got, err = db.SectionVersions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !sameVersion(got["russia"], back["russia"]) || !sameVersion(got["world"], v1["world"]) {
		t.Errorf("SectionVersions() = %+v, want russia %+v and world %+v", got, back["russia"], v1["world"])
	}
}

func sameVersion(a, b newsdesk.SectionVersion) bool {
	return a.Hash == b.Hash && a.ChangedAt.Equal(b.ChangedAt)
}
