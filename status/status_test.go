package status

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// policy is a fixed polling policy: every source every 10 minutes, due at
// its NextDue, a gone one never. The report shows what it is given.
var policy = Config{
	Interval: func(newsdesk.Source, newsdesk.FeedHints) time.Duration { return 10 * time.Minute },
	Due: func(src newsdesk.Source, st newsdesk.FetchState, found bool, now time.Time, _ bool) (bool, time.Time) {
		switch {
		case !found || st.URL != src.URL:
			return true, now
		case st.Gone:
			return false, time.Time{}
		}
		return !now.Before(st.NextDue), st.NextDue
	},
}

// openStore is a real bbolt store holding states.
func openStore(t *testing.T, states ...newsdesk.FetchState) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, st := range states {
		if err := db.SaveState(st); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestCollectStaleFirstThenConfigOrderThenOrphans(t *testing.T) {
	cfg := policy
	cfg.PurgeRemovedAfter = 72 * time.Hour
	cfg.Sources = []newsdesk.Source{
		{ID: "fresh", URL: "https://a.example/feed"},
		{ID: "never", URL: "https://b.example/feed", Title: "Never"},
		{ID: "stale", URL: "https://c.example/feed"},
		{ID: "gone", URL: "https://d.example/feed"},
	}
	db := openStore(t,
		newsdesk.FetchState{SourceID: "fresh", URL: "https://a.example/feed", FeedTitle: "Fresh feed", Result: newsdesk.ResultOK, New: 3,
			LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), NextDue: now.Add(9 * time.Minute)},
		newsdesk.FetchState{SourceID: "stale", URL: "https://c.example/feed", Result: newsdesk.ResultError, Error: "timeout", Failures: 4,
			LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Hour), NextDue: now.Add(time.Hour)},
		newsdesk.FetchState{SourceID: "gone", URL: "https://d.example/feed", Result: newsdesk.ResultError, Error: "http status 410", Gone: true,
			LastFetch: now.Add(-time.Minute)},
		newsdesk.FetchState{SourceID: "removed", URL: "https://e.example/feed", FeedTitle: "Removed", Result: newsdesk.ResultOK},
	)
	orphans := []Orphan{{SourceID: "removed", Items: 7, RemovedAt: now.Add(-time.Hour)}}

	rows, err := Collect(cfg, db, orphans, now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if want := []string{"stale", "fresh", "never", "gone", "removed"}; !slices.Equal(ids, want) {
		t.Fatalf("Collect() ids = %q, want %q", ids, want)
	}
	stale, fresh, never, gone, removed := rows[0], rows[1], rows[2], rows[3], rows[4]
	if !stale.Stale || stale.Notes[0] != "STALE: no successful fetch for 3 intervals" || !slices.Contains(stale.Notes, "4 failures in a row") {
		t.Errorf("stale row = stale %v, notes %q; want stale, the STALE note first and the failures", stale.Stale, stale.Notes)
	}
	if fresh.Title != "Fresh feed" || fresh.Summary != "ok 3 new" || fresh.Result != "ok" || fresh.NextDue == nil || !fresh.NextDue.Equal(now.Add(9*time.Minute)) {
		t.Errorf("fresh row = title %q, summary %q, result %q, next %v; want the feed's title, ok 3 new, next due in 9m", fresh.Title, fresh.Summary, fresh.Result, fresh.NextDue)
	}
	if never.Result != "never_fetched" || never.Summary != "never fetched" || never.LastFetch != nil || never.NextDue == nil || !never.NextDue.Equal(now) || never.Title != "Never" {
		t.Errorf("never row = %+v; want never_fetched, due now, its configured title", never)
	}
	if !gone.Gone || gone.NextDue != nil || len(gone.Notes) == 0 || !strings.HasPrefix(gone.Notes[0], "GONE (HTTP 410)") {
		t.Errorf("gone row = gone %v, next %v, notes %q; want gone, never due, the GONE note", gone.Gone, gone.NextDue, gone.Notes)
	}
	if !removed.Orphaned || removed.Items != 7 || removed.Title != "Removed" || removed.PurgeAt == nil || !removed.PurgeAt.Equal(now.Add(71*time.Hour)) {
		t.Errorf("orphan row = %+v; want orphaned, 7 items, purged 72h after it was removed", removed)
	}
}

func TestOrphanRowKeptWithoutGracePeriod(t *testing.T) {
	for _, tc := range []struct {
		name    string
		grace   time.Duration
		removed time.Time
		note    string
		purge   bool
	}{
		{"not yet marked", 72 * time.Hour, time.Time{}, "the grace period starts at the next run or serve", false},
		{"kept", 0, now, "kept (storage.purge_removed_after: 0)", false},
		{"purged later", time.Hour, now, "its items are purged after", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := orphanRow(Config{PurgeRemovedAfter: tc.grace}, Orphan{SourceID: "x", RemovedAt: tc.removed}, newsdesk.FetchState{}, false)
			if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], tc.note) || (r.PurgeAt != nil) != tc.purge || r.Result != "never_fetched" {
				t.Errorf("orphanRow() = notes %q, purge_at %v, result %q; want a note with %q, purge_at set %v, never_fetched", r.Notes, r.PurgeAt, r.Result, tc.note, tc.purge)
			}
		})
	}
}

func TestCollectSaysWhenTheStoreCannotBeRead(t *testing.T) {
	cfg := policy
	cfg.Sources = []newsdesk.Source{{ID: "a", URL: "https://a.example/feed"}}
	db := openStore(t)
	db.Close()
	if rows, err := Collect(cfg, db, nil, now); err == nil {
		t.Errorf("Collect() on a closed store = %v, nil; want an error", rows)
	}
}

func TestNotesSayWhatThePublisherAsks(t *testing.T) {
	src := newsdesk.Source{ID: "a", URL: "https://a.example/feed", MaxItemsPerFetch: 100, IntervalSet: true}
	st := newsdesk.FetchState{URL: src.URL, Result: newsdesk.ResultOK, MovedTo: "https://new.example/feed", Capped: 5, Skipped: 2, SkipReason: "too big",
		RetryAfter: now.Add(time.Hour), CacheUntil: now.Add(time.Minute),
		Hints: newsdesk.FeedHints{TTL: time.Hour, UpdatePeriod: "daily", UpdateFrequency: 2, SkipHours: []int{1, 2}, SkipDays: []time.Weekday{time.Sunday}}}
	got := strings.Join(notes(src, st, true, now), "; ")
	for _, want := range []string{
		"moved permanently to https://new.example/feed: update its url in feeds.yaml",
		"5 items over max_items_per_fetch (100) not stored",
		"2 items could not be stored (too big)",
		"(Retry-After)",
		"(max-age)",
		"feed asks: ttl 1h0m0s, updates 2 times daily, skip hours 1,2 GMT, skip Sun (ignored: feeds.yaml sets its interval)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notes() = %q, want it to contain %q", got, want)
		}
	}
	// A state of another url says nothing of this one.
	st.URL = "https://old.example/feed"
	if n := notes(src, st, true, now); n != nil {
		t.Errorf("notes() of a state for another url = %q, want none", n)
	}
}

// longRows are rows whose results and notes are longer than a terminal.
func longRows() []Row {
	last := now.Add(-95 * time.Second)
	return []Row{
		{ID: "moscow-times", Summary: "ok 5 new", Items: 5, LastFetch: &last, NextDue: new(now.Add(10 * time.Minute))},
		{ID: "a-source-with-a-long-name-for-testing-widths", Summary: "error: " + strings.Repeat("the publisher removed this feed ", 4), LastFetch: &last,
			Notes: []string{"GONE (HTTP 410): not fetched again until its url in feeds.yaml changes", "never succeeded"}},
	}
}

func TestWriteShortFitsTheWidth(t *testing.T) {
	for _, width := range []int{40, 80, 100} {
		var b bytes.Buffer
		if err := WriteShort(&b, longRows(), now, width); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 4 || lines[3] != "(cut to fit the terminal: newsdesk status -v for everything)" {
			t.Errorf("WriteShort(%d) = %q, want a header, 2 rows and the cut line", width, lines)
		}
		for _, l := range lines[:3] {
			if n := len([]rune(l)); n > width && width >= 80 {
				t.Errorf("WriteShort(%d) line of %d columns: %q", width, n, l)
			}
		}
		if !strings.HasPrefix(lines[1], "moscow-times          1m ago  ok 5 new") || !strings.Contains(lines[1], "in 10m") {
			t.Errorf("WriteShort(%d) first row = %q, want relative times", width, lines[1])
		}
		if !strings.HasPrefix(lines[2], "a-source-with-a-lon… ") {
			t.Errorf("WriteShort(%d) second row = %q, want its id cut to 20 columns", width, lines[2])
		}
	}
	var b bytes.Buffer
	WriteShort(&b, longRows()[:1], now, 200)
	if strings.Contains(b.String(), "cut to fit") {
		t.Errorf("WriteShort(200) of short rows = %q, want no cut line", b.String())
	}
}

func TestShortAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"}, {-12 * time.Minute, "12m"}, {3 * time.Hour, "3h"},
		{3*time.Hour + 10*time.Minute, "3h10m"}, {47 * time.Hour, "47h"}, {4 * 24 * time.Hour, "4d"},
	} {
		if got := shortAgo(tc.d); got != tc.want {
			t.Errorf("shortAgo(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestWriteTextIsTheFullTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, longRows(), now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"SOURCE", "LAST RESULT", "(1m35s ago)", "(in 10m0s)",
		strings.Repeat("the publisher removed this feed ", 4),
		"GONE (HTTP 410): not fetched again until its url in feeds.yaml changes; never succeeded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteText() = %q, want it to contain %q", out, want)
		}
	}
}

func TestWriteJSONKeys(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, longRows()[:1]); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["id"] != "moscow-times" || got[0]["summary"] != "ok 5 new" || got[0]["items"] != 5.0 || got[0]["stale"] != false {
		t.Errorf("WriteJSON() = %s, want id, summary, items and stale", b.String())
	}
	if !strings.HasPrefix(b.String(), "[\n  {\n    \"id\"") {
		t.Errorf("WriteJSON() = %q, want it indented by two spaces", b.String())
	}
}

func TestPageHTML(t *testing.T) {
	rows := longRows()[:1]
	rows[0].Title = "<script>x</script>"
	rows[0].History = []newsdesk.Attempt{{At: now, Result: newsdesk.ResultOK, New: 2}, {At: now, Result: newsdesk.ResultError, Kind: "timeout"}}
	var b bytes.Buffer
	if err := (Page{Config: "feeds.yaml", Rows: rows, Problems: []string{"feeds.yaml:3:1: bad"}}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"1 source · config feeds.yaml",
		"&lt;script&gt;x&lt;/script&gt;",
		`<span class="new" title=`, `<span class="err" title=`, " error (timeout)",
		"feeds.yaml was not reloaded", "feeds.yaml:3:1: bad",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteHTML() lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, `<span class="none"></span>`); n != newsdesk.HistoryLen-2 {
		t.Errorf("WriteHTML() has %d empty cells, want %d", n, newsdesk.HistoryLen-2)
	}

	b.Reset()
	if err := (Page{Config: "feeds.yaml", Store: "store x could not be read", Unread: true}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "sources unknown") || !strings.Contains(out, "<strong>store x could not be read</strong>") {
		t.Errorf("WriteHTML() of an unread store = %s, want sources unknown and the store's problem", out)
	}
	b.Reset()
	(Page{Config: "feeds.yaml"}).WriteHTML(&b)
	if !strings.Contains(b.String(), "0 sources") {
		t.Errorf("WriteHTML() of no sources lacks \"0 sources\": %s", b.String())
	}
}
