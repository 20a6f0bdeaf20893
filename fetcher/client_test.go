package fetcher

import (
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
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/netguard"
)

const testUA = "newsdesk/test (+https://newsdesk.example/)"

// fetchNow is the fixed clock of the fetch tests.
var fetchNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTestClient() *Client {
	c := NewClient(testUA)
	c.Now = func() time.Time { return fetchNow }
	return c
}

func fixture(t testing.TB, name string) []byte {
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

func TestFetchMoscowTimes(t *testing.T) {
	body := fixture(t, "moscowtimes.rss")
	o := newOrigin(t)
	o.on("/rss/news", serve(body, header(
		"Content-Type", "application/rss+xml; charset=utf-8",
		"ETag", `W/"abc"`,
		"Last-Modified", "Wed, 25 Nov 2026 15:42:00 GMT",
	)))
	src := newsdesk.Source{ID: "moscow-times", URL: o.url("/rss/news")}

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

	reqs := o.received()
	checkPolite(t, reqs)
	for _, name := range []string{"If-None-Match", "If-Modified-Since"} {
		if v, ok := reqs[0].Header[name]; ok {
			t.Errorf("first fetch sent %s: %q, want an unconditional GET", name, v)
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

	// An origin that promises more body than it sends, then hangs up.
	o := newOrigin(t)
	o.on("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte(`<?xml version="1.0"?><rss>`))
	})

	tests := []struct {
		name       string
		client     *Client
		url        string
		wantPrefix string
		wantKind   string
	}{
		{"connection refused", newTestClient(), "http://" + closedAddr + "/feed", "connection refused by " + closedAddr, "connection"},
		{"closed mid-body", newTestClient(), o.url("/short"), "connection closed early by " + o.srv.Listener.Addr().String(), "connection"},
		{"dns", noDNS, "http://feeds.example.invalid/rss", "dns: no such host feeds.example.invalid", "dns"},
		{"tls", newTestClient(), tlsSrv.URL, "tls: " + strings.TrimPrefix(tlsSrv.URL, "https://") + ": x509: ", "tls"},
		{"bad url", newTestClient(), "http://[::1", "bad url", "other"},
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
			if got := ErrorKind(err); got != tt.wantKind {
				t.Errorf("ErrorKind() = %q, want %q", got, tt.wantKind)
			}
		})
	}
}

// TestErrorKindWrapped checks that the kind survives the caller's wrapping,
// and the kinds of errors that did not come from Fetch.
func TestErrorKindWrapped(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("fetch moscow-times: %w", &StatusError{Code: 429}), "http_429"},
		{fmt.Errorf("fetch x: %w", errBodyTooLarge(1<<20)), "too_large"},
		{fmt.Errorf("fetch x: %w", errEmptyBody), "not_a_feed"},
		{fmt.Errorf("fetch x: %w", refusal("localhost", &netguard.RefusedError{Addr: "127.0.0.1", Why: "a loopback address"})), "private_address"},
		{fmt.Errorf("fetch x: %w", context.DeadlineExceeded), "timeout"},
		{fmt.Errorf("fetch x: %w", context.Canceled), "canceled"},
		{&StatusError{Code: 300}, "other"},
		{errors.New("boom"), "other"},
	}
	for _, tt := range tests {
		if got := ErrorKind(tt.err); got != tt.want {
			t.Errorf("ErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if isGone(fmt.Errorf("fetch x: %w", &StatusError{Code: 404})) || !isGone(fmt.Errorf("fetch x: %w", &StatusError{Code: 410})) {
		t.Error("isGone() wrong for a wrapped 404 or 410")
	}
}

func TestFetchCanceled(t *testing.T) {
	o := newOrigin(t)
	o.on("/feed", hang)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestClient().Fetch(ctx, newsdesk.Source{URL: o.url("/feed")}, newsdesk.FetchState{})
	if !errors.Is(err, context.Canceled) || err.Error() != "canceled" {
		t.Errorf("Fetch() error = %v, want canceled", err)
	}
	if got := ErrorKind(err); got != "canceled" {
		t.Errorf("ErrorKind() = %q, want canceled", got)
	}
}
