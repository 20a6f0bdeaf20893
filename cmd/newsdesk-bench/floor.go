package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
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
	return floorOf(len(feeds), sanitize, func(i int) (string, []byte, error) { return feeds[i].id, feeds[i].body, nil })
}

// runFloorHTTP is runFloor with sanitizing, each feed first fetched from
// its url (the origin's, in this process: its CPU counts too) by one
// plain net/http client: what parsing and sanitizing cost once the feeds
// come over loopback HTTP, as newsdesk's come.
func runFloorHTTP(ctx context.Context, urls []string) (measure, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: 5 * time.Second}}
	defer client.CloseIdleConnections()
	return floorOf(len(urls), true, func(i int) (string, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, urls[i], nil)
		if err != nil {
			return urls[i], nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return urls[i], nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return urls[i], body, err
	})
}

// floorOf parses the n feeds that get gives (a name for errors and the
// body), floorWorkers at a time, sanitizing each item's description and
// content when sanitize is set.
func floorOf(n int, sanitize bool, get func(i int) (string, []byte, error)) (measure, error) {
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
				if i >= n {
					return
				}
				name, body, err := get(i)
				var f *gofeed.Feed
				if err == nil {
					f, err = p.Parse(bytes.NewReader(body))
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("floor: %s: %w", name, err) })
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
