package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// fullDisk is the real store, except that storing a fetch's items fails,
// as it does when the disk is full; a state alone still fits.
type fullDisk struct{ *bolt.DB }

func (fullDisk) SaveFetch(st newsdesk.FetchState, _ []newsdesk.Item, _ newsdesk.Retention) (newsdesk.FetchState, error) {
	return st, fmt.Errorf("save fetch of %s: %w", st.SourceID, errors.New("write newsdesk.db: no space left on device"))
}

// TestStoringFailureIsRecorded: a fetch whose items cannot be stored is a
// failure like any other, in the stored state: the next run, a new process
// with nothing in memory, neither fetches early nor shows "never fetched".
func TestStoringFailureIsRecorded(t *testing.T) {
	var requests atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: 10 * time.Minute}
	clock := t0
	_, db := newScheduler(t, &clock, src)
	run := func(st Store) []Outcome {
		t.Helper()
		s := NewScheduler(NewClient("newsdesk-test"), st, []newsdesk.Source{src}, slog.New(slog.DiscardHandler))
		s.Now = func() time.Time { return clock }
		out, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, false, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	out := run(fullDisk{db})
	if len(out) != 1 || out[0].Err == nil || out[0].Kind != "store" {
		t.Fatalf("pass with a full disk = %+v, want a store error", out)
	}
	st, err := db.State("a")
	if err != nil {
		t.Fatalf("state after the storing failure: %v, want it recorded", err)
	}
	if st.Result != newsdesk.ResultError || st.Failures != 1 || !strings.Contains(st.Error, "no space left on device") ||
		!st.NextDue.After(clock.Add(10*time.Minute)) || st.ETag != "" || st.Summary() == "never fetched" {
		t.Errorf("state = result %q, %d failures, error %q, next due %v, ETag %q; want an error, 1 failure, backed off beyond the interval, no ETag",
			st.Result, st.Failures, st.Error, st.NextDue, st.ETag)
	}
	if n := len(st.History); n != 1 || st.History[0].Kind != "store" {
		t.Errorf("history = %+v, want one store failure", st.History)
	}

	// The next cron run, a minute later, waits for the backoff.
	clock = t0.Add(time.Minute)
	if out := run(db); len(out) != 0 || requests.Load() != 1 {
		t.Errorf("run a minute later: %d fetches, %d requests in all; want none and 1", len(out), requests.Load())
	}
	// Once it is due, the feed is fetched again in full (no stale ETag)
	// and stored.
	clock = st.NextDue
	if out := run(db); len(out) != 1 || out[0].Err != nil || out[0].State.New != 2 || out[0].State.Failures != 0 {
		t.Fatalf("run when due = %+v, want 2 new items and no failures", out)
	}
}

// TestCapItemsPerFetch: a feed with more items than max_items_per_fetch
// keeps the newest by date, undated ones (new as of the fetch) first and in
// document order, and counts the rest.
func TestCapItemsPerFetch(t *testing.T) {
	now := t0
	at := func(h int) *time.Time { d := now.Add(-time.Duration(h) * time.Hour); return &d }
	future := now.Add(48 * time.Hour) // not believed: undated
	f := &gofeed.Feed{Items: []*gofeed.Item{
		{GUID: "old", PublishedParsed: at(50)},
		{GUID: "undated-1"},
		{GUID: "newest", PublishedParsed: at(1)},
		{GUID: "by-updated", UpdatedParsed: at(2)},
		nil,
		{GUID: "future", PublishedParsed: &future},
		{GUID: "older", PublishedParsed: at(30)},
		{GUID: "undated-2"},
		{GUID: "middle", PublishedParsed: at(10)},
	}}
	tests := []struct {
		limit  int
		want   string
		capped int
	}{
		{0, "[old undated-1 newest by-updated future older undated-2 middle]", 0},
		{9, "[old undated-1 newest by-updated future older undated-2 middle]", 0},
		{5, "[undated-1 newest by-updated future undated-2]", 4},
		{2, "[undated-1 future]", 7},
		{6, "[undated-1 newest by-updated future undated-2 middle]", 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			g := *f
			capped := capItems(&g, tt.limit, now)
			items := Normalize(newsdesk.Source{ID: "a"}, "https://example.com/rss", &g, now)
			var ids []string
			for _, it := range items {
				ids = append(ids, it.ID)
			}
			if got := fmt.Sprint(ids); got != tt.want || capped != tt.capped {
				t.Errorf("capItems(%d) kept %s, capped %d; want %s, %d", tt.limit, got, capped, tt.want, tt.capped)
			}
		})
	}
}

// TestBigFeedIsCappedBeforeStoring: a fetch of a 20,000-item feed through
// the real client and store keeps max_items_per_fetch of them and records
// how many it left out.
func TestBigFeedIsCappedBeforeStoring(t *testing.T) {
	var body strings.Builder
	body.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>`)
	for i := range 20_000 {
		fmt.Fprintf(&body, "<item><guid>%d</guid></item>\n", i)
	}
	body.WriteString(`</channel></rss>`)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body.String())
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "big", URL: origin.URL, Interval: time.Hour, MaxItemsPerFetch: 300,
		Retention: newsdesk.Retention{MaxItems: 1000}}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	out, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, false, nil, nil)
	if err != nil || len(out) != 1 || out[0].Err != nil {
		t.Fatalf("RunOnce = %+v, %v", out, err)
	}
	st, err := db.State("big")
	if err != nil || st.New != 300 || st.Capped != 19_700 {
		t.Errorf("state = %d new, %d capped, %v; want 300 and 19700", st.New, st.Capped, err)
	}
	if n, _ := db.CountItems("big"); n != 300 {
		t.Errorf("stored %d items, want 300", n)
	}
	if _, err := db.Item("big", "0"); err != nil {
		t.Errorf("the first item in the document: %v, want it kept", err)
	}
}
