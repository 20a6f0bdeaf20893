package main

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/fetcher"
)

// floorWorkers is how many feeds the floor parses at once, in one process.
const floorWorkers = 8

// measure is what one benchmark row measured.
type measure struct {
	wall    time.Duration
	cpu     time.Duration // user + system
	maxRSS  int64         // bytes: the peak VmHWM sampled
	anon    int64         // bytes: the peak RssAnon sampled
	items   int
	hasAnon bool // anon and maxRSS were read
}

// runFloor parses every feed with gofeed, floorWorkers at a time, and when
// sanitize is set also runs each item's description and content through
// newsdesk's HTML allow-list (fetcher.SanitizeHTML). CPU is this process's,
// so nothing else may run in it meanwhile.
func runFloor(feeds []feed, sanitize bool) (measure, error) {
	var next, items atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	before := selfCPU()
	start := time.Now()
	for range floorWorkers {
		wg.Go(func() {
			p := gofeed.NewParser()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(feeds) {
					return
				}
				f, err := p.Parse(bytes.NewReader(feeds[i].body))
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("floor: parse %s: %w", feeds[i].id, err) })
					return
				}
				for _, it := range f.Items {
					if sanitize {
						fetcher.SanitizeHTML(it.Description)
						fetcher.SanitizeHTML(it.Content)
					}
				}
				items.Add(int64(len(f.Items)))
			}
		})
	}
	wg.Wait()
	m := measure{wall: time.Since(start), cpu: selfCPU() - before, items: int(items.Load())}
	return m, firstErr
}

// selfCPU is the user and system time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
