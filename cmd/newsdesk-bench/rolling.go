package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// rolling is the origin's feeds for the steady-state case: every period,
// each source's feed gains a new item at the top (the oldest falls off the
// bottom), as a busy news site's does, so that every poll brings one new
// item. A feed is made when first asked for in its period, and is the same
// for the same seed, source and period.
type rolling struct {
	seed   uint64
	items  int
	start  time.Time
	period time.Duration
	now    func() time.Time
	feeds  []rollingFeed
}

type rollingFeed struct {
	mu   sync.Mutex
	k    int64 // the period f is for; -1: none yet
	f    feed
	made bool
}

func newRolling(n, items int, seed uint64, start time.Time, period time.Duration) *rolling {
	return &rolling{seed: seed, items: items, start: start, period: period, now: time.Now, feeds: make([]rollingFeed, n)}
}

// feed is what source i serves now.
func (r *rolling) feed(i int) feed {
	k := int64(r.now().Sub(r.start) / r.period)
	rf := &r.feeds[i]
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if !rf.made || rf.k != k {
		rf.f, rf.k, rf.made = r.make(i, k), k, true
	}
	return rf.f
}

// make is source i's feed in period k: items k, k-1, ... (item n is dated
// start + n periods), each the same whenever it is made.
func (r *rolling) make(i int, k int64) feed {
	id := sourceID(i)
	its := make([]genItem, r.items)
	for j := range its {
		n := k - int64(j)
		ir := rand.New(rand.NewPCG(r.seed^0x726f6c6c, uint64(i)<<40^uint64(n)))
		its[j] = genItem1(ir, id, fmt.Sprintf("r%d", n), r.start.Add(time.Duration(n)*r.period), enWords, n%3 == 0)
	}
	ch := rand.New(rand.NewPCG(r.seed, uint64(i)))
	return feed{
		id:          id,
		body:        rssFeed(ch, id, its, its[0].date, enWords, "utf-8"),
		contentType: "application/rss+xml; charset=utf-8",
		etag:        fmt.Sprintf(`"%s-r%d"`, id, k),
		kind:        "rss",
	}
}
