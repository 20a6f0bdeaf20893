package fetcher

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/newsdesk/newsdesk"
)

const testUA = "newsdesk/test (+https://newsdesk.example/)"

// fetchNow is the fixed clock of the fetch tests.
var fetchNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTestClient() *Client {
	c := NewClient(testUA)
	c.Now = func() time.Time { return fetchNow }
	return c
}

func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cp1251 encodes a UTF-8 fixture as windows-1251. testdata/russian.rss is
// kept in UTF-8 so that it can be read and edited.
func cp1251(t *testing.T, utf8Text []byte) []byte {
	t.Helper()
	b, err := charmap.Windows1251.NewEncoder().Bytes(utf8Text)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder keeps the headers of the requests a test server received.
type recorder struct {
	mu   sync.Mutex
	reqs []http.Header
	urls []string
}

func (r *recorder) record(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req.Header.Clone())
	r.urls = append(r.urls, req.URL.Path)
}

func (r *recorder) headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.reqs...)
}

func TestFetchMoscowTimes(t *testing.T) {
	var rec recorder
	body := fixture(t, "moscowtimes.rss")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("ETag", `W/"abc"`)
		w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 15:42:00 GMT")
		w.Write(body)
	})
	src := newsdesk.Source{ID: "moscow-times", URL: srv.URL + "/rss/news"}

	resp, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
	if err != nil {
		t.Fatalf("Fetch() error = %v", err)
	}
	if resp.Result != newsdesk.ResultOK || resp.Status != 200 {
		t.Errorf("Fetch() result, status = %q, %d, want ok, 200", resp.Result, resp.Status)
	}
	if resp.ETag != `W/"abc"` || resp.LastModified != "Wed, 25 Nov 2026 15:42:00 GMT" {
		t.Errorf("Fetch() validators = %q, %q", resp.ETag, resp.LastModified)
	}
	if want := "The Moscow Times - Independent News from Russia"; resp.FeedTitle != want {
		t.Errorf("FeedTitle = %q, want %q", resp.FeedTitle, want)
	}
	if want := "https://www.themoscowtimes.com/"; resp.FeedLink != want {
		t.Errorf("FeedLink = %q, want %q", resp.FeedLink, want)
	}
	if resp.Bytes != int64(len(body)) {
		t.Errorf("Bytes = %d, want %d", resp.Bytes, len(body))
	}
	if resp.MovedTo != "" {
		t.Errorf("MovedTo = %q, want none", resp.MovedTo)
	}
	if len(resp.Items) != 6 {
		t.Fatalf("got %d items, want 6", len(resp.Items))
	}

	got := resp.Items[0]
	link := "https://www.themoscowtimes.com/2026/11/25/moscow-sees-first-heavy-snowfall-of-the-season-a91501"
	want := newsdesk.Item{
		SourceID:   "moscow-times",
		ID:         link,
		Title:      "Moscow Sees First Heavy Snowfall of the Season",
		Link:       link,
		Summary:    "Snowplows worked through the night after the capital received a third of its monthly snowfall in a single day.",
		Categories: []string{"News"},
		Published:  time.Date(2026, 11, 25, 15, 42, 0, 0, time.UTC),
		Updated:    time.Date(2026, 11, 25, 15, 42, 0, 0, time.UTC),
		Enclosures: []newsdesk.Enclosure{{
			URL:    "https://static.themoscowtimes.com/image/article_1360/a1/snowfall.jpg",
			Type:   "image/jpeg",
			Length: 123456,
		}},
	}
	if diff := diffItem(got, want); diff != "" {
		t.Errorf("first item: %s", diff)
	}
	if got.Published.Location() != time.UTC {
		t.Errorf("Published location = %v, want UTC", got.Published.Location())
	}
	if s := resp.Items[1].Summary; strings.TrimSpace(s) != s || s == "" {
		t.Errorf("second item summary %q not trimmed", s)
	}

	h := rec.headers()[0]
	if got := h.Get("User-Agent"); got != testUA {
		t.Errorf("User-Agent = %q, want %q", got, testUA)
	}
	if got := h.Get("Accept"); got != accept {
		t.Errorf("Accept = %q, want %q", got, accept)
	}
	for _, name := range []string{"If-None-Match", "If-Modified-Since", "Cookie", "Referer"} {
		if v, ok := h[name]; ok {
			t.Errorf("first fetch sent %s: %q, want an unconditional plain GET", name, v)
		}
	}
}

// diffItem compares the fields Normalize fills.
func diffItem(got, want newsdesk.Item) string {
	var b strings.Builder
	check := func(field string, g, w any) {
		if !equalAny(g, w) {
			b.WriteString(field + " = " + sprint(g) + ", want " + sprint(w) + "; ")
		}
	}
	check("SourceID", got.SourceID, want.SourceID)
	check("ID", got.ID, want.ID)
	check("Title", got.Title, want.Title)
	check("Link", got.Link, want.Link)
	check("Summary", got.Summary, want.Summary)
	check("Content", got.Content, want.Content)
	check("Authors", got.Authors, want.Authors)
	check("Categories", got.Categories, want.Categories)
	check("Published", got.Published, want.Published)
	check("Updated", got.Updated, want.Updated)
	check("Enclosures", got.Enclosures, want.Enclosures)
	check("FirstSeen", got.FirstSeen, want.FirstSeen)
	return b.String()
}

func equalAny(got, want any) bool {
	if g, ok := got.(time.Time); ok {
		w, ok := want.(time.Time)
		return ok && g.Equal(w)
	}
	return reflect.DeepEqual(got, want)
}

func sprint(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%#v", v)
}

func TestFetchConditional(t *testing.T) {
	const etag, lastMod = `W/"abc"`, "Wed, 25 Nov 2026 15:42:00 GMT"
	tests := []struct {
		name         string
		prevURL      string // "" means the source URL
		newETag      string // sent with the 304
		wantSent     bool
		wantResult   newsdesk.Result
		wantETag     string
		wantLastMod  string
		wantNoParsed bool
	}{
		{name: "304 keeps validators", wantSent: true, wantResult: newsdesk.ResultNotModified, wantETag: etag, wantLastMod: lastMod},
		{name: "304 with new etag", newETag: `"def"`, wantSent: true, wantResult: newsdesk.ResultNotModified, wantETag: `"def"`, wantLastMod: lastMod},
		{name: "validators of another url", prevURL: "https://old.example/feed", wantSent: false, wantResult: newsdesk.ResultOK, wantETag: etag, wantLastMod: lastMod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			body := fixture(t, "moscowtimes.rss")
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				rec.record(r)
				if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
					if tt.newETag != "" {
						w.Header().Set("ETag", tt.newETag)
					}
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", etag)
				w.Header().Set("Last-Modified", lastMod)
				w.Write(body)
			})
			src := newsdesk.Source{ID: "mt", URL: srv.URL + "/feed"}
			prev := newsdesk.FetchState{SourceID: "mt", URL: src.URL, ETag: etag, LastModified: lastMod}
			if tt.prevURL != "" {
				prev.URL = tt.prevURL
			}

			resp, err := newTestClient().Fetch(context.Background(), src, prev)
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			h := rec.headers()[0]
			gotINM, sentINM := h["If-None-Match"]
			gotIMS, sentIMS := h["If-Modified-Since"]
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
				if resp.Items != nil || resp.Status != 304 {
					t.Errorf("304: Items = %d, Status = %d, want nil, 304", len(resp.Items), resp.Status)
				}
			} else if len(resp.Items) == 0 {
				t.Errorf("200: no items")
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			body := fixture(t, "moscowtimes.rss")
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				rec.record(r)
				hop := len(rec.headers()) - 1
				if hop < len(tt.chain) {
					http.SetCookie(w, &http.Cookie{Name: "session", Value: "x"})
					http.Redirect(w, r, "/hop"+string(rune('1'+hop)), tt.chain[hop])
					return
				}
				w.Write(body)
			})
			src := newsdesk.Source{ID: "mt", URL: srv.URL + "/start"}
			resp, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
			if err != nil {
				t.Fatalf("Fetch() error = %v", err)
			}
			want := ""
			if tt.moved != "" {
				want = srv.URL + tt.moved
			}
			if resp.MovedTo != want {
				t.Errorf("MovedTo = %q, want %q", resp.MovedTo, want)
			}
			hs := rec.headers()
			if len(hs) != len(tt.chain)+1 {
				t.Fatalf("server saw %d requests, want %d", len(hs), len(tt.chain)+1)
			}
			for i, h := range hs[1:] {
				if v := h.Get("Referer"); v != "" {
					t.Errorf("request %d after a redirect sent Referer %q", i+2, v)
				}
				if v := h.Get("Cookie"); v != "" {
					t.Errorf("request %d after a redirect sent Cookie %q", i+2, v)
				}
				if v := h.Get("User-Agent"); v != testUA {
					t.Errorf("request %d after a redirect sent User-Agent %q", i+2, v)
				}
			}
		})
	}
}

func TestFetchRedirectLoop(t *testing.T) {
	var rec recorder
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	_, err := newTestClient().Fetch(context.Background(), newsdesk.Source{URL: srv.URL + "/loop"}, newsdesk.FetchState{})
	if err == nil || err.Error() != "too many redirects (5)" {
		t.Fatalf("Fetch() error = %v, want too many redirects (5)", err)
	}
	if n := len(rec.headers()); n != 6 {
		t.Errorf("server saw %d requests, want 6 (the first and 5 redirects)", n)
	}
}

func TestFetchBodyLimit(t *testing.T) {
	big := bytes.Repeat([]byte("<!-- padding -->\n"), (11<<20)/17)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()

	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"11 MiB plain", func(w http.ResponseWriter, r *http.Request) {
			w.Write(big)
		}},
		{"11 MiB gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		}},
		{"11 MiB gzip file without Content-Encoding", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.Write(gz.Bytes())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			_, err := newTestClient().Fetch(context.Background(), newsdesk.Source{URL: srv.URL}, newsdesk.FetchState{})
			if err == nil || err.Error() != "body larger than 10 MiB" {
				t.Errorf("Fetch() error = %v, want body larger than 10 MiB", err)
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
	var rec recorder
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	})
	resp, err := newTestClient().Fetch(context.Background(), newsdesk.Source{URL: srv.URL}, newsdesk.FetchState{})
	if err != nil {
		t.Fatalf("Fetch() error = %v", err)
	}
	if len(resp.Items) != 6 || resp.Bytes != int64(len(body)) {
		t.Errorf("Fetch() = %d items, %d bytes, want 6, %d", len(resp.Items), resp.Bytes, len(body))
	}
	// The transport asked for gzip itself (we set no Accept-Encoding).
	if got := rec.headers()[0].Get("Accept-Encoding"); got != "gzip" {
		t.Errorf("Accept-Encoding = %q, want the transport's gzip", got)
	}
}

func TestFetchTimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hold the request until the client gives up
	})
	src := newsdesk.Source{URL: srv.URL, Timeout: 50 * time.Millisecond}
	_, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
	if err == nil || err.Error() != "timed out after 50ms" {
		t.Fatalf("Fetch() error = %v, want timed out after 50ms", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
}

func TestFetchTimeoutDuringBody(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel>`))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a trickling server
	})
	src := newsdesk.Source{URL: srv.URL, Timeout: 50 * time.Millisecond}
	_, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
	if err == nil || err.Error() != "timed out after 50ms" {
		t.Fatalf("Fetch() error = %v, want timed out after 50ms", err)
	}
}

func TestFetchStatusError(t *testing.T) {
	tests := []struct {
		code       int
		retryAfter string
		wantMsg    string
	}{
		{404, "", "http status 404 Not Found"},
		{410, "", "http status 410 Gone"},
		{429, "3600", "http status 429 Too Many Requests (retry after 3600)"},
		{503, "Wed, 26 Nov 2026 13:00:00 GMT", "http status 503 Service Unavailable (retry after Wed, 26 Nov 2026 13:00:00 GMT)"},
	}
	for _, tt := range tests {
		t.Run(tt.wantMsg, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				http.Error(w, "no", tt.code)
			})
			_, err := newTestClient().Fetch(context.Background(), newsdesk.Source{URL: srv.URL}, newsdesk.FetchState{})
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("Fetch() error = %v, want a *StatusError", err)
			}
			if se.Code != tt.code || se.RetryAfter != tt.retryAfter {
				t.Errorf("StatusError = %+v, want {%d %q}", *se, tt.code, tt.retryAfter)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestFetchNotAFeed(t *testing.T) {
	page := fixture(t, "page.html")
	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        string // %s is the server URL
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
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write(tt.body)
			})
			_, err := newTestClient().Fetch(context.Background(), newsdesk.Source{URL: srv.URL + "/news/"}, newsdesk.FetchState{})
			want := strings.ReplaceAll(tt.want, "%s", srv.URL)
			if err == nil || err.Error() != want {
				t.Errorf("Fetch() error = %v, want %s", err, want)
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
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write(tt.body)
			})
			resp, err := newTestClient().Fetch(context.Background(), newsdesk.Source{ID: "ru", URL: srv.URL}, newsdesk.FetchState{})
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

func TestFetchTransportErrors(t *testing.T) {
	// A port nothing listens on: take one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	noDNS := newTestClient()
	noDNS.HTTP.Transport = &http.Transport{
		// Answers every lookup as the resolver would for a missing name,
		// without asking one.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{
				Err: "no such host", Name: host, IsNotFound: true,
			}}
		},
	}

	tests := []struct {
		name       string
		client     *Client
		url        string
		wantPrefix string
	}{
		{"connection refused", newTestClient(), "http://" + closedAddr + "/feed", "connection refused by " + closedAddr},
		{"dns", noDNS, "http://feeds.example.invalid/rss", "dns: no such host feeds.example.invalid"},
		{"tls", newTestClient(), tlsSrv.URL, "tls: " + strings.TrimPrefix(tlsSrv.URL, "https://") + ": x509: "},
		{"bad url", newTestClient(), "http://[::1", "bad url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Fetch(context.Background(), newsdesk.Source{URL: tt.url}, newsdesk.FetchState{})
			t.Logf("Fetch() error = %v", err)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("Fetch() error = %v, want it to start with %q", err, tt.wantPrefix)
			}
			if err != nil && strings.Contains(err.Error(), "failed to") {
				t.Errorf("Fetch() error = %q says \"failed to\"", err)
			}
		})
	}
}

func TestFetchCanceled(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestClient().Fetch(ctx, newsdesk.Source{URL: srv.URL}, newsdesk.FetchState{})
	if !errors.Is(err, context.Canceled) || err.Error() != "canceled" {
		t.Errorf("Fetch() error = %v, want canceled", err)
	}
}
