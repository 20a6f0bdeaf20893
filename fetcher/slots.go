package fetcher

import (
	"context"
	"sync"
)

// slots counts the scheduler's fetches in flight, in all and to each host,
// under Scheduler.mu: every pass and Run take from the same counts, so
// fetch.concurrency and fetch.per_host hold across a `run` handed to serve
// and serve's own fetching. A host's count is dropped when it reaches
// zero, so the table does not grow with the hosts ever fetched.
type slots struct {
	inUse int
	// parked counts fetches that gave their global slot back while their
	// parsed feed waits for the store (grant.park): at most
	// fetch.concurrency of them.
	parked int
	hosts  map[string]int
	// freed is closed, and replaced, whenever a slot is given back: what
	// waits for a slot waits for it.
	freed chan struct{}
}

// grant is a fetch's slot for its host and its global slot. The host's is
// given back when the request is done (releaseHost: per_host is about
// requests in flight), the global one when the result is stored
// (releaseSlot). A parsed feed waiting for the store's single writer may
// trade its global slot for one of fetch.concurrency parking places
// (park), so the next fetches download and parse while a commit is being
// written; when every place is taken it keeps its slot. So no more than
// 2 x fetch.concurrency feeds' items are ever held in memory, however many
// sources a pass has. Each is given back once, whichever is called again.
type grant struct {
	s                  *Scheduler
	host               string
	hostDone, slotDone sync.Once
	parked             bool // under s.mu: holds a parking place, not a slot
}

func (g *grant) releaseHost() { g.hostDone.Do(func() { g.s.giveBack(g.host, false) }) }
func (g *grant) releaseSlot() { g.slotDone.Do(func() { g.s.giveBackSlot(g) }) }

// park trades g's global slot for a parking place when one is free, and
// wakes what waits for a slot; g then holds the place until releaseSlot.
// Issue 12: a fetch that kept its slot while its save waited for another
// commit left the network and the parser idle for the length of a commit.
func (g *grant) park() {
	s := g.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := &s.slots
	if g.parked || sl.parked >= s.concurrency() {
		return
	}
	g.parked = true
	sl.parked++
	sl.inUse--
	sl.wake()
}

// release gives back what is still held.
func (g *grant) release() {
	g.releaseHost()
	g.releaseSlot()
}

// tryAcquire takes a slot for host and a global one, both or neither, so
// that a source waiting for its busy host never holds a slot another host
// could use. When it cannot, it returns nil, whether it was host that was
// full (rather than every global slot taken), and a channel that is closed
// when a slot is next given back.
func (s *Scheduler) tryAcquire(host string) (g *grant, hostFull bool, freed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := &s.slots
	if sl.freed == nil {
		sl.freed = make(chan struct{})
		sl.hosts = map[string]int{}
	}
	switch {
	case sl.hosts[host] >= s.perHost():
		return nil, true, sl.freed
	case sl.inUse >= s.concurrency():
		return nil, false, sl.freed
	}
	sl.hosts[host]++
	sl.inUse++
	return &grant{s: s, host: host}, false, nil
}

// acquire waits for tryAcquire to succeed; false when ctx ends first.
func (s *Scheduler) acquire(ctx context.Context, host string) (*grant, bool) {
	for {
		g, _, freed := s.tryAcquire(host)
		if g != nil {
			return g, true
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// giveBack returns a slot for host, or the global one, and wakes what
// waits for one.
func (s *Scheduler) giveBack(host string, global bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := &s.slots
	if global {
		sl.inUse--
	} else if sl.hosts[host]--; sl.hosts[host] <= 0 {
		delete(sl.hosts, host)
	}
	sl.wake()
}

// giveBackSlot returns g's global slot, or its parking place.
func (s *Scheduler) giveBackSlot(g *grant) {
	s.mu.Lock()
	parked := g.parked
	if parked {
		s.slots.parked--
	}
	s.mu.Unlock()
	if !parked {
		s.giveBack("", true)
	}
}

// wake wakes what waits for a slot; under Scheduler.mu.
func (sl *slots) wake() {
	close(sl.freed)
	sl.freed = make(chan struct{})
}
