package publisher

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// newTestServer serves the fixture over real HTTP.
func newTestServer(t *testing.T) (*httptest.Server, *Server, *fakeStore) {
	t.Helper()
	st, cfg := fixture(t)
	s := NewServer(st, cfg, slog.New(slog.DiscardHandler))
	if err := s.Rebuild(); err != nil {
		t.Fatalf("Rebuild() error = %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, s, st
}

func do(t *testing.T, method, rawURL string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// urlPath maps a site path to the URL path it is served at.
func urlPath(path string) string {
	if path == "index.html" {
		return "/"
	}
	return "/" + path
}

func TestServeFiles(t *testing.T) {
	ts, s, _ := newTestServer(t)
	site := s.site.Load()
	tests := []struct {
		path, contentType, cacheControl, lastModified string
	}{
		{"/", "text/html; charset=utf-8", "public, max-age=300", "Thu, 20 Nov 2025 12:30:00 GMT"},
		{"/sections.opml", "text/x-opml; charset=utf-8", "public, max-age=300", ""},
		{"/sections/all.rss", "application/rss+xml; charset=utf-8", "public, max-age=1800", "Thu, 20 Nov 2025 12:30:00 GMT"},
		{"/sections/all.atom", "application/atom+xml; charset=utf-8", "public, max-age=1800", "Thu, 20 Nov 2025 12:30:00 GMT"},
		{"/sections/all.json", "application/feed+json", "public, max-age=1800", "Thu, 20 Nov 2025 12:30:00 GMT"},
		{"/sections/empty.json", "application/feed+json", "public, max-age=300", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, b := do(t, "GET", ts.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			path := strings.TrimPrefix(tt.path, "/")
			if path == "" {
				path = "index.html"
			}
			f, _ := site.File(path)
			for _, h := range []struct{ name, got, want string }{
				{"Content-Type", resp.Header.Get("Content-Type"), tt.contentType},
				{"Cache-Control", resp.Header.Get("Cache-Control"), tt.cacheControl},
				{"Last-Modified", resp.Header.Get("Last-Modified"), tt.lastModified},
				{"ETag", resp.Header.Get("ETag"), f.ETag},
			} {
				if h.got != h.want {
					t.Errorf("%s = %q, want %q", h.name, h.got, h.want)
				}
			}
			if !bytes.Equal(b, f.Body) {
				t.Errorf("body differs from the rendered file")
			}
		})
	}
}

func TestConditionalRequests(t *testing.T) {
	ts, s, _ := newTestServer(t)
	f, _ := s.site.Load().File("sections/all.atom")
	u := ts.URL + "/sections/all.atom"
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"matching etag", http.Header{"If-None-Match": {f.ETag}}, http.StatusNotModified},
		{"one of several etags", http.Header{"If-None-Match": {`"abc", ` + f.ETag}}, http.StatusNotModified},
		{"stale etag", http.Header{"If-None-Match": {`"0000000000000000"`}}, http.StatusOK},
		{"weak etag", http.Header{"If-None-Match": {"W/" + f.ETag}}, http.StatusNotModified},
		{"not modified since", http.Header{"If-Modified-Since": {"Thu, 20 Nov 2025 12:30:00 GMT"}}, http.StatusNotModified},
		{"later", http.Header{"If-Modified-Since": {"Fri, 21 Nov 2025 00:00:00 GMT"}}, http.StatusNotModified},
		{"modified since", http.Header{"If-Modified-Since": {"Thu, 20 Nov 2025 12:29:59 GMT"}}, http.StatusOK},
		// If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
		{"stale etag, not modified since", http.Header{
			"If-None-Match":     {`"0000000000000000"`},
			"If-Modified-Since": {"Fri, 21 Nov 2025 00:00:00 GMT"},
		}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, "GET", u, tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusNotModified {
				if len(b) != 0 {
					t.Errorf("304 has a body of %d bytes", len(b))
				}
				if got := resp.Header.Get("ETag"); got != f.ETag {
					t.Errorf("304 ETag = %q, want %q", got, f.ETag)
				}
				if got := resp.Header.Get("Cache-Control"); got != "public, max-age=1800" {
					t.Errorf("304 Cache-Control = %q", got)
				}
			}
		})
	}
}

func TestHead(t *testing.T) {
	ts, s, _ := newTestServer(t)
	f, _ := s.site.Load().File("sections/all.rss")
	resp, b := do(t, "HEAD", ts.URL+"/sections/all.rss", nil)
	if resp.StatusCode != http.StatusOK || len(b) != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and none", resp.StatusCode, len(b))
	}
	if resp.ContentLength != int64(len(f.Body)) {
		t.Errorf("HEAD Content-Length = %d, want %d", resp.ContentLength, len(f.Body))
	}
	if got := resp.Header.Get("ETag"); got != f.ETag {
		t.Errorf("HEAD ETag = %q, want %q", got, f.ETag)
	}
}

func TestNotFound(t *testing.T) {
	ts, _, _ := newTestServer(t)
	for _, path := range []string{
		"/sections/..%2Fetc.rss",
		"/sections/..%2F..%2Fetc%2Fpasswd",
		"/sections/%00.rss",
		"/sections/all%00.rss",
		"/sections/nope.rss",
		"/sections/all.xml",
		"/sections/all",
		"/sections/ALL.rss",
		"/sections/all.rss/",
		"/sections/",
		"/sections/a/b.rss",
		"/sections/.rss",
		"/index.html",
		"/favicon.ico",
		"/sections.opml/x",
		"//sections/all.rss",
	} {
		resp, _ := do(t, "GET", ts.URL+path, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ts, _, _ := newTestServer(t)
	for _, method := range []string{"POST", "PUT", "DELETE", "OPTIONS", "PATCH"} {
		for _, path := range []string{"/", "/sections/all.rss", "/healthz"} {
			resp, _ := do(t, method, ts.URL+path, nil)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status = %d, want 405", method, path, resp.StatusCode)
			}
			if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow = %q, want %q", method, path, got, "GET, HEAD")
			}
		}
	}
}

func TestHealthz(t *testing.T) {
	ts, _, st := newTestServer(t)
	resp, b := do(t, "GET", ts.URL+"/healthz", nil)
	if resp.StatusCode != http.StatusOK || string(b) != "ok" {
		t.Errorf("healthz = %d %q, want 200 \"ok\"", resp.StatusCode, b)
	}
	st.err = errors.New("database is locked")
	resp, b = do(t, "GET", ts.URL+"/healthz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "database is locked") {
		t.Errorf("healthz with a failing store = %d %q, want 503 with the error", resp.StatusCode, b)
	}
}

func TestIndexAutodiscovery(t *testing.T) {
	ts, _, _ := newTestServer(t)
	_, b := do(t, "GET", ts.URL+"/", nil)
	links := regexp.MustCompile(`<link rel="alternate" type="([^"]+)" title="([^"]+)" href="([^"]+)">`).FindAllStringSubmatch(string(b), -1)
	var got []string
	for _, l := range links {
		u, err := url.Parse(l[3])
		if err != nil || !u.IsAbs() {
			t.Errorf("autodiscovery href %q is not an absolute URL", l[3])
		}
		got = append(got, l[1]+" "+l[3])
	}
	want := []string{
		"application/rss+xml http://localhost:8080/sections/all.rss",
		"application/atom+xml http://localhost:8080/sections/all.atom",
		"application/feed+json http://localhost:8080/sections/all.json",
		"application/rss+xml http://localhost:8080/sections/empty.rss",
		"application/atom+xml http://localhost:8080/sections/empty.atom",
		"application/feed+json http://localhost:8080/sections/empty.json",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("autodiscovery links =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, want := range []string{`href="sections.opml"`, "3 items", "0 items", "<script"} {
		if has := strings.Contains(string(b), want); has != (want != "<script") {
			t.Errorf("index page: contains %q = %v", want, has)
		}
	}
}

// TestWriteDirMatchesServer checks that the static export holds the bytes
// the server sends.
func TestWriteDirMatchesServer(t *testing.T) {
	ts, s, _ := newTestServer(t)
	site := s.site.Load()
	dir := t.TempDir()
	if err := site.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, path := range site.Paths() {
		file, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		_, served := do(t, "GET", ts.URL+urlPath(path), nil)
		if !bytes.Equal(file, served) {
			t.Errorf("%s: file (%d bytes) differs from the body served at %s (%d bytes)", path, len(file), urlPath(path), len(served))
		}
	}
}

func TestRebuild(t *testing.T) {
	st, cfg := fixture(t)
	s := NewServer(st, cfg, nil)
	ts := httptest.NewServer(s)
	defer ts.Close()

	if resp, _ := do(t, "GET", ts.URL+"/sections/all.rss", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before the first Rebuild: status = %d, want 503", resp.StatusCode)
	}
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, "GET", ts.URL+"/sections/all.rss", nil)
	etag := resp.Header.Get("ETag")

	// Nothing changed: same ETag.
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/all.rss", nil); resp.Header.Get("ETag") != etag {
		t.Errorf("ETag changed to %s without a change, was %s", resp.Header.Get("ETag"), etag)
	}

	// A new item: new ETag and Last-Modified.
	it := st.items[1]
	it.ID, it.Published, it.Updated = "episode-43", date("2025-11-22T08:00:00Z"), time.Time{}
	st.items = append(st.items, it)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	resp, _ = do(t, "GET", ts.URL+"/sections/all.rss", nil)
	if resp.Header.Get("ETag") == etag {
		t.Errorf("ETag unchanged after a new item")
	}
	if got, want := resp.Header.Get("Last-Modified"), "Sat, 22 Nov 2025 08:00:00 GMT"; got != want {
		t.Errorf("Last-Modified = %q, want %q", got, want)
	}

	// A new config: the next Rebuild uses it, a failing one keeps the old site.
	cfg.Sections = cfg.Sections[:1]
	cfg.Sections[0].Title = "Renamed"
	s.SetConfig(cfg)
	cfg.Sections[0].Title = "changed after SetConfig"
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/empty.rss", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("removed section: status = %d, want 404", resp.StatusCode)
	}
	if _, b := do(t, "GET", ts.URL+"/sections/all.json", nil); !strings.Contains(string(b), `"title": "Renamed"`) {
		t.Errorf("title not updated by SetConfig:\n%s", b)
	}
	st.err = errors.New("disk on fire")
	if err := s.Rebuild(); err == nil {
		t.Errorf("Rebuild() with a failing store: no error")
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/all.json", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after a failed Rebuild: status = %d, want 200 from the old site", resp.StatusCode)
	}
}

// TestConcurrentRebuild runs Rebuild while requests are served; go test
// -race checks the swap.
func TestConcurrentRebuild(t *testing.T) {
	ts, s, _ := newTestServer(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if err := s.Rebuild(); err != nil {
				t.Error(err)
			}
		}
	}()
	for range 20 {
		if resp, _ := do(t, "GET", ts.URL+"/sections/all.atom", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d during rebuilds", resp.StatusCode)
		}
	}
	<-done
}

func TestSitePath(t *testing.T) {
	tests := []struct {
		urlPath, want string
		ok            bool
	}{
		{"/", "index.html", true},
		{"/sections.opml", "sections.opml", true},
		{"/sections/all.rss", "sections/all.rss", true},
		{"/sections/a_b-9.atom", "sections/a_b-9.atom", true},
		{"/sections/" + strings.Repeat("a", 64) + ".json", "sections/" + strings.Repeat("a", 64) + ".json", true},
		{"/sections/" + strings.Repeat("a", 65) + ".json", "", false},
		{"/sections/../etc.rss", "", false}, // what "..%2Fetc.rss" decodes to
		{"/sections/\x00.rss", "", false},
		{"/sections/-x.rss", "", false},
		{"/sections/x.rss.rss", "", false},
		{"/sections/x.RSS", "", false},
		{"/healthz", "", false}, // handled before sitePath
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := sitePath(tt.urlPath)
		if got != tt.want || ok != tt.ok {
			t.Errorf("sitePath(%q) = %q, %v; want %q, %v", tt.urlPath, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzSitePath checks that no URL path maps outside the site's file names.
func FuzzSitePath(f *testing.F) {
	for _, s := range []string{"/", "/sections/all.rss", "/sections/../x.atom", "/sections/a/b.json", "/sections/\x00.rss"} {
		f.Add(s)
	}
	valid := regexp.MustCompile(`^(index\.html|sections\.opml|sections/[a-z0-9][a-z0-9_-]{0,63}\.(rss|atom|json))$`)
	f.Fuzz(func(t *testing.T, urlPath string) {
		got, ok := sitePath(urlPath)
		if ok && !valid.MatchString(got) {
			t.Errorf("sitePath(%q) = %q, outside the site", urlPath, got)
		}
	})
}
