package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// write prints the report as one markdown table, with the ratios the
// issue's targets are stated in, and the footnotes that say what the
// columns measure.
func (r *report) write(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "newsdesk-bench: %d sources x %d items (%.1f MB of feeds), %d CPUs, %s\n\n",
		o.sources, o.items, float64(r.feedBytes)/1e6, runtime.NumCPU(), strings.Join(o.engines(), " and "))
	fmt.Fprintln(w, "| run | engine | wall | CPU (user+sys) | peak RssAnon | peak RSS | items | result |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|")
	row(w, "floor: gofeed parse, 8 at a time", "", r.parse, fmt.Sprintf("%.2f of parse+sanitize wall", ratio(r.parse.wall, r.floor.wall)))
	row(w, "floor: parse + sanitize (bluemonday, newsdesk's policy)", "", r.floor, "1 (the floor)")
	row(w, "floor over HTTP: fetch from the origin, parse + sanitize", "", r.httpFloor,
		fmt.Sprintf("%.2fx floor wall (CPU: client and origin, one process)", ratio(r.httpFloor.wall, r.floor.wall)))
	for _, e := range r.engines {
		row(w, "`newsdesk run -force`, first pass into an empty store", e.engine, e.first.measure,
			fmt.Sprintf("%.2fx floor wall (target for bbolt: 1.5x); %.2fx the floor over HTTP", ratio(e.first.wall, r.floor.wall), ratio(e.first.wall, r.httpFloor.wall)))
	}
	for _, e := range r.engines {
		row(w, "`newsdesk run -force`, unchanged pass (all 304)", e.engine, e.unchanged.measure,
			fmt.Sprintf("%.3f of first pass CPU (target: under 0.1)", ratio(e.unchanged.cpu, e.first.cpu)))
	}
	for _, e := range r.engines {
		if e.large != nil {
			row(w, fmt.Sprintf("first pass, %d sources", o.large), e.engine, e.large.measure,
				fmt.Sprintf("%.2fx the %d-source first pass wall (target: 12x at 10x the sources); RssAnon target: under 300 MB", ratio(e.large.wall, e.first.wall), o.sources))
		}
	}
	if s := r.serve; s != nil {
		row(w, fmt.Sprintf("`newsdesk serve`, first ingest while %d readers fetch the section", s.readers), engineBolt, s.measure, s.result())
	}
	if s := r.steady; s != nil {
		row(w, fmt.Sprintf("`newsdesk serve`, steady for %s: a new item a minute in every feed, max_items %d", o.steady, steadyRetention), engineBolt, s.measure, s.result())
	}
	for _, e := range r.engines {
		fmt.Fprintf(w, "| bytes on disk per stored item | %s | | | | | %d | %s |\n", e.engine, e.first.store.items, e.bytesPerItem())
	}
	fmt.Fprintln(w, "\n- peak RssAnon: the highest anonymous resident memory (heap and stacks) of the newsdesk process, read from /proc/PID/status every 50 ms; peak RSS is its VmHWM there, which also counts file-backed pages such as bbolt's mapping. (Not ru_maxrss: on Linux a child's starts at the RSS of the process that started it, here the benchmark holding every feed.)")
	if r.serve != nil || r.steady != nil {
		fmt.Fprintln(w, "- serve rows: wall is the ingest (from ready until every source's fetch was committed) or the steady run; CPU and memory are the serve process's whole life. Latencies are the readers' (conditional GETs with the last ETag and Last-Modified, each reader on its own connection); renders are newsdesk_section_renders_total while the ingest ran.")
	}
	if r.steady != nil {
		fmt.Fprintln(w, "- steady: the run starts when the first ingest is committed; warm-up is the first fifth of it after the first poll interval (1 minute, in which no source is due yet; from the start in a run under 3 minutes), the end its last fifth; each value is the median of the samples in that window, 60 over the run (every 10 s in a 10-minute one) (RssAnon from /proc, goroutines and the Go heap goal from /metrics' go_goroutines and go_memstats_next_gc_bytes), so that fetches in flight at one sample do not move it. The heap goal is about twice the heap the last GC found live: when RssAnon grows and it does not, the growth is memory the runtime keeps, not live data.")
	}
	fmt.Fprintln(w, "- Compare the ratios, not the times: they come from one run on one machine. The targets (issue 12) are for bbolt.")
}

// result is the serve-under-ingest row's outcome.
func (s *serveResult) result() string {
	l := s.load
	renders := "renders not counted (this newsdesk has no " + renderMetric + ")"
	if s.renders >= 0 {
		renders = fmt.Sprintf("section rendered %.0f time(s) in %s (target: at most once a second)", s.renders, dur(s.wall))
	}
	return fmt.Sprintf("%d requests, %d errors, latency p50 %s, p99 %s, max %s (target: no error, none over 1 s); %s%s",
		l.requests, l.errors, ms(l.quantile(0.5)), ms(l.quantile(0.99)), ms(l.quantile(1)), renders, firstError(l))
}

func firstError(l readLoad) string {
	if l.firstError == "" {
		return ""
	}
	return "; first error: " + l.firstError
}

// result is the steady row's outcome.
func (s *steadyResult) result() string {
	w, e := s.warm, s.end
	return fmt.Sprintf("RssAnon %s -> %s (%+.1f%%), goroutines %.0f -> %.0f (%+.1f%%) from warm-up to the end (target: within 10%%); Go heap goal %s -> %s (%+.1f%%); %.0f fetches, %.0f new items",
		mb(w.anon), mb(e.anon), change(float64(w.anon), float64(e.anon)),
		w.goroutines, e.goroutines, change(w.goroutines, e.goroutines),
		mb(int64(w.heapGoal)), mb(int64(e.heapGoal)), change(w.heapGoal, e.heapGoal), s.fetches, s.newItems)
}

// bytesPerItem is the store's size after the first pass over its items.
func (e *engineRun) bytesPerItem() string {
	st := e.first.store
	if st.items == 0 {
		return "-"
	}
	what := "bbolt file"
	if e.engine == enginePostgres {
		what = "tables with their indexes and TOAST"
	}
	return fmt.Sprintf("%d B/item (%s %.1f MB after the first pass)", st.bytes/int64(st.items), what, float64(st.bytes)/1e6)
}

func row(w io.Writer, name, engine string, m measure, result string) {
	rss, anon := "-", "-"
	if m.hasAnon {
		rss, anon = mb(m.maxRSS), mb(m.anon)
	}
	if engine == "" {
		engine = "-"
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d | %s |\n", name, engine, dur(m.wall), dur(m.cpu), anon, rss, m.items, result)
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

func dur(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// ms is a latency: milliseconds, or seconds from one second up.
func ms(d time.Duration) string {
	if d >= time.Second {
		return dur(d)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
