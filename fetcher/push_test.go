package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// TestSafetyNetWhilePushActive: while the hub pushes, a successful fetch
// makes the source due a SafetyNetInterval later instead of its interval;
// otherwise at its interval; a failure backs off from its own interval;
// Retry-After still applies.
func TestSafetyNetWhilePushActive(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := int(status.Load()); c != 200 {
			w.Header().Set("Retry-After", "86400")
			http.Error(w, "busy", c)
			return
		}
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: 10 * time.Minute, IntervalSet: true}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	var active atomic.Bool
	s.PushActive = func(id string) bool { return id == "a" && active.Load() }
	pass := func() newsdesk.FetchState {
		t.Helper()
		if _, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); err != nil {
			t.Fatal(err)
		}
		st, err := db.State("a")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := pass(); st.NextDue.After(clock.Add(time.Hour)) {
		t.Errorf("push not active: next due %v after the fetch, want about the 10m interval", st.NextDue.Sub(clock))
	}
	active.Store(true)
	if st := pass(); st.NextDue.Before(clock.Add(newsdesk.SafetyNetInterval)) {
		t.Errorf("push active: next due %v after the fetch, want at least %v", st.NextDue.Sub(clock), newsdesk.SafetyNetInterval)
	}
	status.Store(503)
	if st := pass(); st.Result != newsdesk.ResultError || st.NextDue.Before(clock.Add(24*time.Hour)) {
		t.Errorf("push active, 503 with Retry-After a day: result %q, next due %v after, want error and a day", st.Result, st.NextDue.Sub(clock))
	}
}

// TestSafetyNetEndsWithPush: a source polled at the safety net is due at
// its own interval after its last fetch as soon as its hub no longer
// pushes, not when the safety net would have made it due.
func TestSafetyNetEndsWithPush(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, feedXML, "Origin") }))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: 10 * time.Minute, IntervalSet: true}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	var active atomic.Bool
	active.Store(true)
	s.PushActive = func(id string) bool { return active.Load() }
	if _, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, err := db.State("a")
	if err != nil {
		t.Fatal(err)
	}
	if !st.SafetyNet || st.NextDue.Before(st.LastFetch.Add(newsdesk.SafetyNetInterval)) {
		t.Fatalf("push active: safety net %v, next due %v after the fetch; want the safety net", st.SafetyNet, st.NextDue.Sub(st.LastFetch))
	}
	dueAt := func(now time.Time) bool {
		t.Helper()
		due, _, err := s.dueSources(now, map[string]bool{})
		if err != nil {
			t.Fatal(err)
		}
		return len(due) == 1
	}
	later := st.LastFetch.Add(11 * time.Minute)
	if dueAt(later) {
		t.Error("push active: due 11 minutes after the fetch, want the safety net")
	}
	active.Store(false)
	if !dueAt(later) {
		t.Error("push ended: not due 11 minutes after the fetch, want due at the 10m interval")
	}
	if dueAt(st.LastFetch.Add(5 * time.Minute)) {
		t.Error("push ended: due 5 minutes after the fetch, want not before the 10m interval")
	}
}

// TestIngestLikeAFetch: a pushed body goes through the fetch's parsing,
// sanitizing and max_items_per_fetch, is stored without touching the
// source's fetch state, and OnPush is told.
func TestIngestLikeAFetch(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: 10 * time.Minute, MaxItemsPerFetch: 2}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	var pushed []store.PushResult
	s.OnPush = func(id string, res store.PushResult) { pushed = append(pushed, res) }
	if _, err := s.Ingest(context.Background(), "a", []byte(fmt.Sprintf(feedXML, "x")), "application/rss+xml"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("Ingest before any fetch: %v, want ErrNotFound", err)
	}
	if _, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := db.State("a")
	clock = clock.Add(time.Minute)
	body := `<rss version="2.0"><channel><title>T</title>
<item><title>Three</title><link>https://example.com/3</link><guid>https://example.com/3</guid><pubDate>Thu, 26 Nov 2026 12:00:00 +0000</pubDate><description>&lt;p&gt;ok&lt;/p&gt;&lt;script&gt;bad()&lt;/script&gt;</description></item>
<item><title>Four</title><link>https://example.com/4</link><guid>https://example.com/4</guid><pubDate>Thu, 26 Nov 2026 12:30:00 +0000</pubDate></item>
<item><title>Old</title><link>https://example.com/0</link><guid>https://example.com/0</guid><pubDate>Thu, 26 Nov 2026 01:00:00 +0000</pubDate></item>
</channel></rss>`
	res, err := s.Ingest(context.Background(), "a", []byte(body), "application/rss+xml")
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || len(pushed) != 1 || pushed[0] != res {
		t.Errorf("Ingest() = %+v, OnPush got %+v; want 2 new (the third beyond max_items_per_fetch) and OnPush told", res, pushed)
	}
	if n, _ := db.CountItems("a"); n != 4 {
		t.Errorf("%d items stored, want 4: the 2 fetched are not gone", n)
	}
	db.Items("a", func(it newsdesk.Item) bool {
		if strings.Contains(it.Summary+it.Content, "script") {
			t.Errorf("item %s kept a script: %q", it.ID, it.Summary+it.Content)
		}
		return true
	})
	after, _ := db.State("a")
	if after.ETag != before.ETag || !after.NextDue.Equal(before.NextDue) || !after.LastFetch.Equal(before.LastFetch) || after.New != before.New {
		t.Errorf("state after Ingest = ETag %q next due %v, want unchanged (%q, %v)", after.ETag, after.NextDue, before.ETag, before.NextDue)
	}
	if _, err := s.Ingest(context.Background(), "nope", []byte(body), ""); err == nil || !strings.Contains(err.Error(), "feeds.yaml") {
		t.Errorf("Ingest for an unknown source: %v, want an error naming feeds.yaml", err)
	}
	if _, err := s.Ingest(context.Background(), "a", []byte("<html>no</html>"), "text/html"); err == nil {
		t.Error("Ingest of a page that is no feed: nil error")
	}
}

// TestIngestFetchesArticles: a pushed item of a full_text source gets its
// article before OnPush, as a fetched one does before OnCommit.
func TestIngestFetchesArticles(t *testing.T) {
	s := newArticleSite(t, newsdesk.FullText{})
	s.page(t, "/news/1", "moscowtimes.html")
	s.page(t, "/news/5", "moscowtimes.html")
	s.link("/news/1")
	s.pass(t)
	var withArticle bool
	s.sched.OnPush = func(string, store.PushResult) {
		it, _ := s.article(t, "/news/5")
		withArticle = it.Article != ""
	}
	s.clock = s.clock.Add(time.Minute)
	body := `<?xml version="1.0"?><rss version="2.0"><channel><title>The Moscow Times</title>` +
		fmt.Sprintf(mtItem, 5, s.o.url("/news/5"), 5) + `</channel></rss>`
	if res, err := s.sched.Ingest(context.Background(), "mt", []byte(body), "application/rss+xml"); err != nil || res.New != 1 {
		t.Fatalf("Ingest() = %+v, %v; want 1 new", res, err)
	}
	if _, a := s.article(t, "/news/5"); a.Status != newsdesk.ArticleOK || !withArticle {
		t.Errorf("pushed item's article: %s, seen by OnPush %v; want ok, true", a.Status, withArticle)
	}
	if n := s.requests("/news/5"); n != 1 {
		t.Errorf("%d requests to the pushed item's page, want 1", n)
	}
}
