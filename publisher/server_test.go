package publisher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
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

// client asks for no encoding unless a test says so: Go's default transport
// would ask for gzip and hide the answer's Content-Encoding and ETag form.
var client = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func do(t *testing.T, method, rawURL string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
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
		// The index changes with the configuration too, which no version
		// dates: it has an ETag only.
		{"/", "text/html; charset=utf-8", "public, max-age=300", ""},
		{"/sections.opml", "text/x-opml; charset=utf-8", "public, max-age=300", ""},
		{"/sections/all.rss", "application/rss+xml; charset=utf-8", "public, max-age=1800", "Sat, 22 Nov 2025 00:00:00 GMT"},
		{"/sections/all.atom", "application/atom+xml; charset=utf-8", "public, max-age=1800", "Sat, 22 Nov 2025 00:00:00 GMT"},
		{"/sections/all.json", "application/feed+json", "public, max-age=1800", "Sat, 22 Nov 2025 00:00:00 GMT"},
		{"/sections/empty.json", "application/feed+json", "public, max-age=300", "Sat, 22 Nov 2025 00:00:00 GMT"},
		{"/sections/all", "text/html; charset=utf-8", "public, max-age=1800", "Sat, 22 Nov 2025 00:00:00 GMT"},
		{"/sections/all.html", "text/html; charset=utf-8", "public, max-age=1800", "Sat, 22 Nov 2025 00:00:00 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, b := do(t, "GET", ts.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			path, _ := sitePath(tt.path)
			f, _ := site.fileAt(path)
			for _, h := range []struct{ name, got, want string }{
				{"Content-Type", resp.Header.Get("Content-Type"), tt.contentType},
				{"Cache-Control", resp.Header.Get("Cache-Control"), tt.cacheControl},
				{"Last-Modified", resp.Header.Get("Last-Modified"), tt.lastModified},
				{"ETag", resp.Header.Get("ETag"), f.ETag},
				{"Vary", resp.Header.Get("Vary"), "Accept-Encoding"},
				{"Content-Encoding", resp.Header.Get("Content-Encoding"), ""},
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
	f, _ := s.site.Load().fileAt("sections/all.atom")
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
		{"not modified since", http.Header{"If-Modified-Since": {"Sat, 22 Nov 2025 00:00:00 GMT"}}, http.StatusNotModified},
		{"later", http.Header{"If-Modified-Since": {"Sun, 23 Nov 2025 00:00:00 GMT"}}, http.StatusNotModified},
		{"modified since", http.Header{"If-Modified-Since": {"Fri, 21 Nov 2025 23:59:59 GMT"}}, http.StatusOK},
		// If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
		{"stale etag, not modified since", http.Header{
			"If-None-Match":     {`"0000000000000000"`},
			"If-Modified-Since": {"Sun, 23 Nov 2025 00:00:00 GMT"},
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
	f, _ := s.site.Load().fileAt("sections/all.rss")
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
		"/sections/nope",
		"/sections/all.xml",
		"/sections/all.htm",
		"/sections/all.html/",
		"/sections/all.html.gz",
		"/sections/secret",
		"/sections/secret.rss",
		"/sections/secret.html",
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
		for _, path := range []string{"/", "/sections/all.rss"} {
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
		for _, enc := range []string{"identity", "gzip"} {
			name := filepath.Join(dir, filepath.FromSlash(path))
			if enc == "gzip" {
				name += ".gz"
			}
			file, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			_, served := do(t, "GET", ts.URL+urlPath(path), http.Header{"Accept-Encoding": {enc}})
			if !bytes.Equal(file, served) {
				t.Errorf("%s: file (%d bytes) differs from the %s body served at %s (%d bytes)", name, len(file), enc, urlPath(path), len(served))
			}
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
	resp, body := do(t, "GET", ts.URL+"/sections/all.rss", nil)
	etag := resp.Header.Get("ETag")
	counts := s.ItemCounts()
	if n := strings.Count(string(body), "<item>"); n == 0 || counts["all"] != n || counts["empty"] != 0 {
		t.Errorf("ItemCounts() = %v, want all=%d (the items served) and empty=0", counts, n)
	}

	// Nothing changed: same ETag.
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/all.rss", nil); resp.Header.Get("ETag") != etag {
		t.Errorf("ETag changed to %s without a change, was %s", resp.Header.Get("ETag"), etag)
	}

	// A new item: new ETag. The fixture's clock stands still, so the new
	// version is in the same second as the old: the same Last-Modified,
	// which therefore no longer answers If-Modified-Since with 304.
	it := st.items[1]
	it.ID, it.Published, it.Updated = "episode-43", date("2025-11-22T08:00:00Z"), time.Time{}
	st.add(it)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	resp, _ = do(t, "GET", ts.URL+"/sections/all.rss", nil)
	if resp.Header.Get("ETag") == etag {
		t.Errorf("ETag unchanged after a new item")
	}
	if got, want := resp.Header.Get("Last-Modified"), "Sat, 22 Nov 2025 00:00:00 GMT"; got != want {
		t.Errorf("Last-Modified = %q, want %q", got, want)
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/all.rss", http.Header{"If-Modified-Since": {"Sat, 22 Nov 2025 00:00:00 GMT"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("If-Modified-Since the old version's second, after a change in that second: status %d, want 200", resp.StatusCode)
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
	st.setErr(errors.New("disk on fire"))
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
		for i := range 20 {
			rebuild := s.Rebuild
			if i%2 == 1 {
				rebuild = func() error { return s.RebuildSections("all") }
			}
			if err := rebuild(); err != nil {
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
		{"/sections/all", "sections/all.html", true},
		{"/sections/all.html", "sections/all.html", true},
		{"/sections/all.html.html", "", false},
		{"/sections/", "", false},
		{"/sections/_x", "", false},
		{"/sections/" + strings.Repeat("a", 64) + ".json", "sections/" + strings.Repeat("a", 64) + ".json", true},
		{"/sections/" + strings.Repeat("a", 65) + ".json", "", false},
		{"/sections/../etc.rss", "", false}, // what "..%2Fetc.rss" decodes to
		{"/sections/\x00.rss", "", false},
		{"/sections/-x.rss", "", false},
		{"/sections/x.rss.rss", "", false},
		{"/sections/x.RSS", "", false},
		{"/healthz", "", false}, // the daemon's, not the site's
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
	valid := regexp.MustCompile(`^(index\.html|sections\.opml|sections/[a-z0-9][a-z0-9_-]{0,63}\.(rss|atom|json|html))$`)
	f.Fuzz(func(t *testing.T, urlPath string) {
		got, ok := sitePath(urlPath)
		if ok && !valid.MatchString(got) {
			t.Errorf("sitePath(%q) = %q, outside the site", urlPath, got)
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"gzip", true},
		{"GZIP", true},
		{"x-gzip", true},
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
		{"gzip ; q=0.5", true},
		{"gzip;q=0.001", true},
		{"gzip;Q=1", true},
		{"*", true},
		{"deflate, *;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip;q=0.", false},
		{"gzip;q=0.000", false},
		{"gzip; q=0, *", false},
		{"*;q=0", false},
		{"*, gzip;q=0", false},
		{"identity", false},
		{"deflate, br", false},
		{"", false},
		{"gzipx", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip([]string{tt.header}); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
	if !acceptsGzip([]string{"br", "gzip"}) {
		t.Errorf("acceptsGzip of two header lines: gzip in the second not seen")
	}
}

func TestGzip(t *testing.T) {
	ts, s, _ := newTestServer(t)
	for _, path := range []string{"index.html", "sections.opml", "sections/all.rss", "sections/all.atom", "sections/all.json", "sections/all.html"} {
		t.Run(path, func(t *testing.T) {
			f, _ := s.site.Load().fileAt(path)
			resp, b := do(t, "GET", ts.URL+urlPath(path), http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
			for _, h := range []struct{ name, got, want string }{
				{"Content-Encoding", resp.Header.Get("Content-Encoding"), "gzip"},
				{"Vary", resp.Header.Get("Vary"), "Accept-Encoding"},
				{"ETag", resp.Header.Get("ETag"), f.GzipETag},
				{"Content-Type", resp.Header.Get("Content-Type"), f.ContentType},
			} {
				if h.got != h.want {
					t.Errorf("%s = %q, want %q", h.name, h.got, h.want)
				}
			}
			if resp.ContentLength != int64(len(f.Gzip)) {
				t.Errorf("Content-Length = %d, want %d", resp.ContentLength, len(f.Gzip))
			}
			if !bytes.Equal(gunzip(t, b), f.Body) {
				t.Errorf("gzip body does not decompress to the file")
			}

			// HEAD: the gzip answer's headers, no body.
			resp, b = do(t, "HEAD", ts.URL+urlPath(path), http.Header{"Accept-Encoding": {"gzip"}})
			if len(b) != 0 || resp.ContentLength != int64(len(f.Gzip)) || resp.Header.Get("ETag") != f.GzipETag {
				t.Errorf("HEAD: %d body bytes, Content-Length %d, ETag %s; want none, %d, %s",
					len(b), resp.ContentLength, resp.Header.Get("ETag"), len(f.Gzip), f.GzipETag)
			}
		})
	}
}

func TestGzipConditional(t *testing.T) {
	ts, s, _ := newTestServer(t)
	f, _ := s.site.Load().fileAt("sections/all.atom")
	u := ts.URL + "/sections/all.atom"
	tests := []struct {
		name, acceptEncoding, ifNoneMatch string
		want                              int
		wantETag                          string
	}{
		{"gzip etag", "gzip", f.GzipETag, http.StatusNotModified, f.GzipETag},
		{"weak gzip etag", "gzip", "W/" + f.GzipETag, http.StatusNotModified, f.GzipETag},
		// The client holds the identity body, which is just as current.
		{"identity etag, gzip accepted", "gzip", f.ETag, http.StatusNotModified, f.ETag},
		{"gzip etag, identity asked", "identity", f.GzipETag, http.StatusNotModified, f.GzipETag},
		{"both in a list", "gzip", `"x", W/` + f.GzipETag + `, ` + f.ETag, http.StatusNotModified, f.GzipETag},
		{"star", "gzip", "*", http.StatusNotModified, f.ETag},
		{"stale", "gzip", `"0000000000000000-gz"`, http.StatusOK, f.GzipETag},
		{"prefix of the etag", "gzip", strings.TrimSuffix(f.ETag, `"`), http.StatusOK, f.GzipETag},
		{"garbage", "gzip", `abc, "`, http.StatusOK, f.GzipETag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, "GET", u, http.Header{"Accept-Encoding": {tt.acceptEncoding}, "If-None-Match": {tt.ifNoneMatch}})
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if got := resp.Header.Get("ETag"); got != tt.wantETag {
				t.Errorf("ETag = %s, want %s", got, tt.wantETag)
			}
			if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}
			if tt.want == http.StatusNotModified {
				if len(b) != 0 {
					t.Errorf("304 has a body of %d bytes", len(b))
				}
				if got := resp.Header.Get("Cache-Control"); got != "public, max-age=1800" {
					t.Errorf("304 Cache-Control = %q", got)
				}
			}
		})
	}
}

func TestRange(t *testing.T) {
	ts, s, _ := newTestServer(t)
	f, _ := s.site.Load().fileAt("sections/all.rss")
	resp, b := do(t, "GET", ts.URL+"/sections/all.rss", http.Header{"Range": {"bytes=0-9"}})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, f.Body[:10]) {
		t.Errorf("identity range: %d %q, want 206 %q", resp.StatusCode, b, f.Body[:10])
	}
	resp, b = do(t, "GET", ts.URL+"/sections/all.rss", http.Header{"Range": {"bytes=0-9"}, "Accept-Encoding": {"gzip"}})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, f.Gzip) {
		t.Errorf("gzip range: %d, %d bytes, want 200 and the whole gzip body", resp.StatusCode, len(b))
	}
}

func TestPrivateSection(t *testing.T) {
	ts, s, _ := newTestServer(t)
	site := s.site.Load()
	rss, _ := site.fileAt("sections/secret.rss")
	q := "?token=" + url.QueryEscape(testToken)
	tests := []struct {
		name, method, path string
		header             http.Header
		want               int
	}{
		{"no token", "GET", "/sections/secret.rss", nil, 404},
		{"no token, HEAD", "HEAD", "/sections/secret.rss", nil, 404},
		{"no token, probing the etag", "GET", "/sections/secret.rss", http.Header{"If-None-Match": {rss.ETag}}, 404},
		{"no token, probing the gzip etag", "GET", "/sections/secret.rss", http.Header{"If-None-Match": {rss.GzipETag}, "Accept-Encoding": {"gzip"}}, 404},
		{"no token, probing the date", "GET", "/sections/secret.rss", http.Header{"If-Modified-Since": {"Fri, 21 Nov 2025 00:00:00 GMT"}}, 404},
		{"empty token", "GET", "/sections/secret.rss?token=", nil, 404},
		{"wrong token", "GET", "/sections/secret.rss?token=open+sesame", nil, 404},
		{"token of another param", "GET", "/sections/secret.rss?t=" + url.QueryEscape(testToken), nil, 404},
		{"page without token", "GET", "/sections/secret", nil, 404},
		{"token", "GET", "/sections/secret.rss" + q, nil, 200},
		{"token, HEAD", "HEAD", "/sections/secret.rss" + q, nil, 200},
		{"token, etag", "GET", "/sections/secret.rss" + q, http.Header{"If-None-Match": {rss.ETag}}, 304},
		{"token, page", "GET", "/sections/secret" + q, nil, 200},
		{"token, page.html", "GET", "/sections/secret.html" + q, nil, 200},
		{"token, atom", "GET", "/sections/secret.atom" + q, nil, 200},
		{"token, json", "GET", "/sections/secret.json" + q, nil, 200},
		{"token, POST", "POST", "/sections/secret.json" + q, nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, tt.method, ts.URL+tt.path, tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 404 && (bytes.Contains(b, []byte("Sports")) || resp.Header.Get("ETag") != "") {
				t.Errorf("404 gives the private section away: ETag %q, body %q", resp.Header.Get("ETag"), b)
			}
			if tt.want == 200 || tt.want == 304 {
				if got := resp.Header.Get("Cache-Control"); got != "private, max-age=1800" {
					t.Errorf("Cache-Control = %q, want private", got)
				}
			}
		})
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/secret"+q, nil); resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("private page Referrer-Policy = %q, want no-referrer: the token is in its URL", resp.Header.Get("Referrer-Policy"))
	}
	if resp, b := do(t, "GET", ts.URL+"/sections/secret.rss"+q, nil); !bytes.Equal(b, rss.Body) || resp.Header.Get("ETag") != rss.ETag {
		t.Errorf("private feed with its token: body or ETag differs from the rendered file")
	}
}

func TestPrivateLists(t *testing.T) {
	ts, s, _ := newTestServer(t)
	q := "?token=" + url.QueryEscape(testToken)
	public, _ := s.site.Load().fileAt("index.html")
	for _, path := range []string{"/", "/sections.opml", "/?token=wrong", "/sections.opml?token=wrong", "/?token="} {
		resp, b := do(t, "GET", ts.URL+path, nil)
		if resp.StatusCode != 200 || bytes.Contains(b, []byte("secret")) || bytes.Contains(b, []byte("Newsroom")) {
			t.Errorf("GET %s: %d, lists the private section: %v", path, resp.StatusCode, bytes.Contains(b, []byte("secret")))
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=300" {
			t.Errorf("GET %s: Cache-Control = %q", path, got)
		}
	}
	resp, b := do(t, "GET", ts.URL+"/"+q, nil)
	index := string(b)
	esc := "open&#43;sesame%2B42%2Fx" // the token as html/template writes it in an attribute
	for _, want := range []string{
		`<h2><a href="sections/secret.html?token=` + esc + `">Newsroom</a> <span class="tag">private</span></h2>`,
		`<a href="sections/secret.rss?token=` + esc + `">RSS</a>`,
		`href="http://localhost:8080/sections/secret.atom?token=` + esc + `"`,
		`<a href="sections.opml?token=` + esc + `">`,
		`<a href="sections/all.html">`,
		`<meta name="referrer" content="no-referrer">`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index with the token lacks %s", want)
		}
	}
	if resp.Header.Get("ETag") == public.ETag || resp.Header.Get("Cache-Control") != "private, max-age=300" {
		t.Errorf("index with the token: ETag %s (public %s), Cache-Control %q", resp.Header.Get("ETag"), public.ETag, resp.Header.Get("Cache-Control"))
	}
	if got := resp.Header.Get("Last-Modified"); got != "" {
		t.Errorf("index with the token: Last-Modified = %q, want none (an index has an ETag only)", got)
	}
	_, b = do(t, "GET", ts.URL+"/sections.opml"+q, nil)
	if want := `xmlUrl="http://localhost:8080/sections/secret.rss?token=open+sesame%2B42%2Fx"`; !strings.Contains(string(b), want) {
		t.Errorf("OPML with the token lacks %s:\n%s", want, b)
	}
	// The public index's ETag does not answer 304 for the token holder's.
	if resp, _ := do(t, "GET", ts.URL+"/"+q, http.Header{"If-None-Match": {public.ETag}}); resp.StatusCode != 200 {
		t.Errorf("token index with the public ETag: %d, want 200", resp.StatusCode)
	}
}

// TestSelfLinks serves the site at the base URL it was rendered for and
// checks each feed against the rules a validator checks, its self link
// against the URL it was fetched from.
func TestSelfLinks(t *testing.T) {
	st, cfg := fixture(t)
	s := NewServer(st, cfg, nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	cfg.BaseURL = ts.URL + "/"
	s.SetConfig(cfg)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	q := "?token=" + url.QueryEscape(testToken)
	for _, u := range []string{"/sections/all", "/sections/empty", "/sections/secret"} {
		for _, ext := range []string{".rss", ".atom", ".json"} {
			self := ts.URL + u + ext
			if strings.Contains(u, "secret") {
				self += q
			}
			resp, b := do(t, "GET", self, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", self, resp.StatusCode)
			}
			switch ext {
			case ".rss":
				checkRSS(t, self, b, self)
			case ".atom":
				checkAtom(t, self, b, self)
			case ".json":
				checkJSONFeed(t, self, b, self)
			}
		}
	}
}

func TestRebuildSections(t *testing.T) {
	ts, s, st := newTestServer(t)
	old := s.site.Load()

	// A new story from acme: it goes to "all" (and is not sports).
	it := st.items[0]
	it.ID, it.Link, it.Title = "https://acme.example/2025/11/new", "https://acme.example/2025/11/new", "New story"
	it.Published, it.Updated = date("2025-11-21T06:00:00Z"), date("2025-11-21T06:00:00Z")
	st.add(it)
	if err := s.RebuildSections("all", "all"); err != nil {
		t.Fatalf("RebuildSections() error = %v", err)
	}
	cur := s.site.Load()
	for path, f := range cur.files {
		changed := strings.HasPrefix(path, "sections/all.") || path == "index.html" || path == "sections.opml"
		if shared := f == old.files[path]; shared == changed {
			t.Errorf("%s: shared with the old site = %v, want %v", path, shared, !changed)
		}
	}
	if len(cur.files) != len(old.files) {
		t.Errorf("%d files, was %d", len(cur.files), len(old.files))
	}
	_, b := do(t, "GET", ts.URL+"/", nil)
	if !strings.Contains(string(b), "4 items · updated <time datetime=\"2025-11-22T00:00:00Z\">") {
		t.Errorf("index not updated with the new count and date:\n%s", b)
	}
	if resp, b := do(t, "GET", ts.URL+"/sections/all.json", nil); !strings.Contains(string(b), "New story") ||
		resp.Header.Get("Last-Modified") != "Sat, 22 Nov 2025 00:00:00 GMT" {
		t.Errorf("all.json lacks the new story or its date (Last-Modified %s)", resp.Header.Get("Last-Modified"))
	}
	// Rendering a section anew is the same as rendering everything.
	full, err := Render(st, *s.cfg.Load())
	if err != nil {
		t.Fatal(err)
	}
	for path, f := range full.files {
		if !bytes.Equal(f.Body, cur.files[path].Body) {
			t.Errorf("%s: partial and full renders differ", path)
		}
	}

	if err := s.RebuildSections("nope"); !errors.Is(err, newsdesk.ErrNotFound) {
		t.Errorf("RebuildSections(nope) error = %v, want ErrNotFound", err)
	}
	if s.site.Load() != cur {
		t.Errorf("a failed RebuildSections replaced the site")
	}
	st.setErr(errors.New("disk on fire"))
	if err := s.RebuildSections("all"); err == nil || s.site.Load() != cur {
		t.Errorf("RebuildSections with a failing store: error %v, site replaced %v", err, s.site.Load() != cur)
	}
	st.setErr(nil)

	// After SetConfig it renders everything: the removed section is gone.
	cfg := *s.cfg.Load()
	cfg.Sections = cfg.Sections[:1]
	s.SetConfig(cfg)
	if err := s.RebuildSections("all"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "GET", ts.URL+"/sections/empty.rss", nil); resp.StatusCode != 404 {
		t.Errorf("section removed by SetConfig: %d, want 404", resp.StatusCode)
	}
}

func TestRebuildSectionsFirst(t *testing.T) {
	st, cfg := fixture(t)
	s := NewServer(st, cfg, nil)
	if err := s.RebuildSections("empty"); err != nil {
		t.Fatal(err)
	}
	if got, want := s.site.Load().Paths(), render(t).Paths(); !slices.Equal(got, want) {
		t.Errorf("first RebuildSections rendered %q, want everything: %q", got, want)
	}
}

// TestRebuildSectionsConcurrent adds items to two sections from many
// goroutines, each rebuilding its section; none may be lost.
func TestRebuildSectionsConcurrent(t *testing.T) {
	st, cfg := fixture(t)
	cfg.Sections[0].Limit = 100
	cfg.Sections = append(cfg.Sections, newsdesk.Section{ID: "other", Sources: []string{"other"}, Limit: 100})
	s := NewServer(st, cfg, nil)
	if err := s.Rebuild(); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			source, section := "blog", "all"
			if i%2 == 1 {
				source, section = "other", "other"
			}
			st.add(newsdesk.Item{
				SourceID:  source,
				ID:        fmt.Sprintf("story-%d", i),
				Title:     fmt.Sprintf("Story %d", i),
				Published: date("2025-11-21T00:00:00Z").Add(time.Duration(i) * time.Minute),
			})
			if err := s.RebuildSections(section); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	site := s.site.Load()
	for i := range n {
		section := "all"
		if i%2 == 1 {
			section = "other"
		}
		f, _ := site.fileAt("sections/" + section + ".json")
		if !bytes.Contains(f.Body, []byte(fmt.Sprintf(`"Story %d"`, i))) {
			t.Errorf("Story %d lost from %s", i, section)
		}
	}
	index, _ := site.fileAt("index.html")
	if !bytes.Contains(index.Body, []byte("11 items")) || !bytes.Contains(index.Body, []byte("8 items")) {
		t.Errorf("index counts not 11 and 8:\n%s", index.Body)
	}
}
