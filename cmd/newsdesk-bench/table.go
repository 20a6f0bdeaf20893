package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// write prints the report as one markdown table, with the ratios the
// issue's targets are stated in.
func (r *report) write(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "newsdesk-bench: %d sources x %d items (%.1f MB of feeds), %d CPUs, bbolt\n\n",
		o.sources, o.items, float64(r.feedBytes)/1e6, runtime.NumCPU())
	fmt.Fprintln(w, "| run | wall | CPU (user+sys) | peak RSS | items | ratio |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	row(w, "floor: gofeed parse, 8 at a time", r.parse, fmt.Sprintf("%.2f of parse+sanitize wall", ratio(r.parse.wall, r.floor.wall)))
	row(w, "floor: parse + sanitize (bluemonday, newsdesk's policy)", r.floor, "1 (the floor)")
	row(w, "newsdesk run -force, first pass into an empty store", r.first.measure, fmt.Sprintf("%.2fx floor wall", ratio(r.first.wall, r.floor.wall)))
	row(w, "newsdesk run -force, unchanged pass (all 304)", r.unchanged.measure, fmt.Sprintf("%.3f of first pass CPU", ratio(r.unchanged.cpu, r.first.cpu)))
	per := "-"
	if r.first.store.items > 0 {
		per = fmt.Sprintf("%d B/item", r.first.store.fileBytes/int64(r.first.store.items))
	}
	fmt.Fprintf(w, "| bytes on disk per stored item (bbolt file %.1f MB after the first pass) | | | | %d | %s |\n",
		float64(r.first.store.fileBytes)/1e6, r.first.store.items, per)
	fmt.Fprintln(w, "\npeak RSS is the child's ru_maxrss: it includes bbolt's file-backed mapping, so it is more than the RssAnon (heap and stacks) the issue's memory target is about.")
}

func row(w io.Writer, name string, m measure, ratio string) {
	rss := "-"
	if m.hasRSS {
		rss = fmt.Sprintf("%.0f MB", float64(m.maxRSS)/1e6)
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s |\n", name, dur(m.wall), dur(m.cpu), rss, m.items, ratio)
}

func dur(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
