package fetcher

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// Fetching under leases, when several newsdesk instances share a store
// (Scheduler.Cluster): the store decides which instance fetches a source
// and when (store.Cluster.Lease, by the due times this package computes
// with its pure policy), and a fetch's result is committed only while its
// lease is the source's latest. Times come from the database's clock: a
// lease's Now plus the time elapsed since it was taken, measured by this
// machine's monotonic clock.

// KindLeaseLost is the Outcome.Kind of a fetch whose result the store
// refused: its lease was no longer the source's latest (this instance was
// paused past it, and another has fetched the source since), so the
// result was dropped.
const KindLeaseLost = "lease_lost"

// kindNotDue is the Outcome.Kind of a leased source that the policy says is
// not due (gone, or held back by a Retry-After): its due time was stored
// and nothing fetched. It is no outcome of a pass.
const kindNotDue = "not_due"

const (
	// defaultLease is Scheduler.Lease when unset.
	defaultLease = 5 * time.Minute
	// leaseStoreMargin is how long before its lease ends a fetch is
	// abandoned at the latest, leaving the time to store what it brought.
	leaseStoreMargin = 5 * time.Second
	// leasePoll is the longest Run waits before asking for leases again,
	// so that due times other instances change are seen; leaseWaitMin the
	// shortest, when a due source waits for a host slot another holds or
	// for a row another instance's lease is taking.
	leasePoll    = 30 * time.Second
	leaseWaitMin = 500 * time.Millisecond
	// pauseMin and pauseMax bound the wait, doubling, after a store error.
	pauseMin = time.Second
	pauseMax = time.Minute
	// releaseTimeout bounds giving a lease back (shutdown).
	releaseTimeout = 5 * time.Second
)

// never is the due time of a source that is never due (gone).
var never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func (s *Scheduler) leaseFor() time.Duration { return cmp.Or(max(s.Lease, 0), defaultLease) }

func (s *Scheduler) perHost() int { return cmp.Or(max(s.PerHost, 0), newsdesk.DefaultPerHost) }

func (s *Scheduler) concurrency() int {
	return cmp.Or(max(s.Concurrency, 0), newsdesk.DefaultConcurrency)
}

// runLeased is Run with a Cluster: it records this instance's sources and
// their due times (at start and on every SetSources), then leases what is
// due, as many as it has fetches free, fetches each on its own and sleeps
// until a fetch ends, the sources change, or the next is due (leasePoll at
// most). A store error pauses it, with backoff, until the store answers.
func (s *Scheduler) runLeased(ctx context.Context) error {
	done := make(chan string)
	inflight := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	var p pause
	for {
		wait, err := s.leaseRound(ctx, inflight, func(src newsdesk.Source, l store.Lease, taken time.Time) {
			wg.Go(func() {
				s.fetchLeased(ctx, src, l, taken, byRun, s.Logger, nil)
				select {
				case done <- src.ID:
				case <-ctx.Done():
				}
			})
		})
		switch {
		case ctx.Err() != nil:
			return nil // the error, if any, is the shutdown's
		case err != nil:
			wait = p.failed(s.Logger, err)
		default:
			p.ended(s.Logger)
		}
		if ok, _, _ := s.sleep(ctx, wait, done, inflight, nil); !ok {
			return nil
		}
	}
}

// leaseRound syncs the sources when they changed, leases as many due
// sources as there are fetches free, marks them in flight and starts each
// with start, and returns how long to wait before the next round.
func (s *Scheduler) leaseRound(ctx context.Context, inflight map[string]bool, start func(newsdesk.Source, store.Lease, time.Time)) (time.Duration, error) {
	if err := s.syncIfChanged(ctx); err != nil {
		return 0, err
	}
	free := s.concurrency() - len(inflight)
	if free <= 0 {
		return leasePoll, nil // a fetch's end wakes us
	}
	batch, err := s.Cluster.Lease(ctx, store.LeaseRequest{Instance: s.Instance, Max: free, PerHost: s.perHost(), For: s.leaseFor()})
	taken := time.Now()
	if err != nil {
		return 0, fmt.Errorf("lease sources: %w", err)
	}
	for _, l := range batch.Leases {
		src, ok := s.source(l.SourceID)
		if !ok || inflight[l.SourceID] { // removed by a reload meanwhile
			s.release(l)
			continue
		}
		inflight[src.ID] = true
		start(src, l, taken)
	}
	if len(batch.Leases) == free {
		return leasePoll, nil
	}
	return waitFor(batch), nil
}

// waitFor is how long to wait, after a batch that did not fill the fetches
// free, before asking for leases again: until its Next, within
// [leaseWaitMin, leasePoll].
func waitFor(b store.LeaseBatch) time.Duration {
	if b.Next.IsZero() {
		return leasePoll
	}
	return min(max(b.Next.Sub(b.Now), leaseWaitMin), leasePoll)
}

// syncIfChanged records this instance's sources in the cluster unless it
// has since the last SetSources.
func (s *Scheduler) syncIfChanged(ctx context.Context) error {
	s.mu.Lock()
	synced, gen, sources := s.synced, s.gen, s.sources
	s.mu.Unlock()
	if synced {
		return nil
	}
	if _, _, err := s.syncSources(ctx, sources); err != nil {
		return err
	}
	s.mu.Lock()
	s.synced = s.gen == gen // else SetSources came meanwhile: sync again
	s.mu.Unlock()
	return nil
}

// syncSources records sources as this instance's in the cluster, each with
// the host its fetches go to and when it is due by the policy (Due), from
// one read of every state, and returns the states read and the database's
// clock they were judged by.
func (s *Scheduler) syncSources(ctx context.Context, sources []newsdesk.Source) (map[string]newsdesk.FetchState, time.Time, error) {
	states, err := s.states()
	if err != nil {
		return nil, time.Time{}, err
	}
	now, err := s.Cluster.Clock(ctx)
	if err != nil {
		return nil, now, fmt.Errorf("read the database's clock: %w", err)
	}
	dues := make([]store.SourceDue, len(sources))
	for i, src := range sources {
		st, ok := states[src.ID]
		// Due now is stored as the database's now, not left zero: the
		// stored due time of a source whose url changed is no longer its.
		due, at := Due(src, st, ok, now, false)
		if !due {
			at = cmp.Or(at, never)
		}
		dues[i] = store.SourceDue{ID: src.ID, Host: hostOf(fetchURL(src, forURL(src, st))), Due: at}
	}
	if err := s.Cluster.SyncSources(ctx, s.Instance, dues); err != nil {
		return nil, now, fmt.Errorf("record this instance's sources: %w", err)
	}
	return states, now, nil
}

// fetchLeased fetches src, started by by, under lease l, taken at taken (this machine's
// monotonic clock), and commits the result under it. A source the policy
// says is not due after all (gone, a Retry-After: the lease only knows due
// times) gets its due time stored and is not fetched (kindNotDue). A fetch
// that commits nothing, unless its lease was lost, gives the lease back,
// so that the source is due again at once.
func (s *Scheduler) fetchLeased(ctx context.Context, src newsdesk.Source, l store.Lease, taken time.Time, by trigger, logger *slog.Logger, onCommit func(Outcome)) Outcome {
	out := Outcome{Source: src}
	if !s.claim(src.ID) {
		s.release(l)
		out.Kind = KindBusy
		return out
	}
	defer s.unclaim(src.ID)
	log := logger.With("source", src.ID)
	prev, found, err := s.readState(src.ID)
	if err != nil {
		s.release(l)
		out.Err, out.Kind = err, kindStore
		return out
	}
	out.State = prev
	now := func() time.Time { return l.Now.Add(time.Since(taken)).UTC() }
	if due, at := Due(src, prev, found, now(), by == byForce); !due {
		st := prev
		st.NextDue = cmp.Or(at, never)
		if prev.NextDue.After(st.NextDue) {
			st.NextDue = prev.NextDue
		}
		if err := s.Cluster.SaveStateLeased(l, st); err != nil {
			log.Warn("could not store when the source is due", "error", err)
		}
		out.Kind = kindNotDue
		return out
	}
	budget := l.Until.Sub(l.Now)
	j := job{src: src, prev: prev, by: by, now: now, save: leasedSaver{s.Cluster, l}, log: log, onCommit: onCommit,
		leaseUntil: l.Until, deadline: taken.Add(budget - min(leaseStoreMargin, budget/5))}
	out, committed := s.do(ctx, j)
	if !committed && out.Kind != KindLeaseLost {
		s.release(l)
	}
	return out
}

// leasedSaver commits a fetch's result under its lease.
type leasedSaver struct {
	c store.Cluster
	l store.Lease
}

func (ls leasedSaver) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	return ls.c.SaveFetchLeased(ls.l, st, items, keep)
}

func (ls leasedSaver) SaveState(st newsdesk.FetchState) error { return ls.c.SaveStateLeased(ls.l, st) }

// leaseLost records in out, and logs, a result the store refused because
// its lease was lost: nothing of it is kept.
func leaseLost(out *Outcome, log *slog.Logger, err error) {
	out.Kind = KindLeaseLost
	out.Err = err
	log.Warn("late write rejected: another instance has fetched this source since; its result is dropped", "error", err)
}

// release gives lease l back, so that its source is due again at once; a
// lease already lost is no error. It does not wait for a shutdown's ctx.
func (s *Scheduler) release(l store.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := s.Cluster.Release(ctx, l); err != nil {
		s.Logger.Warn("could not give a lease back: the source is due again when it ends", "source", l.SourceID, "error", err, "lease_until", l.Until.Format(time.RFC3339))
	}
}

// pause is the state of fetching paused by store errors: logged once when
// it begins and once when it ends, with a wait that doubles between.
type pause struct {
	since time.Time
	wait  time.Duration
}

// failed records a store error and returns how long to wait.
func (p *pause) failed(log *slog.Logger, err error) time.Duration {
	if p.wait == 0 {
		p.since, p.wait = time.Now(), pauseMin
		log.Error("fetching paused: the database does not answer", "error", err, "retry_in", p.wait)
		return p.wait
	}
	p.wait = min(2*p.wait, pauseMax)
	log.Debug("fetching still paused: the database does not answer", "error", err, "retry_in", p.wait)
	return p.wait
}

// ended records that the store answered.
func (p *pause) ended(log *slog.Logger) {
	if p.wait != 0 {
		log.Info("fetching resumed: the database answers again", "paused_for", time.Since(p.since).Round(time.Second))
		*p = pause{}
	}
}
