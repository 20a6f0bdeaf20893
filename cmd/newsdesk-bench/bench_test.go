package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
)

// TestShort runs the -short benchmark end to end, with the real newsdesk
// binary built from this repository, so that the harness cannot rot. It
// checks what the run did, never how fast.
func TestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the newsdesk binary")
	}
	o := options{sources: 20, items: 10, seed: 12, keep: t.TempDir()}
	var log bytes.Buffer
	r, err := bench(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, log.String())
	}
	want := o.sources * o.items
	if r.parse.items != want || r.floor.items != want {
		t.Errorf("floors parsed %d and %d items, want %d", r.parse.items, r.floor.items, want)
	}
	if r.first.store.items != want || len(r.first.store.short) > 0 {
		t.Errorf("first pass stored %d items (short: %v), want %d", r.first.store.items, r.first.store.short, want)
	}
	if got := r.first.store.results[newsdesk.ResultOK]; got != o.sources {
		t.Errorf("first pass: %d sources ok, want %d (%v)", got, o.sources, r.first.store.results)
	}
	if r.unchanged.origin != [3]int64{0, int64(o.sources), 0} {
		t.Errorf("unchanged pass: origin answered 200/304/other %v, want all %d 304", r.unchanged.origin, o.sources)
	}
	if got := r.unchanged.store.results[newsdesk.ResultNotModified]; got != o.sources || r.unchanged.store.items != want {
		t.Errorf("unchanged pass: %d sources not_modified, %d items; want %d and %d", got, r.unchanged.store.items, o.sources, want)
	}
	if !r.first.hasRSS || r.first.maxRSS <= 0 || r.first.cpu <= 0 || r.unchanged.cpu <= 0 {
		t.Errorf("a pass was not measured: first %+v, unchanged %+v", r.first, r.unchanged)
	}
	var out bytes.Buffer
	r.write(&out)
	for _, row := range []string{
		"| floor: gofeed parse, 8 at a time |",
		"| floor: parse + sanitize (bluemonday, newsdesk's policy) |",
		"| newsdesk run -force, first pass into an empty store |",
		"| newsdesk run -force, unchanged pass (all 304) |",
		"| bytes on disk per stored item",
		"x floor wall |",
		"of first pass CPU |",
		"B/item |",
	} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("table lacks %q:\n%s", row, out.String())
		}
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
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-sources", "0"}, &out, &errOut)
	if _, ok := err.(usageError); !ok {
		t.Errorf("-sources 0: err %v, want a usage error", err)
	}
	err = run(context.Background(), []string{"extra"}, &out, &errOut)
	if _, ok := err.(usageError); !ok {
		t.Errorf("an argument: err %v, want a usage error", err)
	}
}
