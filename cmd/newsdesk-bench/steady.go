package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// steadyRetention is the steady case's max_items: small, so that the store
// itself reaches a steady state within minutes.
const steadyRetention = 20

// steadyInterval is how often the steady case polls each source.
const steadyInterval = time.Minute

// steadyResult is serve run for a while against sources whose feeds gain
// an item every minute: its memory and goroutines at the end of warm-up
// and at the end.
type steadyResult struct {
	measure                   // wall: the run after the first ingest; CPU and memory: serve's whole life
	warm, end         level   // the medians of each window
	fetches, newItems float64 // committed during the run
	samples           int
}

// change is the relative change from warm-up to the end, in percent.
func change(warm, end float64) float64 {
	if warm == 0 {
		return 0
	}
	return 100 * (end - warm) / warm
}

// steadyState runs `newsdesk serve` for o.steady against o.sources sources
// that each gain a new item every minute, polled every minute, keeping
// steadyRetention items each, and samples serve's anonymous memory and
// goroutines for o.steady from the end of the first ingest. Warm-up is the
// first fifth of that after the first poll interval (warmFrom), the end its
// last fifth.
func (r *report) steadyState(ctx context.Context, bin, dir string, log io.Writer) error {
	o := r.opts
	fmt.Fprintf(log, "newsdesk serve: steady state for %s\n", o.steady)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	roll := newRolling(o.sources, o.items, o.seed, time.Now().Truncate(time.Minute), time.Minute)
	org, err := startOrigin(ctx, o.sources, roll.feed)
	if err != nil {
		return err
	}
	defer org.close()
	t, err := newTarget(ctx, engineBolt, dir, "steady", "")
	if err != nil {
		return err
	}
	defer t.drop()
	config, err := writeConfig(dir, "steady", t, org.urls, config{defaults: fmt.Sprintf("  interval: %s\n  retention:\n    max_items: %d\n", steadyInterval, steadyRetention)})
	if err != nil {
		return err
	}
	p, err := startServe(ctx, bin, config)
	if err != nil {
		return err
	}
	res, err := sampleSteady(ctx, p, o.sources, o.steady)
	m, stopErr := p.stop()
	if err != nil {
		return err
	}
	if stopErr != nil {
		return stopErr
	}
	m.wall = o.steady
	res.measure = m
	st, err := checkStore(t, o.sources, 0)
	if err != nil {
		return err
	}
	res.items = st.items
	r.steady = res
	return nil
}

// steadySample is one reading of serve during the steady run.
type steadySample struct {
	at time.Duration // since the start
	level
}

// level is serve's memory and goroutines, read once or as a median.
type level struct {
	anon       int64
	goroutines float64
	// heapGoal is the Go runtime's heap target (/metrics'
	// go_memstats_next_gc_bytes): about twice the heap found live by the
	// last GC. RssAnon follows it, so the two together tell a growing live
	// heap from memory the runtime keeps after a burst.
	heapGoal float64
}

// sampleSteady waits for serve's first ingest of n sources, then reads its
// RssAnon and goroutines about 60 times over d.
func sampleSteady(ctx context.Context, p *serveProc, n int, d time.Duration) (*steadyResult, error) {
	if _, err := p.waitFetches(ctx, n, ingestTimeout(n)); err != nil {
		return nil, err
	}
	every := min(max(d/60, 250*time.Millisecond), 10*time.Second)
	start := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var samples []steadySample
	var last map[string]float64
	for {
		anon, err := p.anon.now()
		if err != nil {
			return nil, fmt.Errorf("newsdesk serve's memory: %w", err)
		}
		if last, err = p.metrics(ctx); err != nil {
			return nil, err
		}
		samples = append(samples, steadySample{time.Since(start), level{anon, last["go_goroutines"], last["go_memstats_next_gc_bytes"]}})
		if time.Since(start) >= d {
			break
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return nil, fmt.Errorf("newsdesk serve exited during the steady run (%v):\n%s", p.waitErr, p.log.tail(20))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res := &steadyResult{samples: len(samples), fetches: last["newsdesk_source_fetches_total"], newItems: last["newsdesk_source_items_new_total"]}
	from := warmFrom(d)
	warm, end := window(samples, from, from+(d-from)/5), window(samples, 4*d/5, d+every)
	res.warm, res.end = medians(warm), medians(end)
	return res, nil
}

// warmFrom is when, in a steady run of d from the end of the first ingest,
// its warm-up window begins: after the first poll interval, in which no
// source is due (none is fetched before its interval has passed), so that
// warm-up is regular polling, like the end, and not the idle minute before
// it; from the start in a run too short for that (-short).
func warmFrom(d time.Duration) time.Duration {
	if d < 3*steadyInterval {
		return 0
	}
	return steadyInterval
}

// window is the samples taken from `from` until `to`; when none were
// (a very short run), the nearest one.
func window(samples []steadySample, from, to time.Duration) []steadySample {
	var out []steadySample
	for _, s := range samples {
		if s.at >= from && s.at < to {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		i := 0
		for i < len(samples)-1 && samples[i].at < from {
			i++
		}
		out = samples[i : i+1]
	}
	return out
}

// medians is the median RssAnon, goroutine count and heap goal of samples:
// the level of each, which a burst of fetches in flight at one sample does
// not move.
func medians(samples []steadySample) level {
	return level{
		anon:       median(samples, func(s steadySample) int64 { return s.anon }),
		goroutines: median(samples, func(s steadySample) float64 { return s.goroutines }),
		heapGoal:   median(samples, func(s steadySample) float64 { return s.heapGoal }),
	}
}

// median is the median of one reading of samples.
func median[T int64 | float64](samples []steadySample, of func(steadySample) T) T {
	vs := make([]T, len(samples))
	for i, s := range samples {
		vs[i] = of(s)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}
