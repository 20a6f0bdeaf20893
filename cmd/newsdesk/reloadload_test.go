package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/filewatch"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// reloadConfig is a valid feeds.yaml whose section is titled title, or,
// with broken, one that is rejected (a section names an unknown source).
func reloadConfig(title string, broken bool) string {
	extra := ""
	if broken {
		extra = "  - id: broken\n    sources: [no-such-source]\n"
	}
	return fmt.Sprintf("sources:\n  - id: a\n    url: http://127.0.0.1:1/feed\nsections:\n  - id: all\n    title: %q\n    sources: [a]\n%s", title, extra)
}

// TestReloadsUnderLoad: feeds.yaml rewritten again and again, valid and
// broken in turn, while clients read the feeds without pause: every answer
// is a 200 or a 304 with a whole document, never an error, and each valid
// file applies while each broken one leaves the one before serving. The
// reloads go through serve's own watcher of the file.
func TestReloadsUnderLoad(t *testing.T) {
	rewrites := 20
	if testing.Short() {
		rewrites = 6
	}
	d := newTestDaemon(t, reloadConfig("Round 0", false))
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	items := make([]newsdesk.Item, 30)
	for i := range items {
		items[i] = newsdesk.Item{ID: fmt.Sprintf("a-%d", i), Title: fmt.Sprintf("Story %d", i), Link: fmt.Sprintf("https://a.example/%d", i),
			Published: t0.Add(time.Duration(i) * time.Minute), Summary: "<p>Words &amp; more words.</p>"}
	}
	if _, err := d.db.SaveFetch(newsdesk.FetchState{SourceID: "a", LastFetch: t0.Add(time.Hour), Result: newsdesk.ResultOK}, items, newsdesk.Retention{}); err != nil {
		t.Fatal(err)
	}
	if err := d.render(); err != nil {
		t.Fatal(err)
	}
	d.ready.Store(true)
	srv := httptest.NewServer(d.handler())
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	watcher, err := filewatch.New(d.path)
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { d.watch(ctx, watcher) })

	// The readers: every feed and page, conditional and not, until the
	// rewrites are done.
	var (
		answers atomic.Int64
		mu      sync.Mutex
		bad     []string
	)
	var readers sync.WaitGroup
	stop := make(chan struct{})
	stopReaders := sync.OnceFunc(func() {
		close(stop)
		readers.Wait()
	})
	defer stopReaders() // also when the test fails early
	paths := []string{"/sections/all.rss", "/sections/all.atom", "/sections/all.json", "/sections/all", "/", "/sections.opml"}
	for r := range 4 {
		readers.Go(func() {
			client := &http.Client{}
			etags := map[string]string{}
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := paths[i%len(paths)]
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				if i%3 == 0 && etags[path] != "" {
					req.Header.Set("If-None-Match", etags[path])
				}
				problem := checkAnswer(client, req)
				answers.Add(1)
				if problem != "" {
					mu.Lock()
					bad = append(bad, problem)
					mu.Unlock()
				}
				if resp, err := client.Head(srv.URL + path); err == nil {
					etags[path] = resp.Header.Get("ETag")
					resp.Body.Close()
				}
			}
		})
	}

	for k := 1; k <= rewrites; k++ {
		broken := k%2 == 0 && k != rewrites // the last one applies
		writeAtomically(t, d.path, reloadConfig(fmt.Sprintf("Round %d", k), broken))
		waitReloads(t, srv.URL, k)
		rss := get(t, srv.URL+"/sections/all.rss")
		health := get(t, srv.URL+"/healthz")
		applied := k
		if broken {
			applied = k - 1
			if !strings.HasPrefix(health, "degraded: ") {
				t.Errorf("rewrite %d (broken): /healthz = %q, want degraded", k, health)
			}
		} else if health != "ok\n" {
			t.Errorf("rewrite %d: /healthz = %q, want ok", k, health)
		}
		if want := fmt.Sprintf("<title>Round %d</title>", applied); !strings.Contains(rss, want) {
			t.Errorf("rewrite %d: all.rss has no %s: %.300s", k, want, rss)
		}
	}
	stopReaders()
	t.Logf("%d answers during %d rewrites", answers.Load(), rewrites)
	if n := answers.Load(); n < int64(rewrites) {
		t.Errorf("the readers got %d answers during %d rewrites, want them reading throughout", n, rewrites)
	}
	for i, p := range bad {
		if i == 10 {
			t.Errorf("... and %d more", len(bad)-10)
			break
		}
		t.Error(p)
	}
}

// checkAnswer does req and returns what is wrong with the answer, or "".
func checkAnswer(client *http.Client, req *http.Request) string {
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("GET %s: %v", req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return fmt.Sprintf("GET %s: reading the body: %v", req.URL.Path, err)
	case resp.StatusCode == http.StatusNotModified:
		return ""
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("GET %s = %d %.200q, want 200 or 304", req.URL.Path, resp.StatusCode, body)
	case strings.HasSuffix(req.URL.Path, ".json"):
		if !json.Valid(body) {
			return fmt.Sprintf("GET %s: not JSON: %.200q", req.URL.Path, body)
		}
	case strings.HasSuffix(req.URL.Path, ".rss"), strings.HasSuffix(req.URL.Path, ".atom"), strings.HasSuffix(req.URL.Path, ".opml"):
		if err := wellFormed(body); err != nil {
			return fmt.Sprintf("GET %s: not well-formed XML: %v", req.URL.Path, err)
		}
	case !bytes.Contains(body, []byte("</html>")):
		return fmt.Sprintf("GET %s: an unfinished page: %.200q", req.URL.Path, body)
	}
	return ""
}

// wellFormed reads an XML document to its end.
func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	elements := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if elements == 0 {
				return errors.New("no elements")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := tok.(xml.StartElement); ok {
			elements++
		}
	}
}

// writeAtomically replaces path as editors save: a new file renamed over it.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".feeds.yaml.new")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitReloads waits until serve's metrics count n reloads of the file,
// applied or rejected.
func waitReloads(t *testing.T, base string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		got := reloads(t, base)
		if got == n {
			return
		}
		if got > n {
			t.Fatalf("serve counts %d reloads, want %d: one file was reloaded twice", got, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve counts %d reloads 20s after rewrite %d", got, n)
		}
		time.Sleep(wait) // polling a real condition: the reload being counted
	}
}

// reloads is serve's count of reloads of the file from /metrics.
func reloads(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, m := range fams["newsdesk_config_reloads_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "trigger" && l.GetValue() == "file" {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}

// get returns the body of a GET of url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
