package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/newsdesk/newsdesk"
)

// report is what one benchmark run measured.
type report struct {
	opts             options
	feedBytes        int64
	parse, floor     measure
	first, unchanged passResult
}

// passResult is one newsdesk pass: its measures, its summary line, what
// the origin answered (200, 304, anything else) and what the store held
// after it.
type passResult struct {
	measure
	summary string
	origin  [3]int64
	store   storeCheck
}

// bench runs the whole benchmark; progress goes to log.
func bench(ctx context.Context, o options, log io.Writer) (*report, error) {
	dir := o.keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "newsdesk-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin := o.newsdesk
	if bin == "" {
		fmt.Fprintln(log, "building newsdesk")
		var err error
		if bin, err = buildNewsdesk(ctx, dir); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "generating %d sources x %d items\n", o.sources, o.items)
	feeds := genFeeds(o.sources, o.items, o.seed, time.Now().UTC().Truncate(time.Hour))
	r := &report{opts: o}
	for _, f := range feeds {
		r.feedBytes += int64(len(f.body))
	}
	if err := r.floors(feeds, log); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	org, err := startOrigin(ctx, feeds)
	if err != nil {
		return nil, err
	}
	config, err := writeConfig(dir, feeds, org.urls)
	if err != nil {
		return nil, err
	}
	if err := r.passes(ctx, bin, config, feeds, org, log); err != nil {
		return nil, err
	}
	return r, nil
}

// floors measures parsing alone, then parsing and sanitizing.
func (r *report) floors(feeds []feed, log io.Writer) error {
	fmt.Fprintln(log, "floor: parse")
	var err error
	if r.parse, err = runFloor(feeds, false); err != nil {
		return err
	}
	fmt.Fprintln(log, "floor: parse + sanitize")
	r.floor, err = runFloor(feeds, true)
	return err
}

// passes runs newsdesk's first pass into the empty store and then the
// unchanged pass, checking the store after each.
func (r *report) passes(ctx context.Context, bin, config string, feeds []feed, org *origin, log io.Writer) error {
	db := filepath.Join(filepath.Dir(config), "newsdesk.db")
	if err := os.Remove(db); err != nil && !os.IsNotExist(err) {
		return err
	}
	org.counts()
	fmt.Fprintln(log, "newsdesk: first pass")
	var err error
	if r.first, err = pass(ctx, bin, config, db, feeds, org, r.opts.items); err != nil {
		return err
	}
	fmt.Fprintln(log, "newsdesk: unchanged pass")
	if r.unchanged, err = pass(ctx, bin, config, db, feeds, org, r.opts.items); err != nil {
		return err
	}
	return r.problems()
}

// pass runs `newsdesk run -force` once and records what the origin
// answered and what the store holds afterwards.
func pass(ctx context.Context, bin, config, db string, feeds []feed, org *origin, perFeed int) (passResult, error) {
	var p passResult
	var err error
	if p.measure, p.summary, err = runPass(ctx, bin, config); err != nil {
		return p, err
	}
	p.origin[0], p.origin[1], p.origin[2] = org.counts()
	if p.store, err = checkStore(db, feeds, perFeed); err != nil {
		return p, err
	}
	p.items = p.store.items
	return p, nil
}

// problems is an error when a pass did not do its work: a source without
// all its items, or an unchanged pass that was not all 304s.
func (r *report) problems() error {
	n := int64(r.opts.sources)
	switch {
	case len(r.first.store.short) > 0:
		return fmt.Errorf("first pass: %d sources stored fewer than %d items, e.g. %s (%s)", len(r.first.store.short), r.opts.items, r.first.store.short[0], r.first.summary)
	case r.first.origin != [3]int64{n, 0, 0}:
		return fmt.Errorf("first pass: the origin answered %d x 200, %d x 304, %d other; want %d x 200", r.first.origin[0], r.first.origin[1], r.first.origin[2], n)
	case r.unchanged.origin != [3]int64{0, n, 0}:
		return fmt.Errorf("unchanged pass: the origin answered %d x 200, %d x 304, %d other; want %d x 304", r.unchanged.origin[0], r.unchanged.origin[1], r.unchanged.origin[2], n)
	case r.unchanged.store.results[newsdesk.ResultNotModified] != r.opts.sources:
		return fmt.Errorf("unchanged pass: %d of %d sources recorded not_modified (%s)", r.unchanged.store.results[newsdesk.ResultNotModified], n, r.unchanged.summary)
	}
	return nil
}
