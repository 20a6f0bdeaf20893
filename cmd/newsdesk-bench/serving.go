package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// serveResult is serving under ingest: serve on an empty store, every
// source due, readers of the one section until every source is stored.
type serveResult struct {
	measure     // wall: from ready to the last commit; CPU and memory: serve's whole life
	readers int // concurrent
	load    readLoad
	renders float64 // of the section while the ingest ran; -1: serve does not count them
	failed  int     // fetches that failed
	store   storeCheck
}

// renderMetric is the counter of a section's renders in serve's /metrics.
const renderMetric = "newsdesk_section_renders_total"

// serveIngest starts `newsdesk serve` on an empty bbolt store with every
// source due and has readers fetch the section of all sources, as feed
// readers do, until every source's fetch is committed.
func (r *report) serveIngest(ctx context.Context, bin, dir string, urls []string, log io.Writer) error {
	fmt.Fprintf(log, "newsdesk serve: first ingest under %d readers\n", r.opts.readers)
	t, err := newTarget(ctx, engineBolt, dir, "serve", "")
	if err != nil {
		return err
	}
	defer t.drop()
	config, err := writeConfig(dir, "serve", t, urls, config{})
	if err != nil {
		return err
	}
	p, err := startServe(ctx, bin, config)
	if err != nil {
		return err
	}
	res, err := measureIngest(ctx, p, r.opts.readers, len(urls))
	m, stopErr := p.stop()
	if err != nil {
		return err
	}
	if stopErr != nil {
		return stopErr
	}
	m.wall = res.wall
	res.measure = m
	if res.store, err = checkStore(t, len(urls), r.opts.items); err != nil {
		return err
	}
	res.items = res.store.items
	if len(res.store.short) > 0 || res.failed > 0 {
		return fmt.Errorf("serve under ingest: %d fetches failed and %d sources stored fewer than %d items, e.g. %v", res.failed, len(res.store.short), r.opts.items, res.store.short[:min(1, len(res.store.short))])
	}
	r.serve = res
	return nil
}

// measureIngest runs the readers against p from now until it has
// committed a fetch of each of n sources.
func measureIngest(ctx context.Context, p *serveProc, readers, n int) (*serveResult, error) {
	res := &serveResult{readers: readers, renders: -1}
	before, err := p.metrics(ctx)
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	loaded := make(chan readLoad, 1)
	start := time.Now()
	go func() { loaded <- read(ctx, p.url+"/sections/all.atom", readers, stop) }()
	res.failed, err = p.waitFetches(ctx, n, ingestTimeout(n))
	res.wall = time.Since(start)
	close(stop)
	res.load = <-loaded
	if err != nil {
		return nil, err
	}
	if _, ok := before[renderMetric]; ok {
		if res.renders, err = rendersSince(ctx, p, before[renderMetric]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rendersSince is how many renders serve has counted since it counted
// before, once it has counted one: serve logs a fetch before it renders
// its commit, so a small ingest can be committed before its first render
// is counted.
func rendersSince(ctx context.Context, p *serveProc, before float64) (float64, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := p.metrics(ctx)
		if err != nil {
			return 0, err
		}
		if n := m[renderMetric] - before; n > 0 || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond): // polling serve's count
		}
	}
}

// ingestTimeout bounds a first ingest of n sources: generous, for a
// loaded machine; a serve that stalls must not hang the benchmark.
func ingestTimeout(n int) time.Duration {
	return 2*time.Minute + time.Duration(n)*50*time.Millisecond
}
