package publisher

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// benchSite is a 50-item section "bench" of made-up but varied text (so it
// compresses like real prose, not like a repeated word), served by a Server
// and exported to a directory.
func benchSite(b *testing.B) (*Server, string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 3000)
	for i := range vocab {
		n := 2 + rng.IntN(9)
		w := make([]byte, n)
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = string(w)
	}
	text := func(n int) string {
		words := make([]string, n)
		for i := range words {
			words[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(words, " ")
	}
	start := date("2025-11-20T12:00:00Z")
	st := &fakeStore{}
	for i := range 50 {
		link := fmt.Sprintf("https://news.example/2025/11/story-%d", i)
		st.items = append(st.items, newsdesk.Item{
			SourceID:  "news",
			ID:        link,
			Title:     text(9),
			Link:      link,
			Summary:   "<p>" + text(40) + ".</p>",
			Content:   "<p>" + text(250) + ".</p>",
			Authors:   []newsdesk.Person{{Name: "Staff reporter"}},
			Published: start.Add(-time.Duration(i) * time.Hour),
		})
	}
	cfg := Config{
		BaseURL:  "http://localhost:8080/",
		Sources:  []newsdesk.Source{{ID: "news", URL: "https://news.example/feed", Interval: 15 * time.Minute}},
		Sections: []newsdesk.Section{{ID: "bench", Title: "Bench", Sources: []string{"news"}}},
		Now:      func() time.Time { return start },
	}
	s := NewServer(st, cfg, nil)
	if err := s.Rebuild(); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := s.site.Load().WriteDir(dir); err != nil {
		b.Fatal(err)
	}
	return s, dir
}

// discardWriter is the least a ResponseWriter can be, so that allocs/op are
// the handler's own. Its header map is cleared, not replaced, between
// requests, as net/http's is not reused: the handler's assignments count.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkServe measures Server.ServeHTTP alone for the Atom feed of a
// 50-item section.
func BenchmarkServe(b *testing.B) {
	s, _ := benchSite(b)
	f, _ := s.site.Load().fileAt("sections/bench.atom")
	for _, bc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"200-identity", http.Header{}, 200},
		{"200-gzip", http.Header{"Accept-Encoding": {"gzip, deflate, br"}}, 200},
		{"304-if-none-match", http.Header{"Accept-Encoding": {"gzip, deflate, br"}, "If-None-Match": {f.GzipETag}}, 304},
		{"304-if-modified-since", http.Header{"If-Modified-Since": {f.LastModified.Format(http.TimeFormat)}}, 304},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/sections/bench.atom", nil)
			r.Header = bc.header
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				s.ServeHTTP(w, r)
			}
			if w.status != bc.want {
				b.Fatalf("status = %d, want %d", w.status, bc.want)
			}
		})
	}
}

// BenchmarkServeLoopback measures whole HTTP requests over loopback with
// keep-alive, from as many client goroutines as GOMAXPROCS, for Server and
// for http.FileServer serving the export of the same section: its .gz file
// stands for a gzip answer, and If-Modified-Since for a 304 (FileServer
// sends no ETag).
func BenchmarkServeLoopback(b *testing.B) {
	s, dir := benchSite(b)
	f, _ := s.site.Load().fileAt("sections/bench.atom")
	ours := httptest.NewServer(s)
	defer ours.Close()
	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer files.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()

	gzip := http.Header{"Accept-Encoding": {"gzip"}}
	for _, bc := range []struct {
		name, url string
		header    http.Header
		want      int
	}{
		{"newsdesk/200-gzip", ours.URL + "/sections/bench.atom", gzip, 200},
		{"fileserver/200-gzip", files.URL + "/sections/bench.atom.gz", gzip, 200},
		{"newsdesk/200-identity", ours.URL + "/sections/bench.atom", nil, 200},
		{"fileserver/200-identity", files.URL + "/sections/bench.atom", nil, 200},
		{"newsdesk/304", ours.URL + "/sections/bench.atom", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {f.GzipETag}}, 304},
		{"fileserver/304", files.URL + "/sections/bench.atom", http.Header{"If-Modified-Since": {f.LastModified.Format(http.TimeFormat)}}, 304},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, err := http.NewRequest("GET", bc.url, nil)
					if err != nil {
						b.Error(err)
						return
					}
					for k, v := range bc.header {
						req.Header[k] = v
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != bc.want {
						b.Errorf("status = %d, want %d", resp.StatusCode, bc.want)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkRebuildSections measures what a fetch that changed one 50-item
// section costs: its three feeds and its page rendered and compressed, and
// the index page and OPML list again.
func BenchmarkRebuildSections(b *testing.B) {
	s, _ := benchSite(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.RebuildSections("bench"); err != nil {
			b.Fatal(err)
		}
	}
}
