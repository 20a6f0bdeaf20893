package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/store/bolt"
)

// TestSectionVersionsSurviveReopen: the versions recorded in a file are
// read back after closing it, read-only too, and re-recording the same
// content after a restart keeps them. (How versions move is
// storetest's SectionVersions.)
func TestSectionVersionsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db := openDBAt(t, path)
	want, err := db.RecordSectionVersions(map[string]string{"russia": "h1", "world": "w1"}, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordSectionVersions(map[string]string{"russia": "h2"}, t0.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ro, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ro.SectionVersions()
	ro.Close()
	if err != nil || got["russia"].Hash != "h2" || !got["russia"].ChangedAt.Equal(t0.Add(time.Hour)) || got["world"] != want["world"] {
		t.Errorf("after reopening read-only: %+v, %v; want russia h2 at %s and world %+v", got, err, t0.Add(time.Hour), want["world"])
	}

	db = openDBAt(t, path)
	v, err := db.RecordSectionVersions(map[string]string{"russia": "h2", "world": "w1"}, t0.Add(24*time.Hour), "")
	if err != nil || v["russia"] != got["russia"] || v["world"] != want["world"] {
		t.Errorf("same content after a restart: %+v, %v; want the stored versions", v, err)
	}
}
