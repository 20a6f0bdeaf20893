package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// readerTimeout is how long a reader waits for an answer before it counts
// the request as an error (the target is that none takes over a second).
const readerTimeout = 10 * time.Second

// readLoad is what the readers of a feed saw.
type readLoad struct {
	requests, errors int
	firstError       string
	latencies        []time.Duration // sorted
}

// quantile is the q quantile of the latencies (q 1: the slowest).
func (l readLoad) quantile(q float64) time.Duration {
	if len(l.latencies) == 0 {
		return 0
	}
	return l.latencies[min(len(l.latencies)-1, int(q*float64(len(l.latencies))))]
}

// read has n readers fetch url, each over its own connection and as a
// feed reader does (If-None-Match and If-Modified-Since from its last
// 200), one request after another, until stop is closed or ctx ends.
func read(ctx context.Context, url string, n int, stop <-chan struct{}) readLoad {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = n, n, n
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: readerTimeout}
	loads := make([]readLoad, n)
	var wg sync.WaitGroup
	for i := range loads {
		wg.Go(func() { loads[i] = reader(ctx, client, url, stop) })
	}
	wg.Wait()
	var all readLoad
	for _, l := range loads {
		all.requests += l.requests
		all.errors += l.errors
		if all.firstError == "" {
			all.firstError = l.firstError
		}
		all.latencies = append(all.latencies, l.latencies...)
	}
	slices.Sort(all.latencies)
	return all
}

// reader is one reader's loop.
func reader(ctx context.Context, client *http.Client, url string, stop <-chan struct{}) readLoad {
	var l readLoad
	var etag, lastMod string
	for {
		select {
		case <-stop:
			return l
		case <-ctx.Done():
			return l
		default:
		}
		start := time.Now()
		code, tag, mod, err := get(ctx, client, url, etag, lastMod)
		l.latencies = append(l.latencies, time.Since(start))
		l.requests++
		switch {
		case err != nil && ctx.Err() != nil:
			return l
		case err == nil && code == http.StatusOK:
			etag, lastMod = tag, mod
			continue
		case err == nil && code == http.StatusNotModified:
			continue
		case err == nil:
			err = fmt.Errorf("%d %s", code, http.StatusText(code))
		}
		l.errors++
		if l.firstError == "" {
			l.firstError = err.Error()
		}
	}
}

// get makes one conditional request and reads the whole answer.
func get(ctx context.Context, client *http.Client, url, etag, lastMod string) (code int, newETag, newLastMod string, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, "", "", err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastMod != "" {
		req.Header.Set("If-Modified-Since", lastMod)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, "", "", fmt.Errorf("read the body: %w", err)
	}
	return resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), nil
}
