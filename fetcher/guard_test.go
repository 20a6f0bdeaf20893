package fetcher

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/netguard"
)

// feed's.
func TestExemptionAllows(t *testing.T) {
	tests := []struct {
		name         string
		allowPrivate bool
		feeds        []string
		host         string
		want         bool
	}{
		{"same host", false, []string{"http://intranet.example/feed"}, "intranet.example", true},
		{"case and port", false, []string{"http://Intranet.EXAMPLE:8080/feed"}, "intranet.example", true},
		{"trailing dot", false, []string{"http://intranet.example./feed"}, "INTRANET.example", true},
		{"moved to", false, []string{"http://old.example/feed", "https://new.example/rss"}, "new.example", true},
		{"other host", false, []string{"http://intranet.example/feed"}, "other.example", false},
		{"subdomain", false, []string{"http://example.org/feed"}, "www.example.org", false},
		{"localhost is not 127.0.0.1", false, []string{"http://127.0.0.1:8080/feed"}, "localhost", false},
		{"IPv6 spelling", false, []string{"http://[0:0::1]/feed"}, "::1", true},
		{"IPv4-mapped literal", false, []string{"http://127.0.0.1/feed"}, "::ffff:127.0.0.1", true},
		{"empty host", false, []string{"file:///feed.xml"}, "", false},
		{"bad feed url", false, []string{"http://[::1"}, "::1", false},
		{"no feed", false, nil, "intranet.example", false},
		{"allow_private", true, nil, "10.0.0.5", true},
	}
	for _, tt := range tests {
		ctx := withExemption(context.Background(), tt.allowPrivate, tt.feeds...)
		ex, _ := ctx.Value(exemptionKey{}).(exemption)
		if got := ex.allows(tt.host); got != tt.want {
			t.Errorf("%s: exemption for %q allows(%q) = %v, want %v", tt.name, tt.feeds, tt.host, got, tt.want)
		}
	}
	if (exemption{}).allows("127.0.0.1") {
		t.Error("a request without an exemption is exempt")
	}
}

// counted is a test server that counts the requests and the connections it
// gets: a refused address must see neither.
type counted struct {
	*httptest.Server
	reqs, conns atomic.Int32
}

// serveOn starts a counted server on addr ("127.0.0.2:0"), answering
// every path with "page" except /redirect?to=URL, which redirects.
func serveOn(t *testing.T, addr string) *counted {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	c := &counted{}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.reqs.Add(1)
		if to := r.URL.Query().Get("to"); r.URL.Path == "/redirect" && to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "page")
	}))
	c.Listener = ln
	c.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

// pageClient is the article client as FetchPage builds it: the page
// transport beside a feed transport, and the feed client's redirect rules.
func pageClient(t *testing.T, pt *pageTransport) *http.Client {
	t.Helper()
	c := &http.Client{Transport: pt, CheckRedirect: checkRedirect, Timeout: 30 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// get fetches rawURL with ctx and returns the body or the error as
// describe gives it to the operator.
func get(ctx context.Context, c *http.Client, rawURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", describe(ctx, err, 30*time.Second, req.URL.Host)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestPageTransport fetches pages over loopback: the feed is on
// 127.0.0.1, so 127.0.0.2, localhost and [::1] are other hosts on
// refused addresses.
func TestPageTransport(t *testing.T) {
	feed := serveOn(t, "127.0.0.1:0")
	private := serveOn(t, "127.0.0.2:0")
	feedURL := feed.URL + "/feed.xml"
	_, feedPort, _ := net.SplitHostPort(feed.Listener.Addr().String())
	client := pageClient(t, newPageTransport(NewClient("").HTTP.Transport))

	refused := []struct {
		name, url, host, addr string
		ctx                   context.Context
	}{
		{"another loopback host", private.URL + "/story", "127.0.0.2", "127.0.0.2",
			withExemption(context.Background(), false, feedURL)},
		{"redirect from the feed's host", feed.URL + "/redirect?to=" + url.QueryEscape(private.URL+"/story"), "127.0.0.2", "127.0.0.2",
			withExemption(context.Background(), false, feedURL)},
		{"redirect to localhost", feed.URL + "/redirect?to=" + url.QueryEscape("http://localhost:"+feedPort+"/story"), "localhost", "",
			withExemption(context.Background(), false, feedURL)},
		{"no exemption at all", feed.URL + "/story", "127.0.0.1", "127.0.0.1", context.Background()},
		{"another source's feed host", private.URL + "/story", "127.0.0.2", "127.0.0.2",
			withExemption(context.Background(), false, "http://127.0.0.3/feed")},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			feedBefore, privBefore, privConns := feed.reqs.Load(), private.reqs.Load(), private.conns.Load()
			body, err := get(tt.ctx, client, tt.url)
			checkRefused(t, body, err, tt.host, tt.addr)
			if n := private.reqs.Load() - privBefore; n != 0 {
				t.Errorf("127.0.0.2 got %d requests, want 0", n)
			}
			if n := private.conns.Load() - privConns; n != 0 {
				t.Errorf("127.0.0.2 got %d connections, want 0", n)
			}
			if strings.Contains(tt.url, "/redirect") && feed.reqs.Load()-feedBefore != 1 {
				t.Errorf("the feed's host got %d requests, want 1 (the first hop)", feed.reqs.Load()-feedBefore)
			}
		})
	}

	allowed := []struct {
		name, url string
		ctx       context.Context
	}{
		{"the feed's host", feed.URL + "/story", withExemption(context.Background(), false, feedURL)},
		{"the feed's host on another port", private.URL + "/story", withExemption(context.Background(), false, "http://127.0.0.2:1/feed")},
		{"where the feed moved", private.URL + "/story", withExemption(context.Background(), false, feedURL, "http://127.0.0.2/feed")},
		{"allow_private", private.URL + "/story", withExemption(context.Background(), true, feedURL)},
		{"allow_private through a redirect", feed.URL + "/redirect?to=" + url.QueryEscape(private.URL+"/story"),
			withExemption(context.Background(), true)},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			body, err := get(tt.ctx, client, tt.url)
			if err != nil || body != "page" {
				t.Errorf("GET %s = %q, %v; want the page", tt.url, body, err)
			}
		})
	}
}

// checkRefused checks the error of a refused request: its kind, and a
// message naming the host, the address (when known) and the fix.
func checkRefused(t *testing.T, body string, err error, host, addr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("GET = %q, nil error; want it refused", body)
	}
	t.Logf("error: %v", err)
	if got := ErrorKind(err); got != "private_address" {
		t.Errorf("ErrorKind() = %q, want private_address", got)
	}
	msg := err.Error()
	for _, want := range []string{"private address: " + host + " ", addr, "newsdesk refuses for article links",
		"allow_private: true in the source's full_text allows it"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, `Get "`) {
		t.Errorf("error %q repeats net/http's URL prefix", msg)
	}
	var re *netguard.RefusedError
	if !errors.As(err, &re) {
		t.Errorf("error %v does not wrap the dialer's refusal", err)
	}
}

// TestPageTransportIPv6Loopback refuses [::1] for a feed on 127.0.0.1.
func TestPageTransportIPv6Loopback(t *testing.T) {
	v6 := serveOn(t, "[::1]:0")
	client := pageClient(t, newPageTransport(nil))
	ctx := withExemption(context.Background(), false, "http://127.0.0.1/feed")
	body, err := get(ctx, client, v6.URL+"/story")
	checkRefused(t, body, err, "::1", "::1")
	if !strings.Contains(err.Error(), "::1 is a loopback address") {
		t.Errorf("error %q, want it to say ::1 is a loopback address", err)
	}
	if v6.conns.Load() != 0 {
		t.Errorf("[::1] got %d connections, want 0", v6.conns.Load())
	}
	if body, err := get(withExemption(context.Background(), false, "http://[::1]:1/feed"), client, v6.URL+"/story"); err != nil || body != "page" {
		t.Errorf("GET [::1] exempt = %q, %v; want the page", body, err)
	}
}

// TestPageTransportPooledConnections checks that one request's exemption
// does not carry over to another through a kept-alive connection: the
// exempt request's connection is the open transport's, and the guarded
// transport refuses the address even when asked directly with an
// exemption in the context.
func TestPageTransportPooledConnections(t *testing.T) {
	private := serveOn(t, "127.0.0.2:0")
	pt := newPageTransport(NewClient("").HTTP.Transport)
	client := pageClient(t, pt)
	exempt := withExemption(context.Background(), false, "http://127.0.0.2/feed")
	other := withExemption(context.Background(), false, "http://127.0.0.1/feed")

	for i, step := range []struct {
		ctx     context.Context
		allowed bool
	}{{exempt, true}, {other, false}, {exempt, true}, {other, false}} {
		body, err := get(step.ctx, client, private.URL+"/story")
		if step.allowed && (err != nil || body != "page") {
			t.Errorf("request %d (exempt) = %q, %v; want the page", i+1, body, err)
		}
		if !step.allowed && ErrorKind(err) != "private_address" {
			t.Errorf("request %d (another source) = %q, %v; want it refused", i+1, body, err)
		}
	}
	if got := private.reqs.Load(); got != 2 {
		t.Errorf("127.0.0.2 got %d requests, want 2 (the exempt ones)", got)
	}
	if got := private.conns.Load(); got != 1 {
		t.Errorf("127.0.0.2 got %d connections, want 1 (kept alive between the exempt requests)", got)
	}

	// The guarded transport on its own, asked with allow_private.
	req, _ := http.NewRequestWithContext(withExemption(context.Background(), true), http.MethodGet, private.URL+"/story", nil)
	resp, err := pt.guarded.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the guarded transport connected to 127.0.0.2 given an exempt context")
	}
	if !errors.As(err, new(*netguard.RefusedError)) {
		t.Errorf("guarded RoundTrip error = %v, want the dialer's refusal", err)
	}
	if got := private.conns.Load(); got != 1 {
		t.Errorf("127.0.0.2 got %d connections, want still 1", got)
	}
}

// TestGuardedTransportPublicPath dials through the guarded transport with a
// check that takes 127.0.0.1 for public (every test server is on
// loopback): a public page is fetched, directly and never through the
// feed transport's proxy, the check sees each address dialed, and
// 127.0.0.2 is still refused.
func TestGuardedTransportPublicPath(t *testing.T) {
	public := serveOn(t, "127.0.0.1:0")
	private := serveOn(t, "127.0.0.2:0")
	proxy := serveOn(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(public.Listener.Addr().String())

	open := NewClient("").HTTP.Transport.(*http.Transport)
	proxyURL, _ := url.Parse(proxy.URL)
	open.Proxy = http.ProxyURL(proxyURL)
	var (
		mu   sync.Mutex
		seen []string
	)
	testPublic := func(a netip.Addr) string {
		mu.Lock()
		seen = append(seen, a.String())
		mu.Unlock()
		if a == netip.MustParseAddr("127.0.0.1") {
			return ""
		}
		return netguard.Reason(a)
	}
	pt := &pageTransport{open: open, guarded: netguard.TransportWith(open, testPublic)}
	client := pageClient(t, pt)
	ctx := withExemption(context.Background(), false, "http://feed.example/feed")

	for _, u := range []string{public.URL + "/story", "http://localhost:" + port + "/story"} {
		if body, err := get(ctx, client, u); err != nil || body != "page" {
			t.Errorf("GET %s = %q, %v; want the page", u, body, err)
		}
	}
	if got := public.reqs.Load(); got != 2 {
		t.Errorf("the public page got %d requests, want 2", got)
	}
	if got := proxy.reqs.Load(); got != 0 {
		t.Errorf("the proxy got %d requests through the guarded transport, want 0", got)
	}
	mu.Lock()
	got := strings.Join(seen, " ")
	mu.Unlock()
	if !strings.Contains(got, "127.0.0.1") {
		t.Errorf("the check saw %q, want the address localhost was resolved to", got)
	}

	body, err := get(ctx, client, private.URL+"/story")
	checkRefused(t, body, err, "127.0.0.2", "127.0.0.2")

	// The exempt host takes the feed transport, proxy and all.
	if body, err := get(withExemption(context.Background(), false, "http://feed.example/feed"), client, "http://feed.example/story"); err != nil || body != "page" {
		t.Errorf("GET the exempt host = %q, %v; want the page through the proxy", body, err)
	}
	if got := proxy.reqs.Load(); got != 1 {
		t.Errorf("the proxy got %d requests, want 1 (the exempt host's)", got)
	}
}

// TestGuardedTransportIsAClone checks what newPageTransport keeps of the
// feed transport and what it must not.
func TestGuardedTransportIsAClone(t *testing.T) {
	open := NewClient("").HTTP.Transport.(*http.Transport)
	open.DialTLSContext = func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("unchecked dial") }
	pt := newPageTransport(open)
	g := pt.guarded.(*http.Transport)
	if g == open {
		t.Fatal("the guarded transport is the feed transport")
	}
	if g.Proxy != nil || g.DialTLSContext != nil || g.DialContext == nil {
		t.Errorf("guarded: Proxy set %v, DialTLSContext set %v, DialContext set %v; want only DialContext",
			g.Proxy != nil, g.DialTLSContext != nil, g.DialContext != nil)
	}
	if g.MaxConnsPerHost != open.MaxConnsPerHost || g.MaxIdleConnsPerHost != open.MaxIdleConnsPerHost {
		t.Errorf("guarded per-host limits %d/%d, want the feed transport's %d/%d",
			g.MaxConnsPerHost, g.MaxIdleConnsPerHost, open.MaxConnsPerHost, open.MaxIdleConnsPerHost)
	}
	if pt.open != http.RoundTripper(open) {
		t.Error("the open transport is not the feed transport")
	}
}
