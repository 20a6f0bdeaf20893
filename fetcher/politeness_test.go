package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

func serveFeed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", `W/"v1"`)
	fmt.Fprintf(w, feedXML, "Feed")
}

func countPath(reqs []received, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Path == path {
			n++
		}
	}
	return n
}

func TestGoneIsNeverFetchedAgain(t *testing.T) {
	o := newOrigin(t)
	o.on("/gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	o.on("/new", serveFeed)
	src := newsdesk.Source{ID: "a", URL: o.url("/gone"), Interval: 10 * time.Minute}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	out, _ := s.RunOnce(context.Background(), []newsdesk.Source{src}, false, nil, nil)
	if !isGone(out[0].Err) || !out[0].State.Gone || !strings.Contains(out[0].State.Error, "410") {
		t.Fatalf("410 outcome = %+v, want the source marked gone", out[0])
	}
	clock = t0.Add(72 * time.Hour)
	if out, _ := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); len(out) != 0 {
		t.Errorf("run -force 3 days later fetched a gone source: %+v", out)
	}
	if n := countPath(o.received(), "/gone"); n != 1 {
		t.Errorf("origin got %d requests for the gone URL, want 1", n)
	}
	// The operator changes the URL: fetched at once, no longer gone.
	src.URL = o.url("/new")
	out, _ = s.RunOnce(context.Background(), []newsdesk.Source{src}, false, nil, nil)
	if len(out) != 1 || out[0].Err != nil || out[0].State.Gone || out[0].State.New != 2 {
		t.Fatalf("after a url change: %+v, want fetched with 2 new items", out)
	}
	if st, _ := db.State("a"); st.Gone || st.URL != src.URL {
		t.Errorf("stored state = %+v, want not gone, new url", st)
	}
}

func TestPermanentRedirectIsRemembered(t *testing.T) {
	o := newOrigin(t)
	o.on("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) })
	o.on("/temp", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	o.on("/new", serveFeed)
	moved := newsdesk.Source{ID: "moved", URL: o.url("/old"), Interval: 10 * time.Minute}
	temp := newsdesk.Source{ID: "temp", URL: o.url("/temp"), Interval: 10 * time.Minute}
	clock := t0
	s, _ := newScheduler(t, &clock, moved, temp)
	for range 3 {
		out, err := s.RunOnce(context.Background(), []newsdesk.Source{moved, temp}, true, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o.Err != nil {
				t.Fatalf("%s: %v", o.Source.ID, o.Err)
			}
		}
		clock = clock.Add(time.Hour)
	}
	reqs := o.received()
	if n := countPath(reqs, "/old"); n != 1 {
		t.Errorf("301: the old URL was requested %d times in 3 fetches, want once (then remembered)", n)
	}
	if n := countPath(reqs, "/temp"); n != 3 {
		t.Errorf("302: the configured URL was requested %d times in 3 fetches, want every time", n)
	}
	for _, r := range reqs {
		if r.Header.Get("Referer") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("request for %s carried Referer %q, Cookie %q", r.Path, r.Header.Get("Referer"), r.Header.Get("Cookie"))
		}
	}
	// The remembered URL's validators are sent to it.
	if last := reqs[len(reqs)-1]; last.Header.Get("If-None-Match") != `W/"v1"` {
		t.Errorf("last request for %s sent If-None-Match %q, want the stored ETag", last.Path, last.Header.Get("If-None-Match"))
	}
	st, _ := s.Store.(*bolt.DB).State("moved")
	if st.MovedTo != o.url("/new") {
		t.Errorf("MovedTo = %q, want %q", st.MovedTo, o.url("/new"))
	}
}

func TestCacheControlDelaysNextFetch(t *testing.T) {
	o := newOrigin(t)
	o.on("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=7200")
		serveFeed(w, r)
	})
	clock := time.Now().UTC() // max-age counts from the client's clock
	honour := newsdesk.Source{ID: "honour", URL: o.url("/cached"), Interval: 10 * time.Minute}
	ignore := newsdesk.Source{ID: "ignore", URL: o.url("/cached"), Interval: 10 * time.Minute, IgnoreCacheHeaders: true}
	s, _ := newScheduler(t, &clock, honour, ignore)
	out, err := s.RunOnce(context.Background(), []newsdesk.Source{honour, ignore}, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		wait := o.State.NextDue.Sub(clock)
		switch o.Source.ID {
		case "honour":
			if wait < 119*time.Minute {
				t.Errorf("honour_cache_headers: next due in %v, want about 2h (max-age=7200)", wait)
			}
		case "ignore":
			// A first fetch: the interval, and up to one more to its phase.
			if wait < 10*time.Minute || wait >= 20*time.Minute {
				t.Errorf("honor_cache_headers false: next due in %v, want the 10m interval (to 20m: its phase)", wait)
			}
		}
	}
}

// memOrigin is an in-memory publisher for tests under testing/synctest's
// fake clock, where real sockets cannot be used.
type memOrigin struct {
	mu       sync.Mutex
	inflight map[string]int // by host
	peak     map[string]int
	count    map[string]int
	gate     chan struct{} // when set, each request waits for a token
	answer   func(r *http.Request) (int, http.Header, string)
	limit    int    // when set, requests to one host past this many call exceeded
	exceeded func() // e.g. cancel the scheduler's context
}

func (m *memOrigin) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.inflight[r.URL.Host]++
	m.count[r.URL.Host]++
	m.peak[r.URL.Host] = max(m.peak[r.URL.Host], m.inflight[r.URL.Host])
	if m.limit > 0 && m.count[r.URL.Host] > m.limit {
		m.exceeded()
	}
	gate := m.gate
	m.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}
	m.mu.Lock()
	m.inflight[r.URL.Host]--
	m.mu.Unlock()
	code, h, body := m.answer(r)
	return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// requests is how many requests host has received.
func (m *memOrigin) requests(host string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count[host]
}

func newMemScheduler(t *testing.T, m *memOrigin, sources ...newsdesk.Source) *Scheduler {
	m.inflight, m.peak, m.count = map[string]int{}, map[string]int{}, map[string]int{}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "newsdesk.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	client := NewClient("newsdesk-test")
	client.HTTP.Transport = m
	return NewScheduler(client, db, sources, slog.New(slog.DiscardHandler))
}

// TestRetryAfterIsNeverRushed: after a 429 with Retry-After, nothing is sent
// to the source before that time, not even by run -force.
func TestRetryAfterIsNeverRushed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limited := true
		m := &memOrigin{answer: func(r *http.Request) (int, http.Header, string) {
			if limited {
				return http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}}, ""
			}
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, "Feed")
		}}
		src := newsdesk.Source{ID: "a", URL: "http://limited.example/rss", Interval: 10 * time.Minute}
		s := newMemScheduler(t, m, src)
		out, _ := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil)
		if len(out) != 1 || out[0].State.RetryAfter.IsZero() {
			t.Fatalf("429 outcome = %+v, want a Retry-After recorded", out)
		}
		time.Sleep(59 * time.Minute)
		if out, _ := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); len(out) != 0 || m.requests("limited.example") != 1 {
			t.Fatalf("run -force before Retry-After: %d outcomes, %d requests; want none sent", len(out), m.requests("limited.example"))
		}
		time.Sleep(2 * time.Minute)
		limited = false
		out, _ = s.RunOnce(context.Background(), []newsdesk.Source{src}, false, nil, nil)
		if len(out) != 1 || out[0].Err != nil || m.requests("limited.example") != 2 {
			t.Fatalf("after Retry-After: %+v with %d requests, want one successful fetch", out, m.requests("limited.example"))
		}
		if !out[0].State.RetryAfter.IsZero() {
			t.Errorf("RetryAfter = %v after a success, want cleared", out[0].State.RetryAfter)
		}
	})
}

// TestPerHostLimit: many sources on one host are fetched one at a time,
// while another host is fetched alongside.
func TestPerHostLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memOrigin{gate: make(chan struct{}), answer: func(r *http.Request) (int, http.Header, string) {
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, r.URL.Host)
		}}
		var sources []newsdesk.Source
		for i := range 4 {
			sources = append(sources, newsdesk.Source{ID: fmt.Sprintf("same%d", i), URL: fmt.Sprintf("http://same.example/feed%d", i), Interval: time.Hour})
		}
		sources = append(sources, newsdesk.Source{ID: "other", URL: "http://other.example/rss", Interval: time.Hour})
		s := newMemScheduler(t, m, sources...)
		done := make(chan []Outcome)
		go func() {
			out, _ := s.RunOnce(context.Background(), sources, false, nil, nil)
			done <- out
		}()
		for i := range len(sources) {
			synctest.Wait() // every fetch that may run is now waiting at the gate
			m.mu.Lock()
			same, other := m.inflight["same.example"], m.inflight["other.example"]
			m.mu.Unlock()
			if i == 0 && (same != 1 || other != 1) {
				t.Fatalf("at start: in flight same=%d other=%d, want one request to each host at once", same, other)
			}
			if same > 1 {
				t.Fatalf("%d requests in flight to one host, want at most 1", same)
			}
			if same+other == 0 {
				t.Fatal("no request in flight while sources are left")
			}
			m.gate <- struct{}{}
		}
		out := <-done
		if len(out) != 5 || m.peak["same.example"] != 1 || m.peak["other.example"] != 1 {
			t.Errorf("%d outcomes, peak in flight same=%d other=%d; want 5, 1, 1", len(out), m.peak["same.example"], m.peak["other.example"])
		}
	})
}

// brokenStore is a store whose writes fail (a full disk).
type brokenStore struct{ *bolt.DB }

func (brokenStore) SaveFetch(newsdesk.FetchState, []newsdesk.Item, newsdesk.Retention) (newsdesk.FetchState, error) {
	return newsdesk.FetchState{}, errors.New("disk full")
}

func (brokenStore) SaveState(newsdesk.FetchState) error { return errors.New("disk full") }

// TestUnstorableResultIsNotRefetchedAtOnce: when a fetch's result cannot be
// stored, the stored next-due time is stale; the source must still wait
// (backing off) rather than be fetched again in a tight loop.
func TestUnstorableResultIsNotRefetchedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		m := &memOrigin{answer: func(r *http.Request) (int, http.Header, string) {
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, "Feed")
		}}
		m.limit, m.exceeded = 20, cancel
		src := newsdesk.Source{ID: "a", URL: "http://a.example/rss", Interval: 10 * time.Minute}
		s := newMemScheduler(t, m, src)
		s.Store = brokenStore{s.Store.(*bolt.DB)}
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait()
		if n := m.requests("a.example"); n != 1 {
			t.Fatalf("%d requests at start, want 1", n)
		}
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		if n := m.requests("a.example"); n != 1 {
			t.Fatalf("%d requests after 15m, want 1 (held back about 20m)", n)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := m.requests("a.example"); n != 2 {
			t.Fatalf("%d requests after 25m, want 2", n)
		}
		cancel()
		<-done
	})
}

// TestRunOnceSkipsWhatRunIsFetching: a run handed to serve does not fetch a
// source that serve's own loop is fetching at that moment.
func TestRunOnceSkipsWhatRunIsFetching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memOrigin{gate: make(chan struct{}), answer: func(r *http.Request) (int, http.Header, string) {
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, "Feed")
		}}
		src := newsdesk.Source{ID: "a", URL: "http://a.example/rss", Interval: time.Hour}
		s := newMemScheduler(t, m, src)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait() // Run's fetch waits at the gate
		out, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil)
		if err != nil || len(out) != 1 || out[0].Kind != KindBusy {
			t.Errorf("RunOnce while Run fetches: %+v, %v; want the source left alone (busy)", out, err)
		}
		m.gate <- struct{}{}
		synctest.Wait()
		if n := m.requests("a.example"); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
		cancel()
		<-done
	})
}

// TestRunWaitsForARunOnceFetch: while a pass handed to serve fetches a
// source, serve's loop neither spins nor fetches it again afterwards.
func TestRunWaitsForARunOnceFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &memOrigin{gate: make(chan struct{}), answer: func(r *http.Request) (int, http.Header, string) {
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, "Feed")
		}}
		src := newsdesk.Source{ID: "a", URL: "http://a.example/rss", Interval: time.Hour}
		s := newMemScheduler(t, m, src)
		counting := &countingStore{Store: s.Store}
		s.Store = counting
		once := make(chan []Outcome)
		go func() {
			out, _ := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil)
			once <- out
		}()
		synctest.Wait() // RunOnce's fetch waits at the gate
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait() // Run sees the source busy and sleeps
		if n := counting.reads(); n > 10 {
			t.Errorf("Run read the states %d times while the source was busy, want it to wait", n)
		}
		m.gate <- struct{}{}
		if out := <-once; len(out) != 1 || out[0].Err != nil || out[0].State.New != 2 {
			t.Fatalf("RunOnce = %+v", out)
		}
		synctest.Wait() // Run woke, found the source fetched and not due
		if n := m.requests("a.example"); n != 1 {
			t.Errorf("%d requests, want 1 (Run must not fetch it again)", n)
		}
		cancel()
		<-done
	})
}

// countingStore counts reads of the fetch states.
type countingStore struct {
	Store
	mu sync.Mutex
	n  int
}

func (c *countingStore) States() ([]newsdesk.FetchState, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Store.States()
}

func (c *countingStore) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
