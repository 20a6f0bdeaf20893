package storetest

import (
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// recordVersions records hashes at now as read at no particular position,
// failing the test on an error.
func recordVersions(t *testing.T, db store.Store, hashes map[string]string, now time.Time) map[string]newsdesk.SectionVersion {
	t.Helper()
	return recordVersionsAt(t, db, hashes, now, "")
}

// recordVersionsAt is recordVersions for content read after pos.
func recordVersionsAt(t *testing.T, db store.Store, hashes map[string]string, now time.Time, pos string) map[string]newsdesk.SectionVersion {
	t.Helper()
	out, err := db.RecordSectionVersions(hashes, now, pos)
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

// position returns db.Position(), failing the test on an error.
func position(t *testing.T, db store.Store) string {
	t.Helper()
	pos, err := db.Position()
	if err != nil || pos == "" {
		t.Fatalf("Position() = %q, %v; want a position", pos, err)
	}
	return pos
}

// testSectionVersionsBehind: content read before a commit that another
// render's reads came after (two instances rendering at once, the slower
// one from older reads) does not replace that render's version, whose
// hash the store returns instead; content read at the same position, or
// at none, does; and the same hash read late keeps the version as always.
func testSectionVersionsBehind(t *testing.T, open Open) {
	db := open(t)
	before := position(t, db)
	if again := position(t, db); again != before {
		t.Logf("Position() moved without a commit: %q then %q (allowed: it is only compared)", before, again)
	}
	if err := db.SaveState(newsdesk.FetchState{SourceID: "a", URL: "https://a.example/feed", LastFetch: T0, Result: newsdesk.ResultOK}); err != nil {
		t.Fatal(err)
	}
	after := position(t, db)
	newer := recordVersionsAt(t, db, map[string]string{"russia": "newer", "world": "w1"}, T0, after)

	// The render that read before the commit records later: it keeps
	// the newer version of russia, and world, whose hash is the same, as
	// it is.
	late := recordVersionsAt(t, db, map[string]string{"russia": "older", "world": "w1"}, T0.Add(time.Minute), before)
	if !sameVersion(late["russia"], newer["russia"]) || !sameVersion(late["world"], newer["world"]) {
		t.Errorf("a render from before the commit got %+v; want the newer render's versions %+v kept", late, newer)
	}
	got, err := db.SectionVersions()
	if err != nil {
		t.Fatal(err)
	}
	if !sameVersion(got["russia"], newer["russia"]) {
		t.Errorf("SectionVersions() russia = %+v after a render behind; want %+v", got["russia"], newer["russia"])
	}

	// A render that read after the newer one's position records a new
	// version, and so does one with no position.
	current := position(t, db)
	third := recordVersionsAt(t, db, map[string]string{"russia": "third"}, T0.Add(2*time.Minute), current)
	if third["russia"].Hash != "third" || !third["russia"].ChangedAt.After(newer["russia"].ChangedAt) {
		t.Errorf("a render from the latest position got %+v; want hash third, after %s", third["russia"], newer["russia"].ChangedAt)
	}
	if v := recordVersionsAt(t, db, map[string]string{"russia": "fourth"}, T0.Add(3*time.Minute), ""); v["russia"].Hash != "fourth" {
		t.Errorf("a render with no position got %+v; want hash fourth recorded", v["russia"])
	}

	if _, err := db.RecordSectionVersions(map[string]string{"russia": "x"}, T0, "not a position"); err == nil {
		t.Error("RecordSectionVersions with a position the store never gave: no error")
	}
}
