package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// TestRollingFeeds checks the steady case's origin over real HTTP on a
// fake clock: within a period a feed is the same bytes and answers its
// ETag with 304; the next period it has one new item at the top, its
// oldest gone, and a new ETag.
func TestRollingFeeds(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start.Add(30 * time.Second)
	roll := newRolling(2, 5, 7, start, time.Minute)
	roll.now = func() time.Time { return now }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	org, err := startOrigin(ctx, 2, roll.feed)
	if err != nil {
		t.Fatal(err)
	}
	defer org.close()
	get := func(etag string) (int, string, []string) {
		t.Helper()
		req, _ := http.NewRequest("GET", org.urls[1], nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, resp.Header.Get("ETag"), nil
		}
		f, err := gofeed.NewParser().Parse(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var links []string
		for _, it := range f.Items {
			links = append(links, it.Link)
		}
		return resp.StatusCode, resp.Header.Get("ETag"), links
	}
	_, tag0, links0 := get("")
	if code, _, _ := get(tag0); code != http.StatusNotModified {
		t.Errorf("the same period, If-None-Match %s: %d, want 304", tag0, code)
	}
	if a, b := roll.make(1, 0), roll.make(1, 0); !bytes.Equal(a.body, b.body) {
		t.Error("one period's feed differs between two makings")
	}
	now = now.Add(time.Minute)
	code, tag1, links1 := get(tag0)
	if code != http.StatusOK || tag1 == tag0 {
		t.Fatalf("next period with the old ETag: %d, ETag %s; want 200 with a new ETag", code, tag1)
	}
	if len(links1) != 5 || !strings.HasSuffix(links1[0], "-r1") || strings.Join(links1[1:], " ") != strings.Join(links0[:4], " ") {
		t.Errorf("next period's items %q, want a new r1 on top of %q less its oldest", links1, links0)
	}
	if ok, notMod, other := org.counts(); ok != 2 || notMod != 1 || other != 0 {
		t.Errorf("origin counted %d x 200, %d x 304, %d other; want 2, 1, 0", ok, notMod, other)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 31
newsdesk_source_items_new_total{source="s00000"} 50
newsdesk_source_items_new_total{source="s00001"} 49
newsdesk_section_renders_total{section="all"} 7
newsdesk_http_request_duration_seconds_bucket{route="feed",le="+Inf"} 3
`
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"go_goroutines": 31, "newsdesk_source_items_new_total": 99, renderMetric: 7, "newsdesk_http_request_duration_seconds_bucket": 3} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines many\n")); err == nil {
		t.Error("a sample without a number parsed")
	}
}

// TestMemStatus reads this process's anonymous and peak resident memory,
// and follows them.
func TestMemStatus(t *testing.T) {
	anon, hwm, err := memStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if anon <= 0 || hwm < anon {
		t.Errorf("this process: RssAnon %d, VmHWM %d; want RssAnon above 0, VmHWM at least that", anon, hwm)
	}
	s := sampleAnon(os.Getpid())
	if _, err := s.now(); err != nil {
		t.Fatal(err)
	}
	if peak, hwm, ok := s.end(); !ok || peak <= 0 || hwm < peak {
		t.Errorf("sampler's peaks: RssAnon %d, VmHWM %d (read: %v); want RssAnon above 0, VmHWM at least that", peak, hwm, ok)
	}
	if _, _, err := memStatus(-1); err == nil {
		t.Error("memory of no process: no error")
	}
}

// TestSteadyWindows checks how the steady row reads its samples: the
// median of each window, and the nearest sample when a window has none.
func TestSteadyWindows(t *testing.T) {
	var samples []steadySample
	for i := range 10 {
		samples = append(samples, steadySample{time.Duration(i) * time.Minute, level{anon: int64(100 + i), goroutines: float64(20 + i%3), heapGoal: float64(50 - i)}})
	}
	samples[8].goroutines = 500 // a burst of fetches
	warm, end := window(samples, 0, 3*time.Minute), window(samples, 7*time.Minute, 11*time.Minute)
	if l := medians(warm); l != (level{101, 21, 49}) {
		t.Errorf("warm-up medians %+v; want 101, 21, 49", l)
	}
	if l := medians(end); l != (level{108, 21, 42}) {
		t.Errorf("end medians %+v; want 108, 21, 42", l)
	}
	if w := window(samples[:1], 8*time.Minute, 10*time.Minute); len(w) != 1 || w[0].anon != 100 {
		t.Errorf("window past the samples = %v, want the last one", w)
	}
	if c := change(100, 110); c < 9.99 || c > 10.01 {
		t.Errorf("change(100, 110) = %v, want 10", c)
	}
	// Warm-up begins after the first poll interval, idle whatever the
	// scheduler does, unless the run is too short for it.
	for d, want := range map[time.Duration]time.Duration{2 * time.Second: 0, 2 * time.Minute: 0, 4 * time.Minute: steadyInterval, 10 * time.Minute: steadyInterval} {
		if got := warmFrom(d); got != want {
			t.Errorf("warmFrom(%v) = %v, want %v", d, got, want)
		}
	}
}
