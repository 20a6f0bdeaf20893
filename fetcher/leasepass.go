package fetcher

import (
	"context"
	"log/slog"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store"
)

// runOnceLeased is RunOnce with a Cluster (`newsdesk run` on a shared
// store): it records the sources as this instance's, then leases, among
// those due (every one with force), as many as it has fetches free, again
// as fetches end, until none it has not fetched can be leased. One it
// could not lease because another instance holds it is KindBusy.
func (s *Scheduler) runOnceLeased(ctx context.Context, sources []newsdesk.Source, force bool, log *slog.Logger, onCommit func(Outcome)) ([]Outcome, error) {
	states, now, err := s.syncSources(ctx, sources)
	if err != nil {
		return nil, err
	}
	var due []newsdesk.Source
	for _, src := range sources {
		st, ok := states[src.ID]
		if yes, _ := Due(src, st, ok, now, force); yes {
			due = append(due, src)
		}
	}
	p := &leasePass{s: s, force: force, log: log, onCommit: onCommit, due: due, out: make([]Outcome, len(due)), done: make(chan leased)}
	err = p.run(ctx)
	var out []Outcome
	for i, o := range p.out {
		switch {
		case o.Source.ID == "": // never leased: another instance had it
			out = append(out, Outcome{Source: due[i], State: states[due[i].ID], Kind: KindBusy})
		case o.Kind != kindNotDue:
			out = append(out, o)
		}
	}
	return out, err
}

// leasePass is the state of one runOnceLeased.
type leasePass struct {
	s        *Scheduler
	force    bool
	log      *slog.Logger
	onCommit func(Outcome)
	due      []newsdesk.Source
	out      []Outcome // by index in due; a zero one was not leased
	leased   []bool    // by index in due
	index    map[string]int
	inflight int
	done     chan leased
}

// leased is the outcome of the fetch of due[i].
type leased struct {
	i   int
	out Outcome
}

// run leases and fetches until nothing more can be leased and no fetch is
// in flight, or ctx is done and the fetches in flight ended. A store error
// stops the leasing; the fetches in flight still end.
func (p *leasePass) run(ctx context.Context) error {
	p.leased = make([]bool, len(p.due))
	p.index = make(map[string]int, len(p.due))
	for i, src := range p.due {
		p.index[src.ID] = i
	}
	var leaseErr error
	for {
		wait := leasePoll
		if ctx.Err() == nil && leaseErr == nil {
			n, w, err := p.lease(ctx)
			leaseErr, wait = err, w
			if n == 0 && p.inflight == 0 {
				return leaseErr
			}
		}
		if p.inflight == 0 {
			return leaseErr
		}
		timer := time.NewTimer(wait)
		select {
		case r := <-p.done:
			p.out[r.i] = r.out
			p.inflight--
		case <-timer.C:
		}
		timer.Stop()
	}
}

// lease leases up to the fetches free among the sources not leased yet,
// starts their fetches, and returns how many it leased and how long to
// wait before asking again.
func (p *leasePass) lease(ctx context.Context) (int, time.Duration, error) {
	free := p.s.concurrency() - p.inflight
	var ids []string
	for i, src := range p.due {
		if !p.leased[i] {
			ids = append(ids, src.ID)
		}
	}
	if free <= 0 || len(ids) == 0 {
		return 0, leasePoll, nil
	}
	s := p.s
	batch, err := s.Cluster.Lease(ctx, store.LeaseRequest{Instance: s.Instance, Max: free, PerHost: s.perHost(), For: s.leaseFor(), Sources: ids, Force: p.force})
	taken := time.Now()
	if err != nil {
		return 0, 0, err
	}
	for _, l := range batch.Leases {
		i, ok := p.index[l.SourceID]
		if !ok || p.leased[i] {
			s.release(l)
			continue
		}
		p.leased[i] = true
		p.inflight++
		go func() {
			p.done <- leased{i, s.fetchLeased(ctx, p.due[i], l, taken, passBy(p.force), p.log, p.onCommit)}
		}()
	}
	return len(batch.Leases), waitFor(batch), nil
}
