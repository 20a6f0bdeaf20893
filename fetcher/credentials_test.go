package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The secrets of the credential tests: none may appear in an error or a log.
const (
	testPassword = "s3cret-pass-Zq7"
	testAPIKey   = "k3y-value-Wx9"
)

// authOrigin is a publisher whose /basic feed needs Basic auth
// newsdesk:testPassword and /key feed the header X-Api-Key: testAPIKey;
// /conditional is /basic with an ETag; /to-other/{301,302,308} redirects
// to its other's /feed, /to-other-401 to its other's /locked (a 401), and
// /bounce to its other's /back, which redirects to /basic here. It records
// the requests each server receives.
type authOrigin struct {
	own, other *httptest.Server
	mu         sync.Mutex
	got        map[string][]http.Header // by server ("own", "other")
}

// newAuthOrigin starts the publisher on 127.0.0.1 and its other host on
// otherIP (another port of 127.0.0.1, or 127.0.0.2: another host).
func newAuthOrigin(t *testing.T, otherIP string) *authOrigin {
	t.Helper()
	o := &authOrigin{got: map[string][]http.Header{}}
	ln, err := net.Listen("tcp", otherIP+":0")
	if err != nil {
		t.Skipf("cannot listen on %s (the OS refuses this loopback address; Linux allows all of 127.0.0.0/8): %v", otherIP, err)
	}
	o.other = httptest.NewUnstartedServer(o.record("other", http.HandlerFunc(o.serveOther)))
	o.other.Listener.Close()
	o.other.Listener = ln
	o.other.Start()
	t.Cleanup(o.other.Close)
	o.own = httptest.NewServer(o.record("own", http.HandlerFunc(o.serveOwn)))
	t.Cleanup(o.own.Close)
	return o
}

func (o *authOrigin) record(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		hd := r.Header.Clone()
		hd.Set("X-Test-Path", r.URL.Path)
		o.got[name] = append(o.got[name], hd)
		o.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// received returns the requests server name received.
func (o *authOrigin) received(name string) []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]http.Header(nil), o.got[name]...)
}

func (o *authOrigin) serveOwn(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/basic" || p == "/conditional":
		if u, pw, ok := r.BasicAuth(); !ok || u != "newsdesk" || pw != testPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="wire"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if p == "/conditional" {
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
		}
		fmt.Fprintf(w, feedXML, "Basic")
	case p == "/key":
		if r.Header.Get("X-Api-Key") != testAPIKey {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, feedXML, "Key")
	case strings.HasPrefix(p, "/to-other/"):
		code := map[string]int{"301": 301, "302": 302, "308": 308}[strings.TrimPrefix(p, "/to-other/")]
		http.Redirect(w, r, o.other.URL+"/feed", code)
	case p == "/to-other-401":
		http.Redirect(w, r, o.other.URL+"/locked", http.StatusMovedPermanently)
	case p == "/bounce":
		http.Redirect(w, r, o.other.URL+"/back", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func (o *authOrigin) serveOther(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/feed":
		fmt.Fprintf(w, feedXML, "Other")
	case "/locked":
		http.Error(w, "no", http.StatusUnauthorized)
	case "/back":
		http.Redirect(w, r, o.own.URL+"/basic", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// wireSource is a source of o's path with both kinds of credentials.
func wireSource(o *authOrigin, path string) newsdesk.Source {
	return newsdesk.Source{ID: "wire", URL: o.own.URL + path,
		Auth:    &newsdesk.BasicAuth{Username: "newsdesk", Password: testPassword},
		Headers: []newsdesk.Header{{Name: "X-Api-Key", Value: testAPIKey}}}
}

// withUserinfo is rawURL with newsdesk:password as its userinfo.
func withUserinfo(rawURL, password string) string {
	u, _ := url.Parse(rawURL)
	u.User = url.UserPassword("newsdesk", password)
	return u.String()
}

// noSecret fails t when text holds a secret of the credential tests.
func noSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{testPassword, testAPIKey, "wrong-" + testPassword} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q: %s", what, s, text)
		}
	}
}

func TestFetchSendsCredentials(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.1")
	basic := &newsdesk.BasicAuth{Username: "newsdesk", Password: testPassword}
	key := []newsdesk.Header{{Name: "X-Api-Key", Value: testAPIKey}}
	tests := []struct {
		name     string
		src      newsdesk.Source
		wantErr  string // "" for a 200
		wantCode int
	}{
		{"basic auth", newsdesk.Source{URL: o.own.URL + "/basic", Auth: basic}, "", 0},
		{"api key header", newsdesk.Source{URL: o.own.URL + "/key", Headers: key}, "", 0},
		{"userinfo in the url", newsdesk.Source{URL: withUserinfo(o.own.URL+"/basic", testPassword)}, "", 0},
		{"auth wins over userinfo", newsdesk.Source{URL: withUserinfo(o.own.URL+"/basic", "wrong-"+testPassword), Auth: basic}, "", 0},
		{"basic auth missing", newsdesk.Source{URL: o.own.URL + "/basic"},
			"credentials required: HTTP 401 Unauthorized (give the source auth:, headers: or user_agent: in feeds.yaml)", 401},
		{"api key missing", newsdesk.Source{URL: o.own.URL + "/key"},
			"credentials required: HTTP 403 Forbidden (give the source auth:, headers: or user_agent: in feeds.yaml)", 403},
		{"wrong password", newsdesk.Source{URL: o.own.URL + "/basic", Auth: &newsdesk.BasicAuth{Username: "newsdesk", Password: "wrong-" + testPassword}},
			"credentials refused: HTTP 401 Unauthorized (check auth/headers, or the environment variables they name)", 401},
		{"wrong password in the url", newsdesk.Source{URL: withUserinfo(o.own.URL+"/basic", "wrong-"+testPassword)},
			"credentials refused: HTTP 401 Unauthorized (check auth/headers, or the environment variables they name)", 401},
		{"wrong header", newsdesk.Source{URL: o.own.URL + "/key", Headers: []newsdesk.Header{{Name: "X-Api-Key", Value: "wrong-" + testPassword}}},
			"credentials refused: HTTP 403 Forbidden (check auth/headers, or the environment variables they name)", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.ID = "wire"
			resp, err := newTestClient().Fetch(context.Background(), tt.src, newsdesk.FetchState{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Fetch() error = %v, want a 200", err)
				}
				if resp.Status != 200 || len(resp.Items) != 2 {
					t.Errorf("Fetch() = status %d, %d items; want 200, 2", resp.Status, len(resp.Items))
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Fetch() error = %v, want %q", err, tt.wantErr)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.wantCode {
				t.Errorf("Fetch() error = %#v, want a StatusError %d", err, tt.wantCode)
			}
			if got := ErrorKind(fmt.Errorf("fetch wire: %w", err)); got != "auth" {
				t.Errorf("ErrorKind() = %q, want auth", got)
			}
			noSecret(t, "the error", err.Error())
		})
	}
}

// TestCredentialsStayOnTheOwnHost follows redirects to another origin: a
// port of the same address, and another loopback host (127.0.0.2).
func TestCredentialsStayOnTheOwnHost(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		t.Run(ip, func(t *testing.T) {
			for _, code := range []string{"301", "302", "308"} {
				t.Run(code, func(t *testing.T) {
					o := newAuthOrigin(t, ip)
					src := wireSource(o, "/to-other/"+code)
					src.UserAgent = "Mozilla/5.0 (compatible; newsdesk-test)"
					resp, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
					if err != nil {
						t.Fatalf("Fetch() error = %v", err)
					}
					own, other := o.received("own"), o.received("other")
					if len(own) != 1 || len(other) != 1 {
						t.Fatalf("requests own, other = %d, %d; want 1, 1", len(own), len(other))
					}
					if own[0].Get("Authorization") == "" || own[0].Get("X-Api-Key") != testAPIKey {
						t.Errorf("the own host got Authorization %q, X-Api-Key %q; want both", own[0].Get("Authorization"), own[0].Get("X-Api-Key"))
					}
					if a, k := other[0].Get("Authorization"), other[0].Get("X-Api-Key"); a != "" || k != "" {
						t.Errorf("the other host got Authorization %q, X-Api-Key %q; want neither", a, k)
					}
					for name, h := range map[string]http.Header{"own": own[0], "other": other[0]} {
						if ua := h.Get("User-Agent"); ua != src.UserAgent {
							t.Errorf("%s host got User-Agent %q, want the source's %q", name, ua, src.UserAgent)
						}
					}
					wantMoved := map[string]string{"301": o.other.URL + "/feed", "308": o.other.URL + "/feed"}[code]
					if resp.MovedTo != wantMoved {
						t.Errorf("MovedTo = %q, want %q", resp.MovedTo, wantMoved)
					}
				})
			}
		})
	}
}

func TestCredentialsComeBackWithTheOwnHost(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.2")
	resp, err := newTestClient().Fetch(context.Background(), wireSource(o, "/bounce"), newsdesk.FetchState{})
	if err != nil {
		t.Fatalf("Fetch() error = %v, want the feed at /basic", err)
	}
	if resp.MovedTo != "" {
		t.Errorf("MovedTo = %q after 302s, want none", resp.MovedTo)
	}
	if other := o.received("other"); len(other) != 1 || other[0].Get("Authorization") != "" || other[0].Get("X-Api-Key") != "" {
		t.Errorf("the other host got %v, want one request without credentials", other)
	}
}

func TestUserinfoStaysOnTheOwnHost(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.2")
	src := newsdesk.Source{ID: "wire", URL: withUserinfo(o.own.URL+"/to-other/301", testPassword)}
	resp, err := newTestClient().Fetch(context.Background(), src, newsdesk.FetchState{})
	if err != nil {
		t.Fatalf("Fetch() error = %v", err)
	}
	if got := o.received("own")[0].Get("Authorization"); got == "" {
		t.Error("the own host got no Authorization, want the userinfo as Basic auth")
	}
	if got := o.received("other")[0].Get("Authorization"); got != "" {
		t.Errorf("the other host got Authorization %q, want none", got)
	}
	noSecret(t, "MovedTo", resp.MovedTo)
}

// TestMovedToAnotherHost: a 301 to another host that ends in a 401 is not
// remembered (and says where the credentials were not sent); one that
// ends in a feed is, and later fetches there carry no credentials, while a
// move on the own host keeps them.
func TestMovedToAnotherHost(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.2")
	ctx := context.Background()
	src := wireSource(o, "/to-other-401")
	st := newsdesk.FetchState{SourceID: src.ID, URL: src.URL}
	_, err := newTestClient().Fetch(ctx, src, st)
	host := strings.TrimPrefix(o.other.URL, "http://")
	want := "credentials required: HTTP 401 Unauthorized from " + host + ", where a redirect led (credentials go only to the source's own host; if the feed lives there, make it the source's url)"
	if err == nil || err.Error() != want {
		t.Fatalf("Fetch() error = %v, want %q", err, want)
	}
	if got, _, _ := applyResult(src, started(src.ID, st, fetchNow), false, nil, err); got.MovedTo != "" || got.Error != want {
		t.Errorf("state after the 401 = MovedTo %q, Error %q; want no move and the error", got.MovedTo, got.Error)
	}

	src = wireSource(o, "/to-other/301")
	st = newsdesk.FetchState{SourceID: src.ID, URL: src.URL}
	resp, err := newTestClient().Fetch(ctx, src, st)
	if err != nil {
		t.Fatal(err)
	}
	st, _, _ = applyResult(src, started(src.ID, st, fetchNow), false, resp, nil)
	if st.MovedTo != o.other.URL+"/feed" {
		t.Fatalf("MovedTo = %q, want %q", st.MovedTo, o.other.URL+"/feed")
	}
	// The scheduler fetches the moved URL, for the configured one.
	target := src
	target.URL = fetchURL(src, st)
	if _, err := newTestClient().Fetch(withOwnURL(ctx, src.URL), target, st); err != nil {
		t.Fatal(err)
	}
	other := o.received("other")
	if last := other[len(other)-1]; last.Get("Authorization") != "" || last.Get("X-Api-Key") != "" {
		t.Errorf("the fetch of the moved URL on the other host carried Authorization %q, X-Api-Key %q; want neither", last.Get("Authorization"), last.Get("X-Api-Key"))
	}

	// Moved on the own host: the credentials, userinfo included, still go.
	configured := newsdesk.Source{ID: "wire", URL: withUserinfo(o.own.URL+"/old", testPassword)}
	target = configured
	target.URL = o.own.URL + "/basic"
	if _, err := newTestClient().Fetch(withOwnURL(ctx, configured.URL), target, newsdesk.FetchState{}); err != nil {
		t.Errorf("Fetch() of a move on the own host = %v, want the credentials sent", err)
	}
}

func TestConditionalGetWithCredentials(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.1")
	src := wireSource(o, "/conditional")
	c := newTestClient()
	resp, err := c.Fetch(context.Background(), src, newsdesk.FetchState{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = c.Fetch(context.Background(), src, newsdesk.FetchState{URL: src.URL, ETag: resp.ETag})
	if err != nil || resp.Result != newsdesk.ResultNotModified {
		t.Fatalf("second Fetch() = %+v, %v; want not_modified", resp, err)
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct{ a, b string }{
		{"https://example.com/feed", "https://EXAMPLE.com:443/other"},
		{"http://example.com/feed", "http://example.com:80/"},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if originOf(a) != originOf(b) {
			t.Errorf("originOf(%s) = %s, originOf(%s) = %s; want one origin", tt.a, originOf(a), tt.b, originOf(b))
		}
	}
	for _, other := range []string{"http://example.com/feed", "https://www.example.com/feed", "https://example.com:8443/feed"} {
		a, _ := url.Parse("https://example.com/feed")
		b, _ := url.Parse(other)
		if originOf(a) == originOf(b) {
			t.Errorf("originOf(%s) = originOf(%s), want another origin", a, other)
		}
	}
}

// TestSchedulerLogsNoSecret runs the scheduler on sources with credentials
// (one moved by a 301, one refused, one with userinfo in its URL) and
// checks that no log line and no stored error shows a secret.
func TestSchedulerLogsNoSecret(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.2")
	refused := wireSource(o, "/basic")
	refused.ID, refused.Auth = "refused", &newsdesk.BasicAuth{Username: "newsdesk", Password: "wrong-" + testPassword}
	moved := wireSource(o, "/to-other/301")
	moved.ID, moved.URL = "moved", withUserinfo(moved.URL, testPassword)
	userinfo := newsdesk.Source{ID: "userinfo", URL: withUserinfo(o.own.URL+"/nowhere", testPassword)}
	sources := []newsdesk.Source{refused, moved, userinfo}
	for i := range sources {
		sources[i].Interval = 10 * time.Minute
	}
	clock := t0
	s, _ := newScheduler(t, &clock, sources...)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	out, err := s.RunOnce(context.Background(), sources, false, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("RunOnce() = %d outcomes, want 3", len(out))
	}
	for _, oc := range out {
		noSecret(t, "the state's error", oc.State.Error)
		noSecret(t, "the state's MovedTo", oc.State.MovedTo)
		if oc.Source.ID == "refused" && oc.Kind != "auth" {
			t.Errorf("refused: kind %q, want auth", oc.Kind)
		}
	}
	for _, want := range []string{"source moved permanently", "credentials refused", "xxxxx@127.0.0.1"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	noSecret(t, "the logs", logs.String())
}

// TestErrorsShowNoPassword: a transport error (net/http's url.Error
// redacts the password, and describe drops the URL) and a URL that does
// not parse (url.Parse's error repeats it whole) never show the password.
func TestErrorsShowNoPassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	for _, raw := range []string{
		"http://newsdesk:" + testPassword + "@" + closed + "/feed",
		"http://newsdesk:" + testPassword + "@example.com/%zz",
	} {
		_, err := newTestClient().Fetch(context.Background(), newsdesk.Source{ID: "wire", URL: raw}, newsdesk.FetchState{})
		if err == nil {
			t.Fatalf("Fetch(%s) succeeded, want an error", newsdesk.RedactURL(raw))
		}
		noSecret(t, "the error", err.Error())
	}
}

// TestRelativeLinksCarryNoPassword: the relative links of a fetched and
// of a pushed feed of a source whose URL holds userinfo resolve against
// its URL without it.
func TestRelativeLinksCarryNoPassword(t *testing.T) {
	const relative = `<rss version="2.0"><channel><title>T</title><link>/</link>
<item><title>%s</title><link>/%s</link><guid isPermaLink="false">%s</guid><pubDate>Thu, 26 Nov 2026 12:00:00 +0000</pubDate></item>
</channel></rss>`
	o := newAuthOrigin(t, "127.0.0.1")
	o.own.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, relative, "Fetched", "fetched", "f")
	})
	src := newsdesk.Source{ID: "a", URL: withUserinfo(o.own.URL+"/feed", testPassword), Interval: 10 * time.Minute}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	if _, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), "a", fmt.Appendf(nil, relative, "Pushed", "pushed", "p"), "application/rss+xml"); err != nil {
		t.Fatal(err)
	}
	var links []string
	db.Items("a", func(it newsdesk.Item) bool {
		links = append(links, it.Link)
		noSecret(t, "item link", it.Link)
		return true
	})
	st, _ := db.State("a")
	noSecret(t, "feed link", st.FeedLink)
	if len(links) != 2 {
		t.Errorf("item links = %q, want the fetched and the pushed", links)
	}
}

// TestArticlePagesCarryNoCredentials: an article page on the source's own
// host is fetched as newsdesk (FetchPage): without the source's
// Authorization, headers or User-Agent; and a 401 there is an ordinary
// http_4xx, not the source's credentials.
func TestArticlePagesCarryNoCredentials(t *testing.T) {
	o := newAuthOrigin(t, "127.0.0.1")
	src := wireSource(o, "/basic")
	src.UserAgent = "Mozilla/5.0 (compatible; newsdesk-test)"
	_, err := newTestClient().FetchPage(context.Background(), src, newsdesk.FetchState{SourceID: src.ID, URL: src.URL}, o.own.URL+"/basic")
	if got := ErrorKind(err); got != "http_4xx" {
		t.Errorf("FetchPage() of a page that needs auth: %v (kind %q), want kind http_4xx", err, got)
	}
	got := o.received("own")
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	if a, k, ua := got[0].Get("Authorization"), got[0].Get("X-Api-Key"), got[0].Get("User-Agent"); a != "" || k != "" || ua != testUA {
		t.Errorf("the page request carried Authorization %q, X-Api-Key %q, User-Agent %q; want none, none, newsdesk's", a, k, ua)
	}
}
