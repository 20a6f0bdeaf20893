package fetcher

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
	"github.com/newsdesk/newsdesk/store/postgres"
	"github.com/newsdesk/newsdesk/store/postgres/pgtest"
)

// The lease loop against a real PostgreSQL (store/postgres): skipped
// without NEWSDESK_TEST_DATABASE_URL, as pgtest says.

// openCluster opens a PostgreSQL store on a schema of the test's own and
// returns it with its address, for other handles on it (other instances).
func openCluster(t *testing.T) (*postgres.DB, string) {
	t.Helper()
	dsn, _ := pgtest.Schema(t)
	return openAt(t, dsn), dsn
}

// openAt opens another handle on the store at dsn: what another process
// has.
func openAt(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// leasing is a scheduler of instance fetching under leases from db.
func leasing(db *postgres.DB, instance string, log *logBuffer, sources ...newsdesk.Source) *Scheduler {
	s := NewScheduler(NewClient("newsdesk-test"), db, sources, slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s.Cluster, s.Instance, s.Lease = db, instance, time.Minute
	return s
}

// logBuffer is a log that tests read while schedulers write it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitUntil polls cond until it holds, failing the test after a while.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recOrigin serves a feed at every path and records, per path and for the
// whole server, how many requests are in flight at once. Each answer takes
// latency, as a publisher's does, so that fetches that may overlap do.
type recOrigin struct {
	*httptest.Server
	latency time.Duration
	gate    chan struct{} // when set, requests wait for it to close

	mu                 sync.Mutex
	inflight, peak     map[string]int
	count              map[string]int
	serverIn, serverPk int
}

func newRecOrigin(t *testing.T, latency time.Duration) *recOrigin {
	o := &recOrigin{latency: latency, inflight: map[string]int{}, peak: map[string]int{}, count: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

func (o *recOrigin) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	o.mu.Lock()
	o.inflight[p]++
	o.count[p]++
	o.peak[p] = max(o.peak[p], o.inflight[p])
	o.serverIn++
	o.serverPk = max(o.serverPk, o.serverIn)
	gate := o.gate
	o.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}
	time.Sleep(o.latency) // the publisher's latency, not a synchronization
	o.mu.Lock()
	o.inflight[p]--
	o.serverIn--
	o.mu.Unlock()
	fmt.Fprintf(w, feedXML, p)
}

func (o *recOrigin) requests(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count[path]
}

// sources are n sources at paths /s00... of base.
func sourcesAt(base string, n int) []newsdesk.Source {
	var out []newsdesk.Source
	for i := range n {
		out = append(out, newsdesk.Source{ID: fmt.Sprintf("s%02d", i), URL: fmt.Sprintf("%s/s%02d", base, i), Interval: time.Hour})
	}
	return out
}

// runAll runs each scheduler's Run until the returned stop is called.
func runAll(t *testing.T, scheds ...*Scheduler) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range scheds {
		wg.Go(func() {
			if err := s.Run(ctx); err != nil {
				t.Errorf("Run() = %v", err)
			}
		})
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// pair is two instances, a and b, sharing one store (each its own handle
// on it) and n sources of one origin, with fetch.per_host perHost.
type pair struct {
	db      *postgres.DB
	origin  *recOrigin
	srcs    []newsdesk.Source
	a, b    *Scheduler
	log     logBuffer
	commits atomic.Int32
	by      map[string]*atomic.Int32 // commits by instance
}

func newPair(t *testing.T, n int, latency time.Duration, perHost int) *pair {
	db, dsn := openCluster(t)
	p := &pair{db: db, origin: newRecOrigin(t, latency), by: map[string]*atomic.Int32{"a": {}, "b": {}}}
	p.srcs = sourcesAt(p.origin.URL, n)
	p.a = leasing(db, "a", &p.log, p.srcs...)
	p.b = leasing(openAt(t, dsn), "b", &p.log, p.srcs...)
	for _, s := range []*Scheduler{p.a, p.b} {
		s.PerHost = perHost
		s.OnCommit = func(Outcome) { p.commits.Add(1); p.by[s.Instance].Add(1) }
	}
	return p
}

// TestLeasesShareTheSourcesWithoutOverlap: two instances on one store and
// 50 sources fetch each source once, never at overlapping times, and date
// what they store by the database's clock, not their own (one's is off by
// decades).
func TestLeasesShareTheSourcesWithoutOverlap(t *testing.T) {
	p := newPair(t, 50, 5*time.Millisecond, 50)
	db, origin, srcs, b := p.db, p.origin, p.srcs, p.b
	skewed := func() time.Time { return time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) }
	b.Now, b.Client.Now = skewed, skewed
	commits, log := &p.commits, &p.log
	before, err := db.Clock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stop := runAll(t, p.a, b)
	waitUntil(t, "50 commits", func() bool { return commits.Load() >= 50 })
	stop()
	after, _ := db.Clock(context.Background())
	t.Logf("instance a committed %d, b %d", p.by["a"].Load(), p.by["b"].Load())
	if n := commits.Load(); n != 50 {
		t.Errorf("%d commits, want 50: one per source", n)
	}
	for _, src := range srcs {
		p := strings.TrimPrefix(src.URL, origin.URL)
		if n, peak := origin.requests(p), origin.peak[p]; n != 1 || peak != 1 {
			t.Errorf("%s: %d requests, %d at once; want 1 and 1", src.ID, n, peak)
		}
		st, err := db.State(src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastFetch.Before(before.Add(-time.Second)) || st.LastFetch.After(after.Add(time.Second)) {
			t.Errorf("%s: last fetch %v, want by the database's clock, within [%v, %v]", src.ID, st.LastFetch, before, after)
		}
	}
	if strings.Contains(log.String(), "level=ERROR") || strings.Contains(log.String(), "level=WARN") {
		t.Errorf("log has errors or warnings:\n%s", log.String())
	}
}

// TestPerHostHoldsAcrossInstances: with fetch.per_host 1, two instances
// never have two requests in flight to one host between them.
func TestPerHostHoldsAcrossInstances(t *testing.T) {
	p := newPair(t, 8, 20*time.Millisecond, 1)
	origin, srcs := p.origin, p.srcs
	stop := runAll(t, p.a, p.b)
	waitUntil(t, "8 commits", func() bool { return p.commits.Load() >= 8 })
	stop()
	origin.mu.Lock()
	defer origin.mu.Unlock()
	if origin.serverPk != 1 {
		t.Errorf("%d requests in flight to the host at once, want 1 (per_host 1 across the instances)", origin.serverPk)
	}
	for _, src := range srcs {
		if n := origin.count[strings.TrimPrefix(src.URL, origin.URL)]; n != 1 {
			t.Errorf("%s fetched %d times, want once", src.ID, n)
		}
	}
}

// pausingCluster is a real store whose leased saves first call
// beforeSave: a process paused between its fetch and its commit.
type pausingCluster struct {
	*postgres.DB
	beforeSave func(store.Lease)
}

func (p *pausingCluster) SaveFetchLeased(l store.Lease, st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	p.beforeSave(l)
	return p.DB.SaveFetchLeased(l, st, items, keep)
}

// TestLostLeaseDropsTheResult: an instance paused past its lease, whose
// source another instance has leased and fetched since, has its result
// rejected: the other's stays, the late one is logged and dropped, and
// serve's commit hook does not see it.
func TestLostLeaseDropsTheResult(t *testing.T) {
	db, _ := openCluster(t)
	origin := newRecOrigin(t, 0)
	src := sourcesAt(origin.URL, 1)[0]
	ctx := context.Background()
	pc := &pausingCluster{DB: db}
	pc.beforeSave = func(l store.Lease) {
		// Paused until the lease has ended and another has fetched.
		waitUntil(t, "the lease to end", func() bool { now, err := db.Clock(ctx); return err == nil && now.After(l.Until) })
		b, err := db.Lease(ctx, store.LeaseRequest{Instance: "b", Max: 1, For: time.Minute, Sources: []string{src.ID}, Force: true})
		if err != nil || len(b.Leases) != 1 {
			t.Errorf("the other instance could not lease the source: %+v, %v", b, err)
			return
		}
		theirs := newsdesk.FetchState{SourceID: src.ID, URL: src.URL, LastFetch: b.Now, NextDue: b.Now.Add(time.Hour), Result: newsdesk.ResultNotModified, ETag: `"theirs"`}
		if err := db.SaveStateLeased(b.Leases[0], theirs); err != nil {
			t.Errorf("the other instance's save: %v", err)
		}
	}
	var log logBuffer
	s := leasing(db, "a", &log, src)
	s.Store, s.Cluster, s.Lease = pc, pc, time.Second
	s.OnCommit = func(o Outcome) { t.Errorf("OnCommit(%+v) for a result the store rejected", o) }
	out, err := s.RunOnce(ctx, []newsdesk.Source{src}, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Kind != KindLeaseLost {
		t.Fatalf("outcomes %+v, want one %s", out, KindLeaseLost)
	}
	if !strings.Contains(log.String(), "late write rejected: another instance has fetched this source since; its result is dropped") {
		t.Errorf("log does not say the late write was rejected:\n%s", log.String())
	}
	if st, err := db.State(src.ID); err != nil || st.ETag != `"theirs"` {
		t.Errorf("stored state %+v, %v; want the other instance's", st, err)
	}
	if n, _ := db.CountItems(src.ID); n != 0 {
		t.Errorf("%d items stored from the rejected fetch, want 0", n)
	}
}

// TestShutdownReleasesLeases: fetches cut short by shutdown give their
// leases back, so that another instance may fetch the sources at once,
// not after the lease.
func TestShutdownReleasesLeases(t *testing.T) {
	db, _ := openCluster(t)
	origin := newRecOrigin(t, 0)
	origin.gate = make(chan struct{}) // never answers
	srcs := sourcesAt(origin.URL, 3)
	var log logBuffer
	s := leasing(db, "a", &log, srcs...)
	s.Lease, s.PerHost = 10*time.Minute, 3
	stop := runAll(t, s)
	waitUntil(t, "3 requests", func() bool {
		origin.mu.Lock()
		defer origin.mu.Unlock()
		return origin.serverIn == 3
	})
	stop()
	b, err := db.Lease(context.Background(), store.LeaseRequest{Instance: "a", Max: 10, For: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Leases) != 3 {
		t.Errorf("after shutdown %d of the 3 sources could be leased again, want all", len(b.Leases))
	}
	for _, src := range srcs {
		if _, err := db.State(src.ID); err == nil {
			t.Errorf("%s: a state was stored for a fetch cut short", src.ID)
		}
	}
}

// TestFetchingPausesWhileTheDatabaseDoesNotAnswer: a database that stops
// answering pauses fetching, which says so once, and resumes by itself
// when it answers again.
func TestFetchingPausesWhileTheDatabaseDoesNotAnswer(t *testing.T) {
	_, dsn := openCluster(t) // migrated
	proxy, through := pgtest.NewProxy(t, dsn)
	db := openAt(t, through)
	origin := newRecOrigin(t, 0)
	srcs := sourcesAt(origin.URL, 4)
	var log logBuffer
	s := leasing(db, "a", &log, srcs...)
	var commits atomic.Int32
	s.OnCommit = func(Outcome) { commits.Add(1) }
	proxy.Cut()
	runAll(t, s)
	waitUntil(t, "the pause to be logged", func() bool {
		return strings.Contains(log.String(), "fetching paused: the database does not answer")
	})
	waitUntil(t, "a retry", func() bool { return strings.Contains(log.String(), "fetching still paused") })
	if n := strings.Count(log.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged during one pause, want 1:\n%s", n, log.String())
	}
	proxy.Mend()
	waitUntil(t, "all 4 sources committed", func() bool { return commits.Load() == 4 })
	if !strings.Contains(log.String(), "fetching resumed: the database answers again") {
		t.Errorf("log does not say fetching resumed:\n%s", log.String())
	}
}

// TestRunOnceLeavesLeasedSourcesBusy: `newsdesk run` on a shared store
// fetches the due sources it can lease and reports one another instance
// holds as busy; one not due is no outcome.
func TestRunOnceLeavesLeasedSourcesBusy(t *testing.T) {
	db, _ := openCluster(t)
	origin := newRecOrigin(t, 0)
	srcs := sourcesAt(origin.URL, 3)
	ctx := context.Background()
	var log logBuffer
	run := leasing(db, "run", &log, srcs...)
	run.PerHost = 3
	// s02 was fetched lately: not due.
	if _, err := run.RunOnce(ctx, srcs[2:], false, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Another instance is fetching s01.
	other := leasing(db, "serve", &log, srcs...)
	if _, _, err := other.syncSources(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	held, err := db.Lease(ctx, store.LeaseRequest{Instance: "serve", Max: 1, For: time.Minute, Sources: []string{"s01"}})
	if err != nil || len(held.Leases) != 1 {
		t.Fatalf("lease s01 for the other instance: %+v, %v", held, err)
	}
	out, err := run.RunOnce(ctx, srcs, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, o := range out {
		kinds[o.Source.ID] = o.Kind
	}
	if want := map[string]string{"s00": "ok", "s01": KindBusy}; fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("outcomes by source %v, want %v", kinds, want)
	}
	if n := origin.requests("/s01"); n != 0 {
		t.Errorf("s01, leased by another instance, was requested %d times", n)
	}
	if got := Summary(out, len(srcs), false, time.Second); !strings.Contains(got, "1 left to newsdesk serve") || !strings.Contains(got, "1 not due yet") {
		t.Errorf("summary %q, want 1 left to serve and 1 not due", got)
	}
}

// TestGoneSourceIsNotLeasedAgain: a source that answered 410 Gone, which
// the store makes due again (another instance's configuration dates it
// otherwise), is leased but not fetched: its due time becomes never.
func TestGoneSourceIsNotLeasedAgain(t *testing.T) {
	db, _ := openCluster(t)
	var requests atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "gone", http.StatusGone)
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "gone", URL: origin.URL + "/feed", Interval: time.Hour}
	ctx := context.Background()
	var log logBuffer
	s := leasing(db, "a", &log, src)
	if out, err := s.RunOnce(ctx, []newsdesk.Source{src}, false, nil, nil); err != nil || len(out) != 1 || !out[0].State.Gone {
		t.Fatalf("first pass: %+v, %v; want the source gone", out, err)
	}
	now, err := db.Clock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SyncSources(ctx, "b", []store.SourceDue{{ID: src.ID, Host: hostOf(src.URL), Due: now.Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	b, err := db.Lease(ctx, store.LeaseRequest{Instance: "a", Max: 1, For: time.Minute})
	if err != nil || len(b.Leases) != 1 {
		t.Fatalf("lease the gone source made due: %+v, %v", b, err)
	}
	if out := s.fetchLeased(ctx, src, b.Leases[0], time.Now(), byRun, s.Logger, nil); out.Kind != kindNotDue {
		t.Errorf("leased gone source: %+v, want %s", out, kindNotDue)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests to the gone source, want the first only", n)
	}
	if b, err := db.Lease(ctx, store.LeaseRequest{Instance: "b", Max: 1, For: time.Minute, Sources: []string{src.ID}}); err != nil || len(b.Leases) != 0 || !b.Next.Equal(never) {
		t.Errorf("gone source leased again: %+v, %v; want none, next due never", b, err)
	}
}
