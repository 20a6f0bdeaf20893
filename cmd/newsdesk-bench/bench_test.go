package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
)

// TestShort runs the -short benchmark end to end, with the real newsdesk
// binary built from this repository, so that the harness cannot rot: every
// row's code path, on PostgreSQL too when NEWSDESK_TEST_DATABASE_URL names
// a cluster (CI starts one). It checks what the run did, never how fast.
func TestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the newsdesk binary")
	}
	o, err := parseFlags([]string{"-short", "-dir", t.TempDir()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.postgres = testDatabase(t)
	o.postgresLarge = o.postgres != ""
	var log bytes.Buffer
	r, err := bench(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, log.String())
	}
	want := o.sources * o.items
	if r.parse.items != want || r.floor.items != want || r.httpFloor.items != want {
		t.Errorf("floors parsed %d, %d and (over HTTP) %d items, want %d", r.parse.items, r.floor.items, r.httpFloor.items, want)
	}
	if len(r.engines) != len(o.engines()) {
		t.Fatalf("passes ran on %d engines, want %v", len(r.engines), o.engines())
	}
	for _, e := range r.engines {
		checkEngine(t, o, e)
	}
	checkServe(t, o, r.serve)
	checkSteady(t, o, r.steady)
	var out bytes.Buffer
	r.write(&out)
	rows := []string{
		"| floor: gofeed parse, 8 at a time | - |",
		"| floor: parse + sanitize (bluemonday, newsdesk's policy) | - |",
		"| floor over HTTP: fetch from the origin, parse + sanitize | - |",
		"x the floor over HTTP |",
		"| `newsdesk run -force`, first pass into an empty store | bbolt |",
		"| `newsdesk run -force`, unchanged pass (all 304) | bbolt |",
		"| first pass, 40 sources | bbolt |",
		"| `newsdesk serve`, first ingest while 8 readers fetch the section | bbolt |",
		"| `newsdesk serve`, steady for 2s: a new item a minute in every feed, max_items 20 | bbolt |",
		"| bytes on disk per stored item | bbolt |",
		"x floor wall (target for bbolt: 1.5x); ",
		"of first pass CPU (target: under 0.1) |",
		"x the 20-source first pass wall",
		" 0 errors, latency p50 ",
		"B/item (bbolt file",
		"from warm-up to the end (target: within 10%)",
		"- peak RssAnon: ",
	}
	if o.postgres != "" {
		rows = append(rows, "| `newsdesk run -force`, first pass into an empty store | PostgreSQL |",
			"| `newsdesk run -force`, unchanged pass (all 304) | PostgreSQL |",
			"| first pass, 40 sources | PostgreSQL |",
			"B/item (tables with their indexes and TOAST")
	}
	for _, row := range rows {
		if !strings.Contains(out.String(), row) {
			t.Errorf("table lacks %q:\n%s", row, out.String())
		}
	}
}

// testDatabase is the PostgreSQL cluster to measure too: empty without
// NEWSDESK_TEST_DATABASE_URL, a failure under CI without it.
func testDatabase(t *testing.T) string {
	u := os.Getenv("NEWSDESK_TEST_DATABASE_URL")
	if u == "" && os.Getenv("CI") != "" {
		t.Fatal("NEWSDESK_TEST_DATABASE_URL is not set, and CI is: .ci/run starts a PostgreSQL cluster (.ci/postgres.sh)")
	}
	return u
}

// checkEngine checks one engine's passes: every item stored by the first,
// nothing but 304s and not_modified in the unchanged one, the large case
// whole, memory and size measured.
func checkEngine(t *testing.T, o options, e *engineRun) {
	t.Helper()
	want := o.sources * o.items
	if e.first.store.items != want || len(e.first.store.short) > 0 {
		t.Errorf("%s: first pass stored %d items (short: %v), want %d", e.engine, e.first.store.items, e.first.store.short, want)
	}
	if got := e.first.store.results[newsdesk.ResultOK]; got != o.sources {
		t.Errorf("%s: first pass: %d sources ok, want %d (%v)", e.engine, got, o.sources, e.first.store.results)
	}
	if e.unchanged.origin != [3]int64{0, int64(o.sources), 0} {
		t.Errorf("%s: unchanged pass: origin answered 200/304/other %v, want all %d 304", e.engine, e.unchanged.origin, o.sources)
	}
	if got := e.unchanged.store.results[newsdesk.ResultNotModified]; got != o.sources || e.unchanged.store.items != want {
		t.Errorf("%s: unchanged pass: %d sources not_modified, %d items; want %d and %d", e.engine, got, e.unchanged.store.items, o.sources, want)
	}
	for name, m := range map[string]measure{"first": e.first.measure, "unchanged": e.unchanged.measure} {
		if m.cpu <= 0 || !m.hasAnon || m.anon <= 0 || m.anon > m.maxRSS {
			t.Errorf("%s: %s pass was not measured: %+v (RssAnon must be above 0 and at most VmHWM)", e.engine, name, m)
		}
	}
	if e.first.store.bytes <= 0 {
		t.Errorf("%s: store size %d after the first pass", e.engine, e.first.store.bytes)
	}
	if e.large == nil {
		t.Fatalf("%s: no large case", e.engine)
	}
	if e.large.store.items != o.large*o.items || e.large.origin != [3]int64{int64(o.large), 0, 0} || !e.large.hasAnon {
		t.Errorf("%s: large case stored %d items after origin answers %v (RssAnon seen: %v); want %d after %d x 200", e.engine, e.large.store.items, e.large.origin, e.large.hasAnon, o.large*o.items, o.large)
	}
}

// checkServe checks serving under ingest: every item stored, the readers'
// requests all answered, renders counted.
func checkServe(t *testing.T, o options, s *serveResult) {
	t.Helper()
	if s == nil {
		t.Fatal("no serve-under-ingest case")
	}
	if s.store.items != o.sources*o.items || s.failed != 0 {
		t.Errorf("serve stored %d items with %d failed fetches, want %d and none", s.store.items, s.failed, o.sources*o.items)
	}
	l := s.load
	if l.requests < o.readers || l.errors != 0 || len(l.latencies) != l.requests {
		t.Errorf("readers: %d requests, %d errors (first: %q), %d latencies; want at least one each, no error", l.requests, l.errors, l.firstError, len(l.latencies))
	}
	if l.quantile(0.5) > l.quantile(0.99) || l.quantile(0.99) > l.quantile(1) || l.quantile(1) <= 0 {
		t.Errorf("latency quantiles out of order: p50 %v, p99 %v, max %v", l.quantile(0.5), l.quantile(0.99), l.quantile(1))
	}
	if s.renders < 1 {
		t.Errorf("section rendered %v times during the ingest, want at least once (the commits changed it)", s.renders)
	}
	if !s.hasAnon || s.cpu <= 0 {
		t.Errorf("serve was not measured: %+v", s.measure)
	}
}

// checkSteady checks the steady run: samples of memory and goroutines,
// the first ingest stored.
func checkSteady(t *testing.T, o options, s *steadyResult) {
	t.Helper()
	if s == nil {
		t.Fatal("no steady case")
	}
	if s.samples < 2 || s.warm.anon <= 0 || s.end.anon <= 0 || s.warm.goroutines < 1 || s.end.goroutines < 1 || s.warm.heapGoal <= 0 || s.end.heapGoal <= 0 {
		t.Errorf("steady: %d samples, %+v -> %+v; want readings of RssAnon, goroutines and heap goal", s.samples, s.warm, s.end)
	}
	if want := o.sources * min(o.items, steadyRetention); s.items != want || s.newItems != float64(want) || s.fetches < float64(o.sources) {
		t.Errorf("steady: %d items stored, %v new, %v fetches; want %d, %d, at least %d", s.items, s.newItems, s.fetches, want, want, o.sources)
	}
}

// TestFixtures checks the generator: the same seed makes the same bytes,
// and every kind of feed parses to its items, the windows-1251 ones to
// Cyrillic text.
func TestFixtures(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := genFeeds(14, 5, 7, base), genFeeds(14, 5, 7, base)
	kinds := map[string]int{}
	for i := range a {
		if !bytes.Equal(a[i].body, b[i].body) || a[i].etag != b[i].etag {
			t.Fatalf("feed %d differs between two runs with the same seed", i)
		}
		kinds[a[i].kind]++
		f, err := gofeed.NewParser().Parse(bytes.NewReader(a[i].body))
		if err != nil {
			t.Fatalf("feed %d (%s) does not parse: %v", i, a[i].kind, err)
		}
		if len(f.Items) != 5 || f.Items[0].Content == "" {
			t.Errorf("feed %d (%s): %d items, first content %q; want 5 with content", i, a[i].kind, len(f.Items), f.Items[0].Content)
		}
		if a[i].kind == "rss-cp1251" && (bytes.Contains(a[i].body, []byte("а")) || !strings.ContainsAny(f.Items[0].Title, "аеиоу")) {
			t.Errorf("feed %d is not windows-1251 text that decodes to Cyrillic: title %q", i, f.Items[0].Title)
		}
	}
	if kinds["rss"] == 0 || kinds["atom"] == 0 || kinds["rss-cp1251"] == 0 {
		t.Errorf("kinds of feed: %v, want rss, atom and rss-cp1251", kinds)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-sources", "0"},
		{"extra"},
		{"-postgres-large"},
		{"-readers", "-1"},
		{"-large", "7000000"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%q: err %v, want a usage error", args, err)
		}
	}
	o, err := parseFlags([]string{"-sources", "300"}, io.Discard)
	if err != nil || o.large != 3000 || o.readers != 200 || o.steady != 0 || o.postgres != "" {
		t.Errorf("-sources 300: %+v, %v; want -large 3000, 200 readers, no steady run, bbolt only", o, err)
	}
	o, err = parseFlags([]string{"-short", "-large", "0", "-steady", "1s"}, io.Discard)
	if err != nil || o.sources != 20 || o.large != 0 || o.readers != 8 || o.steady != time.Second {
		t.Errorf("-short -large 0 -steady 1s: %+v, %v; want 20 sources, no large case, 8 readers, steady 1s", o, err)
	}
}
