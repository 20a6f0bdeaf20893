package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/newsdesk/newsdesk"
)

// report is what one benchmark run measured.
type report struct {
	opts         options
	feedBytes    int64
	parse, floor measure
	httpFloor    measure       // parse + sanitize of the feeds fetched from the origin
	engines      []*engineRun  // bbolt first
	serve        *serveResult  // nil: not run
	steady       *steadyResult // nil: not run
}

// engineRun is newsdesk's passes on one storage engine.
type engineRun struct {
	engine           string
	first, unchanged passResult
	large            *passResult // the first pass over o.large sources; nil: not run
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
	r := &report{opts: o}
	if err := r.base(ctx, bin, dir, log); err != nil {
		return nil, err
	}
	if o.large > 0 {
		if err := r.largeCase(ctx, bin, dir, log); err != nil {
			return nil, err
		}
	}
	if o.steady > 0 {
		if err := r.steadyState(ctx, bin, dir, log); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// engines are the storage engines the passes run on.
func (o options) engines() []string {
	if o.postgres != "" {
		return []string{engineBolt, enginePostgres}
	}
	return []string{engineBolt}
}

// base is the cases over o.sources sources: the floors, the passes on each
// engine and serving under ingest.
func (r *report) base(ctx context.Context, bin, dir string, log io.Writer) error {
	o := r.opts
	fmt.Fprintf(log, "generating %d sources x %d items\n", o.sources, o.items)
	feeds := genFeeds(o.sources, o.items, o.seed, time.Now().UTC().Truncate(time.Hour))
	for _, f := range feeds {
		r.feedBytes += int64(len(f.body))
	}
	if err := r.floors(feeds, log); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	org, err := startOrigin(ctx, len(feeds), staticFeeds(feeds))
	if err != nil {
		return err
	}
	defer org.close()
	fmt.Fprintln(log, "floor: fetch over HTTP + parse + sanitize")
	if r.httpFloor, err = runFloorHTTP(ctx, org.urls); err != nil {
		return err
	}
	org.counts() // the passes count their own requests
	for _, engine := range o.engines() {
		run, err := r.passes(ctx, bin, dir, engine, org, log)
		if err != nil {
			return err
		}
		r.engines = append(r.engines, run)
	}
	if o.readers > 0 {
		return r.serveIngest(ctx, bin, dir, org.urls, log)
	}
	return nil
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

// passes runs newsdesk's first pass into an empty store of the engine and
// then the unchanged pass, checking the store after each.
func (r *report) passes(ctx context.Context, bin, dir, engine string, org *origin, log io.Writer) (*engineRun, error) {
	o := r.opts
	t, err := newTarget(ctx, engine, dir, "first", o.postgres)
	if err != nil {
		return nil, err
	}
	defer r.done(t)
	config, err := writeConfig(dir, "first-"+engine, t, org.urls, config{})
	if err != nil {
		return nil, err
	}
	run := &engineRun{engine: engine}
	org.counts()
	fmt.Fprintf(log, "newsdesk (%s): first pass\n", engine)
	if run.first, err = pass(ctx, bin, config, t, org, o.sources, o.items); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "newsdesk (%s): unchanged pass\n", engine)
	if run.unchanged, err = pass(ctx, bin, config, t, org, o.sources, o.items); err != nil {
		return nil, err
	}
	return run, run.problems(o.sources, o.items)
}

// largeCase is the first pass over o.large sources, on bbolt (and on
// PostgreSQL with -postgres-large), from an origin of its own.
func (r *report) largeCase(ctx context.Context, bin, dir string, log io.Writer) error {
	o := r.opts
	fmt.Fprintf(log, "generating %d sources x %d items\n", o.large, o.items)
	feeds := genFeeds(o.large, o.items, o.seed, time.Now().UTC().Truncate(time.Hour))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	org, err := startOrigin(ctx, len(feeds), staticFeeds(feeds))
	if err != nil {
		return err
	}
	defer org.close()
	for _, run := range r.engines {
		if run.engine == enginePostgres && !o.postgresLarge {
			continue
		}
		t, err := newTarget(ctx, run.engine, dir, "large", o.postgres)
		if err != nil {
			return err
		}
		config, err := writeConfig(dir, "large-"+run.engine, t, org.urls, config{})
		if err != nil {
			return err
		}
		org.counts()
		fmt.Fprintf(log, "newsdesk (%s): first pass over %d sources\n", run.engine, o.large)
		p, err := pass(ctx, bin, config, t, org, o.large, o.items)
		r.done(t)
		if err != nil {
			return err
		}
		if err := firstProblems(p, o.large, o.items); err != nil {
			return fmt.Errorf("%d sources: %w", o.large, err)
		}
		run.large = &p
	}
	return nil
}

// done drops a case's store, unless -dir asked to keep the files.
func (r *report) done(t *target) {
	if r.opts.keep == "" || t.engine == enginePostgres {
		t.drop()
	}
}

// pass runs `newsdesk run -force` once and records what the origin
// answered and what the store holds afterwards.
func pass(ctx context.Context, bin, config string, t *target, org *origin, n, perFeed int) (passResult, error) {
	var p passResult
	var err error
	if p.measure, p.summary, err = runPass(ctx, bin, config); err != nil {
		return p, err
	}
	p.origin[0], p.origin[1], p.origin[2] = org.counts()
	if p.store, err = checkStore(t, n, perFeed); err != nil {
		return p, err
	}
	p.items = p.store.items
	return p, nil
}

// problems is an error when a pass did not do its work: a source without
// all its items, or an unchanged pass that was not all 304s.
func (run *engineRun) problems(sources, items int) error {
	n := int64(sources)
	if err := firstProblems(run.first, sources, items); err != nil {
		return fmt.Errorf("%s: %w", run.engine, err)
	}
	switch u := run.unchanged; {
	case u.origin != [3]int64{0, n, 0}:
		return fmt.Errorf("%s: unchanged pass: the origin answered %d x 200, %d x 304, %d other; want %d x 304", run.engine, u.origin[0], u.origin[1], u.origin[2], n)
	case u.store.results[newsdesk.ResultNotModified] != sources:
		return fmt.Errorf("%s: unchanged pass: %d of %d sources recorded not_modified (%s)", run.engine, u.store.results[newsdesk.ResultNotModified], n, u.summary)
	}
	return nil
}

// firstProblems is an error when a first pass did not store every item of
// every source after one 200 each.
func firstProblems(p passResult, sources, items int) error {
	n := int64(sources)
	switch {
	case len(p.store.short) > 0:
		return fmt.Errorf("first pass: %d sources stored fewer than %d items, e.g. %s (%s)", len(p.store.short), items, p.store.short[0], p.summary)
	case p.origin != [3]int64{n, 0, 0}:
		return fmt.Errorf("first pass: the origin answered %d x 200, %d x 304, %d other; want %d x 200", p.origin[0], p.origin[1], p.origin[2], n)
	}
	return nil
}
