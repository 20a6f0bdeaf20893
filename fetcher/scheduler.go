package fetcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
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
// functions of the stored state and the clock (Due, NextDue); Run and
// RunOnce are thin loops around them.
type Scheduler struct {
	Client      *Client
	Store       Store
	Logger      *slog.Logger
	Now         func() time.Time
	Concurrency int // fetches in flight at once; 0 means newsdesk.DefaultConcurrency
	PerHost     int // fetches in flight to one host at once; 0 means newsdesk.DefaultPerHost
	// OnCommit, when set, is called after a source's results are committed,
	// from the goroutine that fetched it.
	OnCommit func(Outcome)

	mu        sync.Mutex
	sources   []newsdesk.Source
	sem       chan struct{}
	hosts     map[string]chan struct{}
	wake      chan struct{}
	busy      map[string]bool      // sources being fetched now, by Run or RunOnce
	held      map[string]time.Time // not before, for sources whose result could not be stored
	saveFails map[string]int       // consecutive failures to store a source's result
}

// StoreRetry is how long Run waits to read a store that could not be read
// again.
const StoreRetry = time.Minute

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
	s.sources = sources
	wake := s.wake
	s.mu.Unlock()
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// Sources returns the configured sources.
func (s *Scheduler) Sources() []newsdesk.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources
}

// Outcome is the result of fetching one source in a pass.
type Outcome struct {
	Source newsdesk.Source
	State  newsdesk.FetchState // as committed
	Err    error               // the fetch error, also recorded in State
	Kind   string              // "ok", "not_modified" or the error kind (ErrorKind)
	Bytes  int64               // body bytes received
}

// RunOnce fetches, concurrently, every source that is due now (every one
// when force is set) and commits each as it finishes. It returns when all
// have finished or ctx is done. An error is returned only when the store
// cannot be read; a source's failure is in its Outcome.
func (s *Scheduler) RunOnce(ctx context.Context, sources []newsdesk.Source, force bool) ([]Outcome, error) {
	return s.RunOnceLogged(ctx, sources, force, s.Logger)
}

// RunOnceLogged is RunOnce logging the pass's fetches to log instead of the
// scheduler's logger: a `run` handed to `newsdesk serve` reports to the
// command's caller, as a run of its own would.
func (s *Scheduler) RunOnceLogged(ctx context.Context, sources []newsdesk.Source, force bool, log *slog.Logger) ([]Outcome, error) {
	states, err := s.states()
	if err != nil {
		return nil, err
	}
	now := s.now()
	var due []newsdesk.Source
	for _, src := range sources {
		st, ok := states[src.ID]
		if yes, _ := Due(src, st, ok, now, force); yes && (force || !s.isHeld(src.ID, now)) {
			due = append(due, src)
		}
	}
	out := make([]Outcome, len(due))
	var wg sync.WaitGroup
	for i, src := range due {
		wg.Go(func() { out[i] = s.fetch(ctx, src, force, log) })
	}
	wg.Wait()
	return out, nil
}

// Run fetches each source whenever it is due until ctx is done, then waits
// for fetches in flight to commit. A slow or failing source never holds up
// another: each fetch runs on its own and the loop wakes for the next due
// time, a finished fetch, or a change of sources. A store that cannot be
// read does not end it: serve goes on serving the feeds it rendered last
// (the health table), so Run logs why, fetches nothing, and reads the
// store again after StoreRetry or a change of sources.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	s.wake = make(chan struct{}, 1)
	s.mu.Unlock()
	done := make(chan string)
	inflight := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		now := s.now()
		next := now.Add(time.Hour)
		states, err := s.states()
		if err != nil {
			s.Logger.Error("fetching paused: the store cannot be read", "error", err, "retry_in", StoreRetry)
			next = now.Add(StoreRetry)
		}
		for _, src := range s.Sources() {
			if err != nil {
				break
			}
			if inflight[src.ID] || s.isBusy(src.ID) {
				continue // being fetched (by a run handed to serve): its end wakes us
			}
			st, ok := states[src.ID]
			due, at := Due(src, st, ok, now, false)
			if held := s.heldUntil(src.ID); due && now.Before(held) {
				due, at = false, held
			}
			if !due {
				if !at.IsZero() {
					next = minTime(next, at)
				}
				continue
			}
			inflight[src.ID] = true
			wg.Go(func() {
				s.fetch(ctx, src, false, s.Logger)
				select {
				case done <- src.ID:
				case <-ctx.Done():
				}
			})
		}
		timer := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case id := <-done:
			delete(inflight, id)
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
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

// acquire takes a slot for host, then a global one, so a source waiting
// for its busy host never holds a slot another host could use. The returned
// function gives both back.
func (s *Scheduler) acquire(ctx context.Context, host string) (release func(), ok bool) {
	s.mu.Lock()
	if s.sem == nil {
		s.sem = make(chan struct{}, cmp.Or(max(s.Concurrency, 0), newsdesk.DefaultConcurrency))
		s.hosts = map[string]chan struct{}{}
	}
	hs := s.hosts[host]
	if hs == nil {
		hs = make(chan struct{}, cmp.Or(max(s.PerHost, 0), newsdesk.DefaultPerHost))
		s.hosts[host] = hs
	}
	sem := s.sem
	s.mu.Unlock()
	select {
	case hs <- struct{}{}:
	case <-ctx.Done():
		return nil, false
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		<-hs
		return nil, false
	}
	return func() { <-sem; <-hs }, true
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
	t := NextDue(src, newsdesk.FetchState{Result: newsdesk.ResultError, Failures: s.saveFails[src.ID]}, now)
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

// fetch fetches one source and commits the result. A fetch cut short by ctx
// (shutdown) records nothing, so the source stays due.
func (s *Scheduler) fetch(ctx context.Context, src newsdesk.Source, force bool, logger *slog.Logger) (out Outcome) {
	out = Outcome{Source: src}
	if !s.claim(src.ID) {
		out.Kind = KindBusy
		return out
	}
	defer s.unclaim(src.ID)
	// Read the state now that the source is ours: another pass may have
	// just fetched it, and its validators, failures and Retry-After count.
	prev, err := s.Store.State(src.ID)
	found := err == nil
	if err != nil && !errors.Is(err, newsdesk.ErrNotFound) {
		out.Err = err
		out.Kind = kindStore
		return out
	}
	out.State = prev
	if due, _ := Due(src, prev, found, s.now(), force); !due {
		out.Kind = KindBusy // fetched by another pass meanwhile
		return out
	}
	log := logger.With("source", src.ID)
	st := prev
	if st.URL != src.URL {
		// A new URL in feeds.yaml: what was learnt about the old one
		// (validators, a 410, a move, a Retry-After) no longer applies.
		st = newsdesk.FetchState{SourceID: src.ID, URL: src.URL, FeedTitle: prev.FeedTitle, FeedLink: prev.FeedLink, LastSuccess: prev.LastSuccess}
	}
	target := src
	target.URL = fetchURL(src, st)
	host := target.URL
	if u, err := url.Parse(target.URL); err == nil {
		host = u.Host
	}
	release, ok := s.acquire(ctx, host)
	if !ok {
		out.Err = ctx.Err()
		return out
	}
	validators := st
	validators.URL = target.URL // the validators came from the URL fetched
	resp, err := s.fetchSafely(ctx, target, validators)
	release()
	if err != nil && ctx.Err() != nil {
		out.Err = ctx.Err()
		return out
	}
	st.SourceID = src.ID
	st.LastFetch = s.now()
	st.New, st.Updated, st.Error = 0, 0, ""
	before := st // what is recorded if the fetched items cannot be stored
	var items []newsdesk.Item
	switch {
	case err != nil:
		st.Result = newsdesk.ResultError
		st.Error = err.Error()
		st.Failures++
		st = afterFailure(st, err, st.LastFetch)
		out.Err = err
	default:
		st.Result = resp.Result
		st.Failures = 0
		st.RetryAfter = time.Time{}
		st.LastSuccess = st.LastFetch
		st.CacheUntil = resp.CacheUntil
		if resp.ETag != "" || resp.Result == newsdesk.ResultOK {
			st.ETag = resp.ETag
		}
		if resp.LastModified != "" || resp.Result == newsdesk.ResultOK {
			st.LastModified = resp.LastModified
		}
		if resp.Result == newsdesk.ResultOK {
			st.FeedTitle, st.FeedLink, st.Hints = resp.FeedTitle, resp.FeedLink, resp.Hints
			st.FeedID, st.FeedUpdated, st.FeedAuthors = resp.FeedID, resp.FeedUpdated, resp.FeedAuthors
			st.Capped = resp.Capped
			items = resp.Items
		}
		if resp.MovedTo != "" && resp.MovedTo != st.MovedTo {
			st.MovedTo = resp.MovedTo
			log.Warn("source moved permanently: update its url in feeds.yaml", "url", src.URL, "moved_to", resp.MovedTo)
		}
	}
	st.NextDue = NextDue(src, st, st.LastFetch)
	out.Kind = string(st.Result)
	if err != nil {
		out.Kind = ErrorKind(err)
	} else {
		out.Bytes = resp.Bytes
	}
	st.Record(newsdesk.Attempt{At: st.LastFetch, Result: st.Result, Kind: map[bool]string{true: out.Kind}[err != nil]})
	var saveErr error
	if st.Result == newsdesk.ResultOK {
		var saved newsdesk.FetchState
		if saved, saveErr = s.Store.SaveFetch(st, items, src.Retention); saveErr == nil {
			st = saved
		} else if failed := storeFailed(src, before, saveErr); s.Store.SaveState(failed) == nil {
			// The items are lost for now, but the failure is on record like
			// any other, with its backoff, in a small transaction of its
			// own: the next run, even another process, waits for it.
			log.Error("could not store the fetched items", "error", saveErr, "failures", failed.Failures, "next_due", failed.NextDue.Format(time.RFC3339))
			s.stored(src.ID)
			out.State, out.Kind = failed, kindStore
			out.Err = errors.Join(out.Err, saveErr)
			if s.OnCommit != nil {
				s.OnCommit(out)
			}
			return out
		}
	} else {
		saveErr = s.Store.SaveState(st)
	}
	if saveErr != nil {
		// Without a stored next-due time the source would look due at once:
		// hold it back in memory, with the backoff of a failure.
		next := s.hold(src, st.LastFetch)
		log.Error("could not store fetch", "error", saveErr, "next_try", next.Format(time.RFC3339))
		out.Err = errors.Join(out.Err, saveErr)
		return out
	}
	s.stored(src.ID)
	out.State = st
	if st.Capped > 0 {
		log.Warn("feed has more items than max_items_per_fetch: the oldest were not stored", "capped", st.Capped, "max_items_per_fetch", src.MaxItemsPerFetch)
	}
	if st.Skipped > 0 {
		log.Warn("items could not be stored; the others were", "skipped", st.Skipped, "reason", st.SkipReason)
	}
	switch {
	case st.Gone:
		log.Error("source is gone (HTTP 410): it will not be fetched again until its url in feeds.yaml changes", "url", target.URL)
	case st.Result == newsdesk.ResultError:
		log.Warn("fetch failed", "error", st.Error, "kind", ErrorKind(err), "failures", st.Failures, "next_due", st.NextDue.Format(time.RFC3339))
	default:
		log.Info("fetched", "result", st.Summary(), "next_due", st.NextDue.Format(time.RFC3339))
	}
	if s.OnCommit != nil {
		s.OnCommit(out)
	}
	return out
}

// kindStore is the Outcome.Kind, and the history's error kind, of a fetch
// whose items could not be stored.
const kindStore = "store"

// storeFailed is the state that records a fetch whose items could not be
// stored, made from the state before the response was applied (before):
// the validators stay those of the items that are stored, so the next
// fetch gets the feed again rather than a 304; the failure counts and
// backs off like any other.
func storeFailed(src newsdesk.Source, before newsdesk.FetchState, err error) newsdesk.FetchState {
	st := before
	st.History = slices.Clone(before.History)
	st.Result = newsdesk.ResultError
	st.Error = "could not store the fetched items: " + err.Error()
	st.Failures++
	st.NextDue = NextDue(src, st, st.LastFetch)
	st.Record(newsdesk.Attempt{At: st.LastFetch, Result: st.Result, Kind: kindStore})
	return st
}

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
