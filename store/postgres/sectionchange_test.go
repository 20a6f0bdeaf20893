package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// TestNewSectionVersionIsAChange: instance A renders a section from a
// snapshot older than instance B's commit and records that older content
// after B recorded the newer; rendered again, the newer content gets a new
// date. B, which rendered the newer content once, must learn that the
// section changed (Changes), or it serves the old date and ETag for ever
// while A serves the new ones.
func TestNewSectionVersionIsAChange(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	start, err := b.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	newer, err := b.RecordSectionVersions(map[string]string{"all": "newer"}, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RecordSectionVersions(map[string]string{"all": "older"}, t0.Add(time.Second), ""); err != nil {
		t.Fatal(err)
	}
	again, err := a.RecordSectionVersions(map[string]string{"all": "newer"}, t0.Add(2*time.Second), "")
	if err != nil {
		t.Fatal(err)
	}
	if again["all"] == newer["all"] {
		t.Fatalf("the newer content recorded again kept its version %v: this test no longer shows the case", newer["all"])
	}
	ch, err := b.Changes(ctx, start.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ch.Sections, "all") {
		t.Errorf("Changes since before the versions were recorded = sections %q, want \"all\" (its version changed)", ch.Sections)
	}
}
