package fetcher

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const feedXML = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>%s</title><link>https://example.com/</link>
<item><title>One</title><link>https://example.com/1</link><guid>https://example.com/1</guid><pubDate>Thu, 26 Nov 2026 10:00:00 +0000</pubDate></item>
<item><title>Two</title><link>https://example.com/2</link><guid>https://example.com/2</guid><pubDate>Thu, 26 Nov 2026 11:00:00 +0000</pubDate></item>
</channel></rss>`

func newScheduler(t *testing.T, clock *time.Time, sources ...newsdesk.Source) (*Scheduler, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := NewScheduler(NewClient("newsdesk-test"), db, sources, slog.New(slog.DiscardHandler))
	s.Now = func() time.Time { return *clock }
	s.Client.Now = s.Now
	return s, db
}

func TestRunOnceStoresConditionalAndBacksOff(t *testing.T) {
	var requests atomic.Int32
	var failing atomic.Bool
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if failing.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: 10 * time.Minute}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	ctx := context.Background()

	out, err := s.RunOnce(ctx, []newsdesk.Source{src}, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Err != nil || out[0].State.New != 2 || out[0].State.ETag != `"v1"` {
		t.Fatalf("first pass = %+v, want 2 new items and ETag \"v1\"", out)
	}
	if n, _ := db.CountItems("a"); n != 2 {
		t.Errorf("stored items = %d, want 2", n)
	}

	// Not due yet: no request at all.
	clock = t0.Add(5 * time.Minute)
	if out, _ = s.RunOnce(ctx, []newsdesk.Source{src}, false, nil, nil); len(out) != 0 || requests.Load() != 1 {
		t.Errorf("pass before due: %d outcomes, %d requests; want 0 and 1", len(out), requests.Load())
	}

	// A first fetch is late: the next is at the source's phase of the
	// interval after the interval, within an interval more.
	first, _ := db.State("a")
	if want := phased("a", src.Interval, t0.Add(src.Interval)); !first.NextDue.Equal(want) || first.NextDue.Sub(t0) >= 2*src.Interval {
		t.Fatalf("next due after the first fetch = %v, want its phase %v, within 20m", first.NextDue, want)
	}

	// Due: a conditional request, answered 304, stores nothing new. A pass
	// begins on time whenever cron starts it: the interval and up to 30s
	// of jitter.
	clock = first.NextDue.Add(3 * time.Minute)
	out, _ = s.RunOnce(ctx, []newsdesk.Source{src}, false, nil, nil)
	if len(out) != 1 || out[0].State.Result != newsdesk.ResultNotModified || out[0].State.New != 0 {
		t.Fatalf("due pass = %+v, want not modified", out)
	}
	if st, _ := db.State("a"); st.NextDue.Before(clock.Add(10*time.Minute)) || st.NextDue.After(clock.Add(11*time.Minute)) || st.ETag != `"v1"` {
		t.Errorf("state after 304 = %+v, want next due in 10m (+jitter) and ETag kept", st)
	}

	// Failures are recorded and back off; a success resets them.
	failing.Store(true)
	for i, wantWait := range []time.Duration{20 * time.Minute, 40 * time.Minute} { // ±10% jitter
		out, _ = s.RunOnce(ctx, []newsdesk.Source{src}, true, nil, nil)
		st := out[0].State
		if out[0].Err == nil || st.Result != newsdesk.ResultError || st.Failures != i+1 || !strings.Contains(st.Error, "500") {
			t.Fatalf("failing pass %d = %+v, want error with HTTP 500 and %d failures", i, st, i+1)
		}
		if got := st.NextDue.Sub(clock); got < wantWait*9/10 || got > wantWait*11/10 {
			t.Errorf("after %d failures next due in %v, want %v ±10%%", i+1, got, wantWait)
		}
	}
	if n, _ := db.CountItems("a"); n != 2 {
		t.Errorf("stored items after failures = %d, want the 2 kept", n)
	}
	failing.Store(false)
	out, _ = s.RunOnce(ctx, []newsdesk.Source{src}, true, nil, nil)
	var hist []string
	for _, a := range out[0].State.History {
		hist = append(hist, fmt.Sprintf("%s/%s/%d", a.Result, a.Kind, a.New))
	}
	if got, want := strings.Join(hist, " "), "ok//2 not_modified//0 error/http_5xx/0 error/http_5xx/0 not_modified//0"; got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
	if out[0].Kind != "not_modified" {
		t.Errorf("outcome kind = %q, want not_modified", out[0].Kind)
	}
	if st := out[0].State; st.Failures != 0 || st.Result != newsdesk.ResultNotModified || !st.LastSuccess.Equal(clock) {
		t.Errorf("recovered state = %+v, want 0 failures, not modified, last success now", st)
	}
}

// TestRunOnceCommitsEachSourceAsItFinishes shows that one slow source does not
// hold back another's commit: the slow origin answers only after the fast
// source's items are in the store.
func TestRunOnceCommitsEachSourceAsItFinishes(t *testing.T) {
	release := make(chan struct{})
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, feedXML, "Fast")
	}))
	defer fast.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			fmt.Fprintf(w, feedXML, "Slow")
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	srcFast := newsdesk.Source{ID: "fast", URL: fast.URL, Interval: time.Hour, Timeout: 20 * time.Second}
	srcSlow := newsdesk.Source{ID: "slow", URL: slow.URL, Interval: time.Hour, Timeout: 20 * time.Second}
	clock := t0
	s, db := newScheduler(t, &clock, srcFast, srcSlow)
	var once sync.Once
	s.OnCommit = func(o Outcome) {
		if o.Source.ID != "fast" {
			return
		}
		if n, err := db.CountItems("fast"); err != nil || n != 2 {
			t.Errorf("fast source committed with %d items (%v), want 2", n, err)
		}
		once.Do(func() { release <- struct{}{} })
	}
	out, err := s.RunOnce(context.Background(), []newsdesk.Source{srcSlow, srcFast}, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil || o.State.New != 2 {
			t.Errorf("%s: %+v, want 2 new items", o.Source.ID, o)
		}
	}
}

type panickingTransport struct{}

func (panickingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	panic("hostile feed")
}

func TestPanicIsThatSourcesError(t *testing.T) {
	clock := t0
	src := newsdesk.Source{ID: "evil", URL: "http://evil.invalid/rss", Interval: time.Hour}
	s, db := newScheduler(t, &clock, src)
	s.Client.HTTP.Transport = panickingTransport{}
	out, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Err == nil || !strings.Contains(out[0].State.Error, "hostile feed") {
		t.Fatalf("outcome = %+v, want the panic recorded as the source's error", out)
	}
	if st, err := db.State("evil"); err != nil || st.Failures != 1 {
		t.Errorf("stored state = %+v, %v; want 1 failure", st, err)
	}
}

// TestRunFetchesAtOnceAndStops: serve's loop fetches a never-fetched source
// immediately and returns when its context is cancelled.
func TestRunFetchesAtOnceAndStops(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: time.Hour}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	ctx, cancel := context.WithCancel(context.Background())
	committed := make(chan newsdesk.FetchState, 1)
	s.OnCommit = func(o Outcome) { committed <- o.State }
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	st := <-committed
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
	if st.New != 2 {
		t.Errorf("committed %+v, want 2 new", st)
	}
	if n, _ := db.CountItems("a"); n != 2 {
		t.Errorf("stored %d items, want 2", n)
	}
}

// TestRunWaitsForNextDue runs serve's loop for hours of fake time: a failing
// source is fetched once, then again only after its backoff, and a healthy
// one once per interval.
func TestRunWaitsForNextDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		m := &memOrigin{answer: func(r *http.Request) (int, http.Header, string) {
			if r.URL.Host == "down.example" {
				return http.StatusInternalServerError, http.Header{}, "boom"
			}
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, r.URL.Host)
		}}
		// A scheduler that refetched without waiting would spin forever in
		// fake time: stop it after far more requests than the test expects.
		m.limit, m.exceeded = 100, cancel
		sources := []newsdesk.Source{
			{ID: "up", URL: "http://up.example/rss", Interval: 10 * time.Minute},
			{ID: "down", URL: "http://down.example/rss", Interval: 10 * time.Minute},
		}
		s := newMemScheduler(t, m, sources...)
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		count := func() (int, int) {
			synctest.Wait()
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.count["up.example"], m.count["down.example"]
		}
		// Success: a first fetch is late, so up is next fetched at its
		// phase (p, 10-20m), then every 10m plus up to 30s of jitter.
		// Failure n: 2^n x 10m ±10%, whether late or not.
		start := time.Now()
		p := phased("up", 10*time.Minute, start.Add(10*time.Minute)).Sub(start)
		type step struct {
			at       time.Duration // since start
			host     string
			requests int
		}
		steps := []step{
			{0, "up.example", 1}, {0, "down.example", 1}, // both fetched at start
			{9 * time.Minute, "up.example", 1},   // nothing before the interval
			{p - time.Second, "up.example", 1},   // nor before its phase
			{p + time.Second, "up.example", 2},   // at its phase
			{p + 9*time.Minute, "up.example", 2}, // then once per interval
			{p + 11*time.Minute, "up.example", 3},
			{p + 43*time.Minute, "up.example", 6},
			{17 * time.Minute, "down.example", 1}, // down waits 18-22m
			{23 * time.Minute, "down.example", 2},
			{53 * time.Minute, "down.example", 2}, // then 36-44m after its 2nd failure (54-66m)
			{68 * time.Minute, "down.example", 3},
		}
		slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.at, b.at) })
		for i, step := range steps {
			time.Sleep(time.Until(start.Add(step.at)))
			up, down := count()
			if got := map[string]int{"up.example": up, "down.example": down}[step.host]; got != step.requests {
				cancel()
				t.Fatalf("step %d (+%v): %d requests to %s, want %d", i, step.at, got, step.host, step.requests)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
}

// TestRunOutlivesAnUnreadableStore: a store that cannot be read pauses
// serve's loop, which says so, instead of ending it (and serve with it):
// serve goes on serving the feeds it rendered last.
func TestRunOutlivesAnUnreadableStore(t *testing.T) {
	clock := t0
	s, db := newScheduler(t, &clock)
	logged := make(chan string, 10)
	s.Logger = slog.New(slog.NewTextHandler(lineWriter(logged), nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	db.Close()
	s.SetSources(nil) // wakes the loop, which reads the states again
	select {
	case err := <-done:
		t.Fatalf("Run() = %v with the store closed, want it to go on until cancelled", err)
	case line := <-logged:
		if !strings.Contains(line, "fetching paused: the store cannot be read") || !strings.Contains(line, "database not open") {
			t.Errorf("logged %q, want the pause and why", line)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v after cancel, want nil", err)
	}
}

// lineWriter sends each write (a log line) to c.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default:
	}
	return len(p), nil
}
