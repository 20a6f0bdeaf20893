package fetcher

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

func testdataArticle(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "articles", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFetchPage checks one page request: its headers, a redirect, the
// charset from <meta>, and the errors a page can end in.
func TestFetchPage(t *testing.T) {
	o := newOrigin(t)
	html := http.Header{"Content-Type": {"text/html"}}
	o.on("/a/1", serve(testdataArticle(t, "moscowtimes.html"), http.Header{"Content-Type": {"text/html; charset=utf-8"}}))
	o.on("/a/1251", serve(testdataArticle(t, "cp1251.html"), html))
	o.on("/old", redirect(http.StatusMovedPermanently, "/a/1"))
	o.on("/pdf", serve([]byte("%PDF-1.4"), http.Header{"Content-Type": {"application/pdf"}}))
	o.on("/busy", status(http.StatusTooManyRequests, http.Header{"Retry-After": {"120"}}))
	o.on("/slow", hang)
	c := NewClient(testUA)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	src := newsdesk.Source{ID: "mt", URL: o.url("/rss"), Timeout: 300 * time.Millisecond}
	ctx := context.Background()

	p, err := c.FetchPage(ctx, src, newsdesk.FetchState{}, o.url("/old"))
	if err != nil {
		t.Fatalf("FetchPage(/old) error = %v", err)
	}
	if p.URL.Path != "/a/1" || !strings.Contains(string(p.Body), "The Kremlin said on Tuesday") {
		t.Errorf("FetchPage(/old) = %s, %.40q, want the page at /a/1", p.URL, p.Body)
	}
	for i, r := range o.received() {
		if r.Header.Get("User-Agent") != testUA || r.Header.Get("Accept") != acceptHTML || r.Header.Get("Referer") != "" {
			t.Errorf("request %d headers = %v, want the User-Agent, Accept %q and no Referer", i, r.Header, acceptHTML)
		}
	}
	if p, err = c.FetchPage(ctx, src, newsdesk.FetchState{}, o.url("/a/1251")); err != nil || p.Charset != "windows-1251" || !strings.Contains(string(p.Body), "Мэрия Москвы") {
		t.Errorf("FetchPage(/a/1251) = %v, %q, %.200q; want windows-1251 decoded", err, p.Charset, p.Body)
	}
	_, err = c.FetchPage(ctx, src, newsdesk.FetchState{}, o.url("/busy"))
	if se, ok := err.(*StatusError); !ok || se.Code != 429 || !se.RetryAt.Equal(now.Add(2*time.Minute)) {
		t.Errorf("FetchPage(/busy) error = %#v, want a 429 StatusError with RetryAt in 2 minutes", err)
	}
	for path, kind := range map[string]string{"/pdf": kindNotHTML, "/slow": kindTimeout, "/gone": "http_404"} {
		if _, err := c.FetchPage(ctx, src, newsdesk.FetchState{}, o.url(path)); ErrorKind(err) != kind {
			t.Errorf("FetchPage(%s) error = %v (kind %q), want kind %q", path, err, ErrorKind(err), kind)
		}
	}
	if _, err := c.FetchPage(ctx, src, newsdesk.FetchState{}, "ftp://example.com/a"); ErrorKind(err) != kindBadURL {
		t.Errorf("FetchPage(ftp) error = %v, want kind %q", err, kindBadURL)
	}
}

// TestFetchPageGuard checks that a page on another name for a loopback
// address is refused while the feed's own host (127.0.0.1) is not, and
// that allow_private lets it through; and that a feed that moved makes
// its new host the feed's own.
func TestFetchPageGuard(t *testing.T) {
	o := newOrigin(t)
	o.on("/a/1", serve(testdataArticle(t, "moscowtimes.html"), http.Header{"Content-Type": {"text/html"}}))
	c := NewClient(testUA)
	ctx := context.Background()
	src := newsdesk.Source{ID: "mt", URL: o.url("/rss")}
	onLocalhost := strings.Replace(o.url("/a/1"), "127.0.0.1", "localhost", 1)

	if _, err := c.FetchPage(ctx, src, newsdesk.FetchState{}, o.url("/a/1")); err != nil {
		t.Errorf("FetchPage on the feed's host error = %v, want none", err)
	}
	_, err := c.FetchPage(ctx, src, newsdesk.FetchState{}, onLocalhost)
	if ErrorKind(err) != kindPrivateAddress || !strings.Contains(err.Error(), "allow_private: true") {
		t.Errorf("FetchPage(%s) error = %v, want kind %q naming allow_private", onLocalhost, err, kindPrivateAddress)
	}
	if n := len(o.received()); n != 1 {
		t.Errorf("origin received %d requests, want 1 (the refused page never connects)", n)
	}
	moved := newsdesk.FetchState{URL: src.URL, MovedTo: strings.Replace(src.URL, "127.0.0.1", "localhost", 1)}
	if _, err := c.FetchPage(ctx, src, moved, onLocalhost); err != nil {
		t.Errorf("FetchPage on the host the feed moved to error = %v, want none", err)
	}
	src.FullText.AllowPrivate = true
	if _, err := c.FetchPage(ctx, src, newsdesk.FetchState{}, onLocalhost); err != nil {
		t.Errorf("FetchPage with allow_private error = %v, want none", err)
	}
}

// TestFullTextSince checks what a fetch does to FullTextSince: set by the
// first fetch with full text on (whatever its result), kept after, cleared
// when full text is off.
func TestFullTextSince(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	on := newsdesk.Source{ID: "mt", URL: "https://example.com/rss", FullText: newsdesk.FullText{Enabled: true}}
	off := on
	off.FullText.Enabled = false
	ok := &Response{Result: newsdesk.ResultNotModified}

	st, _, _ := applyResult(on, newsdesk.FetchState{SourceID: "mt", URL: on.URL, LastFetch: at}, false, nil, &StatusError{Code: 500})
	if !st.FullTextSince.Equal(at) {
		t.Errorf("first fetch with full text: FullTextSince = %v, want %v", st.FullTextSince, at)
	}
	st.LastFetch = at.Add(time.Hour)
	if st, _, _ = applyResult(on, st, false, ok, nil); !st.FullTextSince.Equal(at) {
		t.Errorf("second fetch: FullTextSince = %v, want it kept at %v", st.FullTextSince, at)
	}
	if st := forURL(newsdesk.Source{ID: "mt", URL: "https://example.com/new"}, st); !st.FullTextSince.Equal(at) {
		t.Errorf("new url: FullTextSince = %v, want it kept at %v", st.FullTextSince, at)
	}
	if st, _, _ = applyResult(off, st, false, ok, nil); !st.FullTextSince.IsZero() {
		t.Errorf("full text off: FullTextSince = %v, want zero", st.FullTextSince)
	}
}
