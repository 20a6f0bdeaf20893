package fetcher

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// origin is a fake publisher: an httptest server whose answers are scripted
// per path, and which records every request it receives, so that a test
// can check both what Fetch returned and what the publisher was sent.
type origin struct {
	srv *httptest.Server

	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	reqs   []received
}

// received is one request as the origin saw it.
type received struct {
	Method string
	Path   string
	Query  string
	Header http.Header
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{routes: map[string]http.HandlerFunc{}}
	o.srv = httptest.NewServer(o)
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.reqs = append(o.reqs, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone()})
	h := o.routes[r.URL.Path]
	o.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// on scripts the answer for path.
func (o *origin) on(path string, h http.HandlerFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[path] = h
}

func (o *origin) url(path string) string { return o.srv.URL + path }

// received returns the requests so far, in order.
func (o *origin) received() []received {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]received(nil), o.reqs...)
}

// fetch fetches path from the origin as source "src" with the test client.
func (o *origin) fetch(path string, prev newsdesk.FetchState) (*Response, error) {
	return newTestClient().Fetch(context.Background(), newsdesk.Source{ID: "src", URL: o.url(path)}, prev)
}

// header builds response headers from name, value pairs.
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func copyHeader(w http.ResponseWriter, h http.Header) {
	for k, vs := range h {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
}

// serve answers 200 with body and the given headers. It also sets a
// cookie, which the client must never send back.
func serve(body []byte, h http.Header) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		copyHeader(w, h)
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "tracking"})
		w.Write(body)
	}
}

// conditional answers 304 when the request carries exactly etag and
// lastModified (one header each, byte for byte), else 200 with body and
// the validators. h goes on both.
func conditional(body []byte, etag, lastModified string, h http.Header) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		copyHeader(w, h)
		inm, ims := r.Header["If-None-Match"], r.Header["If-Modified-Since"]
		if len(inm) == 1 && inm[0] == etag && len(ims) == 1 && ims[0] == lastModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastModified)
		w.Write(body)
	}
}

// status answers code with a short body.
func status(code int, h http.Header) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		copyHeader(w, h)
		http.Error(w, http.StatusText(code), code)
	}
}

// redirect answers code with a Location of to, and a cookie.
func redirect(code int, to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "tracking"})
		http.Redirect(w, r, to, code)
	}
}

// hang answers nothing until the client goes away.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// trickle sends the start of a feed and then whitespace, one byte per tick
// of a fast ticker, until the client goes away; then it sends the number of
// bytes written on stopped. A per-read timeout would never end it: each
// byte arrives well within one.
func trickle(stopped chan<- int) http.HandlerFunc {
	const start = `<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title>`
	return func(w http.ResponseWriter, r *http.Request) {
		n := 0
		defer func() { stopped <- n }()
		w.Header().Set("Content-Type", "application/rss+xml")
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			b := byte(' ')
			if n < len(start) {
				b = start[n]
			}
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			n++
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	}
}

// endless sends whitespace until the client goes away, then the number of
// bytes written on stopped.
func endless(stopped chan<- int64) http.HandlerFunc {
	chunk := bytes.Repeat([]byte("<!-- padding -->\n"), 4096)
	return func(w http.ResponseWriter, r *http.Request) {
		var n int64
		defer func() { stopped <- n }()
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(`<?xml version="1.0"?>` + "\n"))
		for {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				return
			}
		}
	}
}

// gzipBomb is 50 MiB of zeros in about 50 KiB of gzip: fifty gzip members
// of 1 MiB each, which gzip readers (Go's included) decode as one stream.
// Built from members because compressing 50 MiB takes seconds under -race.
var gzipBomb = sync.OnceValue(func() []byte {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	return bytes.Repeat(member.Bytes(), 50)
})

// checkPolite checks what every request of a fetch must look like.
func checkPolite(t *testing.T, reqs []received) {
	t.Helper()
	for i, r := range reqs {
		if r.Method != http.MethodGet {
			t.Errorf("request %d: method %s, want GET", i+1, r.Method)
		}
		if r.Query != "" {
			t.Errorf("request %d: query %q, want none (no cache-busting)", i+1, r.Query)
		}
		if got := r.Header.Get("User-Agent"); got != testUA {
			t.Errorf("request %d: User-Agent = %q, want %q", i+1, got, testUA)
		}
		if got := r.Header.Get("Accept"); got != accept {
			t.Errorf("request %d: Accept = %q, want %q", i+1, got, accept)
		}
		for _, name := range []string{"Cookie", "Referer", "Cache-Control", "Pragma"} {
			if v, ok := r.Header[name]; ok {
				t.Errorf("request %d: sent %s: %q", i+1, name, v)
			}
		}
	}
}

func TestFetchConditional(t *testing.T) {
	const etag, lastMod = `W/"abc"`, "Wed, 25 Nov 2026 15:42:00 GMT"
	tests := []struct {
		name        string
		prevURL     string // "" means the source URL
		newETag     string // sent with the 304
		wantSent    bool
		wantResult  newsdesk.Result
		wantETag    string
		wantLastMod string
	}{
		{name: "304 keeps validators", wantSent: true, wantResult: newsdesk.ResultNotModified, wantETag: etag, wantLastMod: lastMod},
		{name: "304 with new etag", newETag: `"def"`, wantSent: true, wantResult: newsdesk.ResultNotModified, wantETag: `"def"`, wantLastMod: lastMod},
		{name: "validators of another url", prevURL: "https://old.example/feed", wantSent: false, wantResult: newsdesk.ResultOK, wantETag: etag, wantLastMod: lastMod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			var h http.Header
			if tt.newETag != "" {
				h = header("ETag", tt.newETag)
			}
			o.on("/feed", conditional(fixture(t, "moscowtimes.rss"), etag, lastMod, h))
			prev := newsdesk.FetchState{SourceID: "src", URL: o.url("/feed"), ETag: etag, LastModified: lastMod}
			if tt.prevURL != "" {
				prev.URL = tt.prevURL
			}

			resp, err := o.fetch("/feed", prev)
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			reqs := o.received()
			checkPolite(t, reqs)
			gotINM, sentINM := reqs[0].Header["If-None-Match"]
			gotIMS, sentIMS := reqs[0].Header["If-Modified-Since"]
			if sentINM != tt.wantSent || sentIMS != tt.wantSent {
				t.Fatalf("conditional headers sent = %v/%v, want %v", sentINM, sentIMS, tt.wantSent)
			}
			if tt.wantSent && (len(gotINM) != 1 || gotINM[0] != etag || len(gotIMS) != 1 || gotIMS[0] != lastMod) {
				t.Errorf("sent If-None-Match %q, If-Modified-Since %q, want exactly %q, %q", gotINM, gotIMS, etag, lastMod)
			}
			if resp.Result != tt.wantResult {
				t.Errorf("Result = %q, want %q", resp.Result, tt.wantResult)
			}
			if resp.ETag != tt.wantETag || resp.LastModified != tt.wantLastMod {
				t.Errorf("validators = %q, %q, want %q, %q", resp.ETag, resp.LastModified, tt.wantETag, tt.wantLastMod)
			}
			if tt.wantResult == newsdesk.ResultNotModified {
				if resp.Items != nil || resp.Status != 304 || !resp.Hints.IsZero() {
					t.Errorf("304: Items = %d, Status = %d, Hints = %+v, want nil, 304, none", len(resp.Items), resp.Status, resp.Hints)
				}
			} else if len(resp.Items) == 0 {
				t.Errorf("200: no items")
			}
		})
	}
}

// TestFetchSendsNoCookie fetches twice from an origin that sets a cookie
// each time: the client keeps no jar.
func TestFetchSendsNoCookie(t *testing.T) {
	o := newOrigin(t)
	o.on("/feed", serve(fixture(t, "moscowtimes.rss"), nil))
	c := newTestClient()
	src := newsdesk.Source{ID: "src", URL: o.url("/feed")}
	for range 2 {
		if _, err := c.Fetch(context.Background(), src, newsdesk.FetchState{}); err != nil {
			t.Fatalf("Fetch() error = %v", err)
		}
	}
	if c.HTTP.Jar != nil {
		t.Errorf("Client.HTTP.Jar = %v, want none", c.HTTP.Jar)
	}
	checkPolite(t, o.received())
}

func TestFetchCacheUntil(t *testing.T) {
	const etag, lastMod = `"v1"`, "Wed, 25 Nov 2026 15:42:00 GMT"
	tests := []struct {
		name        string
		header      http.Header
		conditional bool // the fetch sends the validators and gets a 304
		want        time.Time
	}{
		{"max-age on 200", header("Cache-Control", "public, max-age=1800"), false, fetchNow.Add(30 * time.Minute)},
		{"max-age on 304", header("Cache-Control", "max-age=1800"), true, fetchNow.Add(30 * time.Minute)},
		{"expires on 200", header("Expires", "Thu, 26 Nov 2026 14:00:00 GMT"), false, fetchNow.Add(2 * time.Hour)},
		{"expires on 304", header("Expires", "Thu, 26 Nov 2026 14:00:00 GMT"), true, fetchNow.Add(2 * time.Hour)},
		{"max-age wins over expires", header("Cache-Control", "max-age=60", "Expires", "Thu, 26 Nov 2026 14:00:00 GMT"), false, fetchNow.Add(time.Minute)},
		{"no-store", header("Cache-Control", "no-store, max-age=600"), true, time.Time{}},
		{"absurd max-age is a week", header("Cache-Control", "max-age=31536000"), false, fetchNow.Add(7 * 24 * time.Hour)},
		{"nothing", nil, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/feed", conditional(fixture(t, "moscowtimes.rss"), etag, lastMod, tt.header))
			var prev newsdesk.FetchState
			if tt.conditional {
				prev = newsdesk.FetchState{URL: o.url("/feed"), ETag: etag, LastModified: lastMod}
			}
			resp, err := o.fetch("/feed", prev)
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			if wantStatus := map[bool]int{false: 200, true: 304}[tt.conditional]; resp.Status != wantStatus {
				t.Errorf("Status = %d, want %d", resp.Status, wantStatus)
			}
			if !resp.CacheUntil.Equal(tt.want) {
				t.Errorf("CacheUntil = %v, want %v", resp.CacheUntil, tt.want)
			}
		})
	}
}

func TestFetchStatusError(t *testing.T) {
	tests := []struct {
		code       int
		retryAfter string
		wantRetry  time.Time
		wantMsg    string
		wantKind   string
	}{
		{404, "", time.Time{}, "http status 404 Not Found", "http_404"},
		{403, "", time.Time{}, "credentials required: HTTP 403 Forbidden (give the source auth:, headers: or user_agent: in feeds.yaml)", "auth"},
		{401, "", time.Time{}, "credentials required: HTTP 401 Unauthorized (give the source auth:, headers: or user_agent: in feeds.yaml)", "auth"},
		{400, "", time.Time{}, "http status 400 Bad Request", "http_4xx"},
		{410, "", time.Time{}, "http status 410 Gone: the publisher removed this feed; change its url in feeds.yaml", "http_410"},
		{429, "", time.Time{}, "http status 429 Too Many Requests", "http_429"},
		{429, "3600", fetchNow.Add(time.Hour), "http status 429 Too Many Requests (retry after 2026-11-26T13:00:00Z)", "http_429"},
		{429, "soon", time.Time{}, "http status 429 Too Many Requests", "http_429"},
		{429, "99999999", fetchNow.Add(7 * 24 * time.Hour), "http status 429 Too Many Requests (retry after 2026-12-03T12:00:00Z)", "http_429"},
		{503, "Fri, 27 Nov 2026 10:00:00 GMT", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), "http status 503 Service Unavailable (retry after 2026-11-27T10:00:00Z)", "http_503"},
		{503, "Wed, 25 Nov 2026 10:00:00 GMT", time.Time{}, "http status 503 Service Unavailable", "http_503"},
		{503, "", time.Time{}, "http status 503 Service Unavailable", "http_503"},
		{500, "", time.Time{}, "http status 500 Internal Server Error", "http_5xx"},
	}
	for _, tt := range tests {
		t.Run(tt.wantMsg, func(t *testing.T) {
			o := newOrigin(t)
			var h http.Header
			if tt.retryAfter != "" {
				h = header("Retry-After", tt.retryAfter)
			}
			o.on("/feed", status(tt.code, h))
			_, err := o.fetch("/feed", newsdesk.FetchState{})
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("Fetch() error = %v, want a *StatusError", err)
			}
			if se.Code != tt.code || se.RetryAfter != tt.retryAfter || !se.RetryAt.Equal(tt.wantRetry) {
				t.Errorf("StatusError = %+v, want {%d %q %v}", *se, tt.code, tt.retryAfter, tt.wantRetry)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMsg)
			}
			if got := ErrorKind(err); got != tt.wantKind {
				t.Errorf("ErrorKind() = %q, want %q", got, tt.wantKind)
			}
			if got, want := isGone(err), tt.code == 410; got != want {
				t.Errorf("isGone() = %v, want %v", got, want)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	tests := []struct {
		name  string
		chain []int // the status of each hop before the feed
		moved string
	}{
		{name: "301", chain: []int{301}, moved: "/hop1"},
		{name: "308", chain: []int{308}, moved: "/hop1"},
		{name: "302 is temporary", chain: []int{302}},
		{name: "307 is temporary", chain: []int{307}},
		{name: "301 then 301", chain: []int{301, 301}, moved: "/hop2"},
		{name: "301 then 302 moves to the 302", chain: []int{301, 302}, moved: "/hop1"},
		{name: "302 then 301 keeps the configured url", chain: []int{302, 301}},
		{name: "301 then 308 then 302", chain: []int{301, 308, 302}, moved: "/hop2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const etag, lastMod = `W/"abc"`, "Wed, 25 Nov 2026 15:42:00 GMT"
			o := newOrigin(t)
			path := "/start"
			for i, code := range tt.chain {
				next := "/hop" + string(rune('1'+i))
				o.on(path, redirect(code, next))
				path = next
			}
			o.on(path, conditional(fixture(t, "moscowtimes.rss"), etag, lastMod, nil))
			prev := newsdesk.FetchState{URL: o.url("/start"), ETag: etag, LastModified: lastMod}

			resp, err := o.fetch("/start", prev)
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			want := ""
			if tt.moved != "" {
				want = o.url(tt.moved)
			}
			if resp.MovedTo != want {
				t.Errorf("MovedTo = %q, want %q", resp.MovedTo, want)
			}
			// The validators go with the request to wherever it leads.
			if resp.Result != newsdesk.ResultNotModified {
				t.Errorf("Result = %q, want not modified", resp.Result)
			}
			reqs := o.received()
			if len(reqs) != len(tt.chain)+1 {
				t.Fatalf("origin saw %d requests, want %d", len(reqs), len(tt.chain)+1)
			}
			checkPolite(t, reqs)
			if last := reqs[len(reqs)-1]; last.Path != path || last.Header.Get("If-None-Match") != etag {
				t.Errorf("last request: %s with If-None-Match %q, want %s with %q", last.Path, last.Header.Get("If-None-Match"), path, etag)
			}
		})
	}
}

func TestFetchRedirectLoop(t *testing.T) {
	o := newOrigin(t)
	o.on("/loop", redirect(http.StatusFound, "/loop"))
	_, err := o.fetch("/loop", newsdesk.FetchState{})
	if err == nil || err.Error() != "too many redirects (5)" {
		t.Fatalf("Fetch() error = %v, want too many redirects (5)", err)
	}
	if got := ErrorKind(err); got != "redirects" {
		t.Errorf("ErrorKind() = %q, want redirects", got)
	}
	reqs := o.received()
	if len(reqs) != 6 {
		t.Errorf("origin saw %d requests, want 6 (the first and 5 redirects)", len(reqs))
	}
	checkPolite(t, reqs)
}

func TestFetchTimeout(t *testing.T) {
	o := newOrigin(t)
	o.on("/feed", hang)
	c := newTestClient()
	src := newsdesk.Source{URL: o.url("/feed"), Timeout: 50 * time.Millisecond}
	_, err := c.Fetch(context.Background(), src, newsdesk.FetchState{})
	if err == nil || err.Error() != "timed out after 50ms" {
		t.Fatalf("Fetch() error = %v, want timed out after 50ms", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
	if got := ErrorKind(err); got != "timeout" {
		t.Errorf("ErrorKind() = %q, want timeout", got)
	}
}

// TestFetchTrickle is a source that sends a byte every millisecond: the
// deadline covers the whole fetch, so it ends all the same.
func TestFetchTrickle(t *testing.T) {
	o := newOrigin(t)
	stopped := make(chan int, 1)
	o.on("/feed", trickle(stopped))
	src := newsdesk.Source{URL: o.url("/feed"), Timeout: 100 * time.Millisecond}
	_, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
	if err == nil || err.Error() != "timed out after 100ms" {
		t.Fatalf("Fetch() error = %v, want timed out after 100ms", err)
	}
	if got := ErrorKind(err); got != "timeout" {
		t.Errorf("ErrorKind() = %q, want timeout", got)
	}
	// The origin notices the client has gone and stops.
	if n := <-stopped; n < 2 {
		t.Errorf("origin wrote %d bytes before the deadline, want it to have trickled several", n)
	}
}

func TestFetchEndlessBody(t *testing.T) {
	o := newOrigin(t)
	stopped := make(chan int64, 1)
	o.on("/feed", endless(stopped))
	_, err := o.fetch("/feed", newsdesk.FetchState{})
	if err == nil || err.Error() != "body larger than 10 MiB" {
		t.Fatalf("Fetch() error = %v, want body larger than 10 MiB", err)
	}
	if got := ErrorKind(err); got != "too_large" {
		t.Errorf("ErrorKind() = %q, want too_large", got)
	}
	// The client hung up: the origin's writes failed and it stopped.
	if n := <-stopped; n < 10<<20 {
		t.Errorf("origin wrote %d bytes, want more than 10 MiB", n)
	}
}

func TestFetchGzipBomb(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{"content-encoding gzip", header("Content-Type", "application/rss+xml", "Content-Encoding", "gzip")},
		{"gzip file without content-encoding", header("Content-Type", "application/xml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/feed.xml", serve(gzipBomb(), tt.header))
			c := newTestClient()
			c.MaxBody = 1 << 20

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Fetch(context.Background(), newsdesk.Source{URL: o.url("/feed.xml")}, newsdesk.FetchState{})
			runtime.ReadMemStats(&after)

			if err == nil || err.Error() != "body larger than 1 MiB" {
				t.Fatalf("Fetch() error = %v, want body larger than 1 MiB", err)
			}
			if got := ErrorKind(err); got != "too_large" {
				t.Errorf("ErrorKind() = %q, want too_large", got)
			}
			// Everything allocated meanwhile, origin included: a few MiB,
			// where inflating the bomb would take 50.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("Fetch() allocated %d MiB for a 1 MiB cap", alloc>>20)
			}
		})
	}
}

func TestFetchGzip(t *testing.T) {
	body := fixture(t, "moscowtimes.rss")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	o := newOrigin(t)
	o.on("/feed", serve(gz.Bytes(), header("Content-Type", "application/rss+xml", "Content-Encoding", "gzip")))
	resp, err := o.fetch("/feed", newsdesk.FetchState{})
	if err != nil {
		t.Fatalf("Fetch() error = %v", err)
	}
	if len(resp.Items) != 6 || resp.Bytes != int64(len(body)) {
		t.Errorf("Fetch() = %d items, %d bytes, want 6, %d", len(resp.Items), resp.Bytes, len(body))
	}
	// The transport asked for gzip itself (we set no Accept-Encoding).
	if got := o.received()[0].Header.Get("Accept-Encoding"); got != "gzip" {
		t.Errorf("Accept-Encoding = %q, want the transport's gzip", got)
	}
}

func TestFetchNotAFeed(t *testing.T) {
	page := fixture(t, "page.html")
	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        string // %s is the origin's URL
	}{
		{"html page with feed links", "text/html; charset=utf-8", page,
			"not a feed (text/html); the page links to feeds: %s/feed.xml, https://feeds.example.org/atom.xml, %s/news/feed.json"},
		{"html page served as xml", "application/xml", page,
			"not a feed (text/html); the page links to feeds: %s/feed.xml, https://feeds.example.org/atom.xml, %s/news/feed.json"},
		{"html page without links", "text/html", []byte("<!doctype html><html><head><title>x</title></head><body>hi</body></html>"),
			"not a feed (text/html)"},
		{"opml", "text/xml", []byte(`<?xml version="1.0"?><opml version="2.0"><body/></opml>`),
			"not a feed (XML document <opml>)"},
		{"plain text", "text/plain", []byte("hello"), "not a feed (text/plain)"},
		{"empty", "application/rss+xml", nil, "empty response body"},
		{"whitespace", "application/rss+xml", []byte(" \r\n\t "), "empty response body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/news/", serve(tt.body, header("Content-Type", tt.contentType)))
			_, err := o.fetch("/news/", newsdesk.FetchState{})
			want := strings.ReplaceAll(tt.want, "%s", o.srv.URL)
			if err == nil || err.Error() != want {
				t.Errorf("Fetch() error = %v, want %s", err, want)
			}
			if got := ErrorKind(err); got != "not_a_feed" {
				t.Errorf("ErrorKind() = %q, want not_a_feed", got)
			}
		})
	}
}

func TestFetchParseError(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantPrefix  string
	}{
		{"broken xml", "application/rss+xml", `<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti`, "parse feed: "},
		{"unknown charset", "application/rss+xml", "<?xml version=\"1.0\" encoding=\"x-martian\"?><rss version=\"2.0\"><channel><title>\xff</title></channel></rss>", `unsupported encoding "x-martian"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/feed", serve([]byte(tt.body), header("Content-Type", tt.contentType)))
			_, err := o.fetch("/feed", newsdesk.FetchState{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Fatalf("Fetch() error = %v, want it to start with %q", err, tt.wantPrefix)
			}
			if got := ErrorKind(err); got != "parse" {
				t.Errorf("ErrorKind() = %q, want parse", got)
			}
		})
	}
}

func TestFetchCyrillic(t *testing.T) {
	utf8Feed := fixture(t, "russian.rss")
	withDecl := cp1251(t, utf8Feed)
	withoutDecl := cp1251(t, bytes.Replace(utf8Feed, []byte(` encoding="windows-1251"`), nil, 1))
	if bytes.Equal(withDecl, withoutDecl) {
		t.Fatal("fixture lost its encoding declaration")
	}
	tests := []struct {
		name        string
		contentType string
		body        []byte
	}{
		{"declared in the prolog", "application/rss+xml", withDecl},
		{"declared in both", "application/rss+xml; charset=windows-1251", withDecl},
		{"declared only in the header", "application/rss+xml; charset=windows-1251", withoutDecl},
		{"header charset in quotes and upper case", `text/xml; charset="WINDOWS-1251"`, withoutDecl},
		{"utf-8 mislabelled as windows-1251", "application/rss+xml; charset=windows-1251", utf8Feed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/rss", serve(tt.body, header("Content-Type", tt.contentType)))
			resp, err := o.fetch("/rss", newsdesk.FetchState{})
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			if want := "Новости Москвы"; resp.FeedTitle != want {
				t.Errorf("FeedTitle = %q, want %q", resp.FeedTitle, want)
			}
			if len(resp.Items) != 2 {
				t.Fatalf("got %d items, want 2", len(resp.Items))
			}
			it := resp.Items[0]
			if want := "В Москве выпал первый снег"; it.Title != want {
				t.Errorf("Title = %q, want %q", it.Title, want)
			}
			if want := "Снегоуборочная техника работала всю ночь."; it.Summary != want {
				t.Errorf("Summary = %q, want %q", it.Summary, want)
			}
			if want := []string{"Город"}; !equalAny(it.Categories, want) {
				t.Errorf("Categories = %q, want %q", it.Categories, want)
			}
		})
	}
}

func TestFetchHints(t *testing.T) {
	tests := []struct {
		fixture      string
		want         newsdesk.FeedHints
		wantInterval time.Duration
	}{
		{"moscowtimes.rss", newsdesk.FeedHints{TTL: 10 * time.Hour}, 10 * time.Hour},
		{"hints.rss", newsdesk.FeedHints{
			TTL:             90 * time.Minute,
			SkipHours:       []int{0, 1, 2, 3, 4, 5, 23},
			SkipDays:        []time.Weekday{time.Sunday, time.Saturday},
			UpdatePeriod:    "hourly",
			UpdateFrequency: 2,
		}, 90 * time.Minute},
		{"hints.atom", newsdesk.FeedHints{UpdatePeriod: "daily", UpdateFrequency: 4}, 6 * time.Hour},
		{"relative.atom", newsdesk.FeedHints{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			o := newOrigin(t)
			o.on("/feed", serve(fixture(t, tt.fixture), nil))
			resp, err := o.fetch("/feed", newsdesk.FetchState{})
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			if !equalAny(resp.Hints, tt.want) {
				t.Errorf("Hints = %+v, want %+v", resp.Hints, tt.want)
			}
			if got := resp.Hints.Interval(); got != tt.wantInterval {
				t.Errorf("Hints.Interval() = %v, want %v", got, tt.wantInterval)
			}
		})
	}
}
