package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Store is what the scheduler needs from the database; every store.Store satisfies
// it. SaveFetch writes a fetch's items, prunes by retention and writes the
// source's state in one transaction; SaveState writes the state alone (a
// 304, a failure).
type Store interface {
	State(sourceID string) (newsdesk.FetchState, error)
	States() ([]newsdesk.FetchState, error)
	SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error)
	SaveState(st newsdesk.FetchState) error
}

// Scheduler decides when each source is fetched, fetches it with Client and
// commits each source's results as soon as its fetch finishes, so a pass cut
// short keeps everything that finished. Scheduling decisions are pure
// functions of the stored state and the clock (Due, nextDue); Run and
// RunOnce are thin loops around them, and what a fetch does to a source's
// state is the pure function applyResult.
type Scheduler struct {
	Client      *Client
	Store       Store
	Logger      *slog.Logger
	Now         func() time.Time
	Concurrency int // fetches in flight at once; 0 means newsdesk.DefaultConcurrency
	PerHost     int // fetches in flight to one host at once; 0 means newsdesk.DefaultPerHost
	// OnCommit, when set, is called after a source's results are committed,
	// from the goroutine that fetched it, in Run and in every RunOnce. It is
	// set once, before the scheduler runs; a pass's own hook is an argument
	// of RunOnce.
	OnCommit func(Outcome)
	// OnPush, when set, is called after what a source's hub pushed is
	// stored (Ingest), so that the sections are rendered again.
	OnPush func(sourceID string, res store.PushResult)
	// PushActive, when set, reports whether a source's hub pushes its
	// items (websub.Subscriber.PushActive): while it does, a successful
	// fetch makes the source due again only after
	// newsdesk.SafetyNetInterval (Retry-After and cache headers still
	// apply).
	PushActive func(sourceID string) bool

	// Cluster, when set, is the store shared with other newsdesk instances
	// (Store is the same store): Run and RunOnce then fetch a source only
	// under its lease (lease.go), as Instance, for Lease at a time.
	Cluster  store.Cluster
	Instance string        // this process's instance id in the cluster
	Lease    time.Duration // how long a lease lasts (storage.lease); 0 means defaultLease

	mu        sync.Mutex
	sources   []newsdesk.Source
	byID      map[string]int // index of each source in sources; nil until needed
	synced    bool           // the cluster has this instance's sources (SyncSources)
	gen       uint64         // counts SetSources
	known     stateCache     // Run's copy of the stored states (Cluster nil)
	slots     slots          // fetches in flight (slots.go)
	wake      chan struct{}
	busy      map[string]bool      // sources being fetched now, by Run or RunOnce
	held      map[string]time.Time // not before, for sources whose result could not be stored
	saveFails map[string]int       // consecutive failures to store a source's result

	// The article pass's (articles.go): robots.txt of the article hosts,
	// and the hosts that asked, with Retry-After, to be left alone until
	// then (under mu).
	robotsOnce sync.Once
	robotsTxt  *robotsCache
	hostHolds  map[string]time.Time
}

// storeRetry is how long Run waits to read a store that could not be read
// again.
const storeRetry = time.Minute

// NewScheduler returns a scheduler for the given sources.
func NewScheduler(client *Client, st Store, sources []newsdesk.Source, logger *slog.Logger) *Scheduler {
	return &Scheduler{Client: client, Store: st, Logger: logger, Now: time.Now, sources: sources}
}

// SetSources replaces the configured sources; a running Run picks them up at
// once.
func (s *Scheduler) SetSources(sources []newsdesk.Source) {
	s.mu.Lock()
	for id := range s.held {
		i := slices.IndexFunc(sources, func(src newsdesk.Source) bool { return src.ID == id })
		j := slices.IndexFunc(s.sources, func(src newsdesk.Source) bool { return src.ID == id })
		if i < 0 || j < 0 || sources[i].URL != s.sources[j].URL {
			delete(s.held, id)
			delete(s.saveFails, id)
		}
	}
	s.sources, s.byID, s.synced = sources, nil, false
	s.gen++
	wake := s.wake
	s.mu.Unlock()
	s.known.invalidate()
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// configured returns the configured sources.
func (s *Scheduler) configured() []newsdesk.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources
}

// source returns the configured source id.
func (s *Scheduler) source(id string) (newsdesk.Source, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = make(map[string]int, len(s.sources))
		for i, src := range s.sources {
			s.byID[src.ID] = i
		}
	}
	i, ok := s.byID[id]
	if !ok {
		return newsdesk.Source{}, false
	}
	return s.sources[i], true
}

// Outcome is the result of fetching one source in a pass.
type Outcome struct {
	Source newsdesk.Source
	State  newsdesk.FetchState // as committed
	Err    error               // the fetch error, also recorded in State
	Kind   string              // "ok", "not_modified", the error kind (ErrorKind), KindBusy or KindLeaseLost
	Bytes  int64               // body bytes received
	// Articles is what the article pass did after the commit; zero for a
	// source without full text.
	Articles ArticleCounts
}

// RunOnce fetches, concurrently, every source that is due now (every one
// when force is set) and commits each as it finishes. It returns when all
// have finished or ctx is done. An error is returned only when the store
// cannot be read; a source's failure is in its Outcome.
//
// log and onCommit belong to this pass alone: its fetches are logged to
// log (nil: the scheduler's Logger), and onCommit, when set, is called
// after each of its sources is committed, besides the scheduler's
// OnCommit. A `run` handed to `newsdesk serve` passes its caller's logger
// and progress bar here; the scheduler it shares with serve is not changed.
func (s *Scheduler) RunOnce(ctx context.Context, sources []newsdesk.Source, force bool, log *slog.Logger, onCommit func(Outcome)) ([]Outcome, error) {
	if log == nil {
		log = s.Logger
	}
	if s.Cluster != nil {
		return s.runOnceLeased(ctx, sources, force, log, onCommit)
	}
	states, err := s.states()
	if err != nil {
		return nil, err
	}
	now := s.now()
	var q queue
	var out []Outcome
	for _, src := range sources {
		st, ok := states[src.ID]
		if yes, _ := Due(src, st, ok, now, force); !yes || (!force && s.isHeld(src.ID, now)) {
			continue
		}
		if !s.claim(src.ID) { // Run, or another pass, is fetching it
			out = append(out, Outcome{Source: src, Kind: KindBusy})
			continue
		}
		q.push(len(out), src, hostOf(fetchURL(src, forURL(src, st))))
		out = append(out, Outcome{})
	}
	by := passBy(force)
	s.drive(ctx, &q, func(w waiting, g *grant) { out[w.i] = s.fetch(ctx, w.src, by, log, onCommit, g) })
	for _, w := range q.drain() { // cut short by ctx: never fetched
		st, _ := s.Store.State(w.src.ID)
		s.unclaim(w.src.ID)
		out[w.i] = Outcome{Source: w.src, State: st, Err: ctx.Err()}
	}
	return out, nil
}

// drive starts the sources of q as slots free up for them, each on a
// goroutine of its own with fetch, until none waits or ctx is done, then
// waits for those it started. A pass has at most 2 x fetch.concurrency
// goroutines (fetching, or parked waiting for the store: slots.go),
// however many sources it has.
func (s *Scheduler) drive(ctx context.Context, q *queue, fetch func(waiting, *grant)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(w waiting, g *grant) { wg.Go(func() { fetch(w, g) }) }
	for ctx.Err() == nil {
		freed := q.dispatch(s, start)
		if freed == nil {
			return
		}
		select {
		case <-freed:
		case <-ctx.Done():
		}
	}
}

// Run fetches each source whenever it is due until ctx is done, then waits
// for fetches in flight to commit. A slow or failing source never holds up
// another: each fetch runs on its own and the loop wakes for the next due
// time, a finished fetch, or a change of sources. A store that cannot be
// read does not end it: serve goes on serving the feeds it rendered last
// (the health table), so Run logs why, fetches nothing, and reads the
// store again after storeRetry or a change of sources.
//
// It reads every source's state at start, on SetSources and after a store
// error, and keeps them up to date from its own commits: a fetch costs the
// same however many sources there are. With Cluster set, it fetches under
// leases instead (runLeased).
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	s.wake = make(chan struct{}, 1)
	s.mu.Unlock()
	if s.Cluster != nil {
		return s.runLeased(ctx)
	}
	s.known.track()
	done := make(chan string)
	inflight := map[string]bool{} // queued or being fetched
	var q queue
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(w waiting, g *grant) {
		wg.Go(func() {
			// As configured now: it may have changed while it waited.
			if src, ok := s.source(w.src.ID); ok {
				s.fetch(ctx, src, byRun, s.Logger, nil, g)
			} else {
				g.release()
				s.unclaim(w.src.ID)
			}
			select {
			case done <- w.src.ID:
			case <-ctx.Done():
			}
		})
	}
	var next time.Time
	ended, scan := "", true
	for {
		now := s.now()
		switch {
		case scan || (ended != "" && !s.known.valid()):
			var due []waiting
			var err error
			if due, next, err = s.dueSources(now, inflight); err != nil {
				s.Logger.Error("fetching paused: the store cannot be read", "error", err, "retry_in", storeRetry)
				next = now.Add(storeRetry)
			}
			s.enqueue(&q, due, inflight)
		case ended != "":
			// Only the source whose fetch ended changed: what is due
			// otherwise changes with time, which next is for, or with the
			// sources, or a pass handed to serve ending (wake).
			due, at := s.dueAgain(ended, now)
			s.enqueue(&q, due, inflight)
			if !at.IsZero() {
				next = minTime(next, at)
			}
		}
		var freed <-chan struct{}
		if ctx.Err() == nil {
			freed = q.dispatch(s, start)
		}
		var ok bool
		if ok, ended, scan = s.sleep(ctx, next.Sub(now), done, inflight, freed); !ok {
			for _, w := range q.drain() {
				s.unclaim(w.src.ID)
			}
			return nil
		}
	}
}

// enqueue claims the sources due and queues them as inflight; one already
// claimed is left to the pass handed to serve that just took it.
func (s *Scheduler) enqueue(q *queue, due []waiting, inflight map[string]bool) {
	for _, w := range due {
		if s.claim(w.src.ID) {
			inflight[w.src.ID] = true
			q.push(0, w.src, w.host)
		}
	}
}

// dueSources returns the configured sources due at now that are not being
// fetched (inflight, or by a run handed to serve, whose end wakes Run), by
// the states Run keeps (read again when they are not known), each with
// the host it is fetched from, and when the next of the others is due
// (within the hour).
func (s *Scheduler) dueSources(now time.Time, inflight map[string]bool) (due []waiting, next time.Time, err error) {
	next = now.Add(time.Hour)
	if !s.known.valid() {
		list, err := s.Store.States()
		if err != nil {
			return nil, next, fmt.Errorf("read fetch states: %w", err)
		}
		s.known.fill(list)
	}
	s.known.mu.Lock()
	defer s.known.mu.Unlock()
	for _, src := range s.configured() {
		if inflight[src.ID] || s.isBusy(src.ID) {
			continue
		}
		w, yes, at := s.dueKnown(src, now)
		switch {
		case yes:
			due = append(due, w)
		case !at.IsZero():
			next = minTime(next, at)
		}
	}
	return due, next, nil
}

// dueKnown reports whether src is due at now by the state Run keeps (s.known,
// whose lock the caller holds) and its hold, and when it is due otherwise;
// w is src with the host it is fetched from.
func (s *Scheduler) dueKnown(src newsdesk.Source, now time.Time) (w waiting, yes bool, at time.Time) {
	st, ok := s.known.m[src.ID]
	if ok {
		st.NextDue = s.pushEnded(src, st)
	}
	yes, at = Due(src, st, ok, now, false)
	if held := s.heldUntil(src.ID); yes && now.Before(held) {
		yes, at = false, held
	}
	if yes {
		w = waiting{src: src, host: hostOf(fetchURL(src, forURL(src, st)))}
	}
	return w, yes, at
}

// dueAgain is dueSources for the one source id, whose fetch by Run just
// ended: a fetch that stored nothing may leave it due (a shutdown) or held.
// at is zero when it is due or not due by time.
func (s *Scheduler) dueAgain(id string, now time.Time) (due []waiting, at time.Time) {
	src, ok := s.source(id)
	if !ok || s.isBusy(id) {
		return nil, time.Time{}
	}
	s.known.mu.Lock()
	defer s.known.mu.Unlock()
	w, yes, at := s.dueKnown(src, now)
	if yes {
		return []waiting{w}, time.Time{}
	}
	return nil, at
}

// sleep waits up to d for a fetch of Run's to end (it leaves inflight,
// and its source is ended), a change of sources (wake), a slot given back
// (freed: a queued source may start) or ctx; ok is false once ctx is
// done. scan is true when what is due may have changed for any source
// (wake, d passed).
func (s *Scheduler) sleep(ctx context.Context, d time.Duration, done <-chan string, inflight map[string]bool, freed <-chan struct{}) (ok bool, ended string, scan bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false, "", false
	case id := <-done:
		delete(inflight, id)
		return true, id, false
	case <-freed:
		return true, "", false
	case <-s.wake:
	case <-timer.C:
	}
	return true, "", true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (s *Scheduler) states() (map[string]newsdesk.FetchState, error) {
	list, err := s.Store.States()
	if err != nil {
		return nil, fmt.Errorf("read fetch states: %w", err)
	}
	m := make(map[string]newsdesk.FetchState, len(list))
	for _, st := range list {
		m[st.SourceID] = st
	}
	return m, nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// fetchURL is the URL a fetch of src uses: where a permanent redirect led,
// while feeds.yaml still names the URL that redirected.
func fetchURL(src newsdesk.Source, st newsdesk.FetchState) string {
	if st.URL == src.URL && st.MovedTo != "" {
		return st.MovedTo
	}
	return src.URL
}

// KindBusy is the Outcome.Kind of a source that another pass was fetching,
// or had just fetched: this pass left it alone.
const KindBusy = "busy"

// claim marks a source as being fetched; false when it is already.
func (s *Scheduler) claim(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[id] {
		return false
	}
	if s.busy == nil {
		s.busy = map[string]bool{}
	}
	s.busy[id] = true
	return true
}

func (s *Scheduler) unclaim(id string) {
	s.mu.Lock()
	delete(s.busy, id)
	wake := s.wake
	s.mu.Unlock()
	if wake != nil { // Run may have skipped it while it was busy
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

func (s *Scheduler) isBusy(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[id]
}

// hold keeps a source from being fetched for a while after its result
// could not be stored: its stored next-due time is stale and would make it
// due again at once. The wait backs off with consecutive storing failures.
func (s *Scheduler) hold(src newsdesk.Source, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held, s.saveFails = map[string]time.Time{}, map[string]int{}
	}
	s.saveFails[src.ID]++
	t := nextDue(src, newsdesk.FetchState{Result: newsdesk.ResultError, Failures: s.saveFails[src.ID]}, false, now)
	s.held[src.ID] = t
	return t
}

// stored clears a hold once a source's result was stored.
func (s *Scheduler) stored(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, id)
	delete(s.saveFails, id)
}

func (s *Scheduler) heldUntil(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[id]
}

func (s *Scheduler) isHeld(id string, now time.Time) bool { return now.Before(s.heldUntil(id)) }

// fetch fetches one source, claimed by the caller and started by by, with
// the slots g and commits the result, then calls the scheduler's OnCommit
// and the pass's onCommit. A fetch cut short by ctx (shutdown) records
// nothing, so the source stays due. The slots and the claim are given back
// by the time it returns.
func (s *Scheduler) fetch(ctx context.Context, src newsdesk.Source, by trigger, logger *slog.Logger, onCommit func(Outcome), g *grant) (out Outcome) {
	defer s.unclaim(src.ID)
	defer g.release()
	out = Outcome{Source: src}
	// Read the state now that the source is ours: another pass may have
	// just fetched it, and its validators, failures and Retry-After count.
	prev, found, err := s.readState(src.ID)
	if err != nil {
		out.Err, out.Kind = err, kindStore
		return out
	}
	out.State = prev
	if due, _ := Due(src, prev, found, s.now(), by == byForce); !due {
		out.Kind = KindBusy // fetched by another pass meanwhile
		return out
	}
	out, _ = s.do(ctx, job{src: src, prev: prev, by: by, now: s.now, save: s.Store, log: logger.With("source", src.ID), onCommit: onCommit, slots: g})
	return out
}

// readState reads a source's stored state; found is false when it was
// never fetched. Run's copy of it is brought up to date.
func (s *Scheduler) readState(id string) (st newsdesk.FetchState, found bool, err error) {
	st, err = s.Store.State(id)
	switch {
	case err == nil:
		s.known.put(st)
		return st, true, nil
	case errors.Is(err, newsdesk.ErrNotFound):
		return st, false, nil
	}
	return st, false, err
}

// trigger is what started a fetch, which decides when it began late
// (job.late).
type trigger int

const (
	byRun   trigger = iota // Run, the daemon: when the source was due
	byPass                 // RunOnce (newsdesk run): when cron or a person said
	byForce                // RunOnce with force: due or not
)

// passBy is the trigger of a RunOnce's fetches.
func passBy(force bool) trigger {
	if force {
		return byForce
	}
	return byPass
}

// job is one fetch of a source and the commit of its result: what differs
// between a fetch of a store of its own and one under a cluster's lease.
type job struct {
	src  newsdesk.Source
	prev newsdesk.FetchState // the stored state when the fetch began
	by   trigger
	now  func() time.Time // the clock the fetch's times come from
	save saver            // where the result is committed
	// leaseUntil, when set, is when the lease the fetch is made under ends:
	// the fetch is abandoned before (deadline), and a result that cannot be
	// stored is not held back in memory: the source is due again then.
	leaseUntil time.Time
	deadline   time.Time
	log        *slog.Logger
	onCommit   func(Outcome)
	// slots, when set, are the slots taken for the fetch (queue); else do
	// waits for them.
	slots *grant
}

// saver commits a fetch's result: the store itself, or the store under a
// lease (leasedSaver).
type saver interface {
	SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error)
	SaveState(st newsdesk.FetchState) error
}

// do fetches j's source and commits the result, then calls the scheduler's
// OnCommit and the job's onCommit; committed is false when nothing was
// (cut short by ctx or j's deadline, or the store refused or failed).
func (s *Scheduler) do(ctx context.Context, j job) (out Outcome, committed bool) {
	src := j.src
	out = Outcome{Source: src, State: j.prev}
	st := forURL(src, j.prev)
	target := src
	target.URL = fetchURL(src, st)
	fctx := ctx
	if !j.leaseUntil.IsZero() { // the lease's clock, and its end
		var cancel context.CancelFunc
		fctx, cancel = context.WithDeadline(withClock(ctx, j.now), j.deadline)
		defer cancel()
	}
	g, ok := s.slotsFor(fctx, j.slots, hostOf(target.URL))
	if !ok {
		out.Err = fctx.Err()
		return out, false
	}
	defer g.releaseSlot() // at the latest; once stored, before the commit hooks
	validators := st
	validators.URL = target.URL // the validators came from the URL fetched
	late := j.late(st, j.now())
	resp, err := s.fetchSafely(withOwnURL(fctx, src.URL), target, validators) // the credentials belong to src.URL's origin
	g.releaseHost()
	if err != nil && ctx.Err() != nil {
		out.Err = ctx.Err()
		return out, false
	}
	before := started(src.ID, st, j.now()) // what is recorded if the fetched items cannot be stored
	applied := src
	if err == nil {
		applied = s.afterPush(src) // a failure backs off from the source's own interval
	}
	st, items, kind := applyResult(applied, before, late, resp, err)
	st.SafetyNet = err == nil && s.pushing(src.ID)
	g.park() // the next fetch may start while this one waits for the store
	out.Kind, out.Err = kind, err
	if err == nil {
		out.Bytes = resp.Bytes
		if st.MovedTo != before.MovedTo {
			j.log.Warn("source moved permanently: update its url in feeds.yaml", "url", newsdesk.RedactURL(src.URL), "moved_to", newsdesk.RedactURL(st.MovedTo))
		}
	}
	stored := s.commit(&out, j, before, st, items)
	g.releaseSlot()
	if !stored {
		return out, false
	}
	if out.Kind != kindStore { // a storing failure was logged where it happened
		logFetch(j.log, src, out.State, err, target.URL)
	}
	if src.FullText.Enabled { // before the hooks: a story is first rendered with its article
		out.Articles = s.articlePass(fctx, src, out.State, j.now, j.log)
	}
	if s.OnCommit != nil {
		s.OnCommit(out)
	}
	if j.onCommit != nil {
		j.onCommit(out)
	}
	return out, true
}

// late reports whether j's fetch, from state st (its NextDue is the due
// time it is fetched for), beginning at began, began off its source's
// schedule (late). Run's fetches are on time up to lateSlack after their
// due time. A pass's are on time whenever they begin, unless it is the
// source's first fetch or forced before its due time: a pass runs when
// cron says, up to a cron period after the due time, and its fetches wait
// their turn; were that late, each fetch by cron would place the next one
// an interval further (phased), and a source would be fetched every other
// time it could be.
func (j job) late(st newsdesk.FetchState, began time.Time) bool {
	slack := lateSlack(Interval(j.src, st.Hints))
	if j.by != byRun {
		slack = math.MaxInt64
	}
	return late(st.NextDue, began, slack)
}

// slotsFor returns the slots g taken for a fetch from host, or waits for
// them when there are none, or g's host is no longer the one fetched (the
// source's stored state moved it while it waited in the queue).
func (s *Scheduler) slotsFor(ctx context.Context, g *grant, host string) (*grant, bool) {
	if g != nil && g.host == host {
		return g, true
	}
	if g != nil {
		g.release()
	}
	return s.acquire(ctx, host)
}

// hostOf is the host of rawURL, or rawURL when it has none.
func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Host
	}
	return rawURL
}

// commit stores the state st a fetch left, with the items of a 200, and
// records in out what was stored. When the items cannot be stored, the
// failure is recorded from before instead (storeFailed); when nothing can
// be stored, the source is held back in memory (unless a lease ends it)
// and commit returns false: nothing was committed. A lease lost drops the
// result (leaseLost).
func (s *Scheduler) commit(out *Outcome, j job, before, st newsdesk.FetchState, items []newsdesk.Item) bool {
	src, log := j.src, j.log
	var saveErr error
	if st.Result == newsdesk.ResultOK {
		var saved newsdesk.FetchState
		if saved, saveErr = j.save.SaveFetch(st, items, src.Retention); saveErr == nil {
			st = saved
		} else if failed := storeFailed(src, before, saveErr); !errors.Is(saveErr, store.ErrLeaseLost) && j.save.SaveState(failed) == nil {
			// The items are lost for now, but the failure is on record like
			// any other, with its backoff, in a small transaction of its
			// own: the next run, even another process, waits for it.
			log.Error("could not store the fetched items", "error", saveErr, "failures", failed.Failures, "next_due", failed.NextDue.Format(time.RFC3339))
			s.stored(src.ID)
			s.known.put(failed)
			out.State, out.Kind = failed, kindStore
			out.Err = errors.Join(out.Err, saveErr)
			return true
		}
	} else {
		saveErr = j.save.SaveState(st)
	}
	switch {
	case errors.Is(saveErr, store.ErrLeaseLost):
		leaseLost(out, log, saveErr)
		return false
	case saveErr != nil && !j.leaseUntil.IsZero():
		log.Error("could not store fetch: the source is due again when its lease ends", "error", saveErr, "lease_until", j.leaseUntil.Format(time.RFC3339))
		out.Err = errors.Join(out.Err, saveErr)
		return false
	case saveErr != nil:
		// Without a stored next-due time the source would look due at once:
		// hold it back in memory, with the backoff of a failure.
		next := s.hold(src, st.LastFetch)
		s.known.invalidate() // read them all again: the store may have changed under us
		log.Error("could not store fetch", "error", saveErr, "next_try", next.Format(time.RFC3339))
		out.Err = errors.Join(out.Err, saveErr)
		return false
	}
	s.stored(src.ID)
	s.known.put(st)
	out.State = st
	return true
}

// logFetch logs a committed fetch of src that left the state st: fetched,
// failed or gone, and the items it could not store.
func logFetch(log *slog.Logger, src newsdesk.Source, st newsdesk.FetchState, err error, fetchedURL string) {
	if st.Capped > 0 {
		log.Warn("feed has more items than max_items_per_fetch: the oldest were not stored", "capped", st.Capped, "max_items_per_fetch", src.MaxItemsPerFetch)
	}
	if st.Skipped > 0 {
		log.Warn("items could not be stored; the others were", "skipped", st.Skipped, "reason", st.SkipReason)
	}
	switch {
	case st.Gone:
		log.Error("source is gone (HTTP 410): it will not be fetched again until its url in feeds.yaml changes", "url", newsdesk.RedactURL(fetchedURL))
	case st.Result == newsdesk.ResultError:
		log.Warn("fetch failed", "error", st.Error, "kind", ErrorKind(err), "failures", st.Failures, "next_due", st.NextDue.Format(time.RFC3339))
	default:
		log.Info("fetched", "result", st.Summary(), "next_due", st.NextDue.Format(time.RFC3339))
	}
}

// kindStore is the Outcome.Kind, and the history's error kind, of a fetch
// whose items could not be stored.
const kindStore = "store"

// fetchSafely turns a panic anywhere in fetching one source into that
// source's error, so one hostile feed cannot take the daemon down.
func (s *Scheduler) fetchSafely(ctx context.Context, src newsdesk.Source, prev newsdesk.FetchState) (resp *Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Logger.Error("panic while fetching", "source", src.ID, "panic", r, "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("internal error while fetching: %v", r)
		}
	}()
	return s.Client.Fetch(ctx, src, prev)
}
