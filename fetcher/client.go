// Package fetcher turns a configured source into normalized items: one
// polite conditional HTTP GET (User-Agent, validators sent back byte for
// byte, a deadline, a cap on the decompressed body, at most five redirects
// with permanent ones reported, the publisher's max-age, Expires and
// Retry-After read), gofeed parsing of the body whatever its charset,
// with the feed's own polling hints, and normalization into newsdesk.Item.
//
// Item HTML is made fit to republish here, once: parsed as a browser would,
// relative URLs resolved, sanitized through an allow-list (bluemonday), so
// the store holds only clean HTML and the publisher need not clean it again.
//
// The Client must not touch the store, decide when a source is due, or
// judge which items are new: Fetch reports what one request saw and the
// caller decides. The Scheduler decides when (the pure policy: Due,
// nextDue) and commits each fetch to its Store with the state update
// applyResult computes.
package fetcher

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/websub"
)

const (
	maxRedirects = 5
	accept       = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)

// Client fetches feeds. Its zero value is not usable: build it with
// NewClient. A Client is safe for concurrent use.
type Client struct {
	// HTTP is built by NewClient: no cookie jar, no Referer on redirects,
	// at most 5 redirects, and permanent (301/308) redirects recorded for
	// Response.MovedTo. A replacement should keep its CheckRedirect.
	HTTP      *http.Client
	UserAgent string // "newsdesk/VERSION (+URL)"
	// MaxBody caps the body after decompression (gzip bombs); 0 means
	// 10 MiB. A larger body is an error, never a truncated parse.
	MaxBody int64
	Now     func() time.Time

	// pageClient reads article pages (page.go), built on HTTP's transport
	// the first time one is fetched.
	pageOnce   sync.Once
	pageClient *http.Client
}

// NewClient returns a Client that identifies itself as userAgent
// ("newsdesk/VERSION" when empty).
func NewClient(userAgent string) *Client {
	if userAgent == "" {
		userAgent = "newsdesk/" + newsdesk.Version
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A few connections per host: polite to publishers, and one slow host
	// cannot take every connection.
	tr.MaxConnsPerHost = 4
	tr.MaxIdleConnsPerHost = 2
	return &Client{
		HTTP: &http.Client{
			Transport:     tr,
			CheckRedirect: checkRedirect,
		},
		UserAgent: userAgent,
		MaxBody:   newsdesk.DefaultMaxBody,
		Now:       time.Now,
	}
}

// Response is the outcome of one successful fetch.
type Response struct {
	Result       newsdesk.Result // ResultOK or ResultNotModified
	ETag         string          // as received (on 200 and on 304 when the server sent a new one; else the previous)
	LastModified string
	FeedTitle    string
	FeedLink     string // an http(s) URL, else ""
	FeedID       string // see newsdesk.FetchState
	FeedUpdated  time.Time
	FeedAuthors  []newsdesk.Person
	Items        []newsdesk.Item // normalized; nil on 304
	MovedTo      string          // final URL when a 301/308 was followed, else ""
	Status       int             // HTTP status
	Bytes        int64           // body bytes parsed, after decompression
	// CacheUntil is when the response stops being fresh by its
	// Cache-Control max-age or else its Expires, on 200 and 304: a "not
	// before" for the next poll. Zero when the headers allow a poll at
	// once or say nothing; at most a week after the fetch.
	CacheUntil time.Time
	// Hints are the feed's own polling hints (ttl, skipHours, skipDays,
	// sy:updatePeriod); zero on 304.
	Hints newsdesk.FeedHints
	// Capped is how many of the feed's items were beyond the source's
	// MaxItemsPerFetch: the oldest, left out of Items.
	Capped int
	// WebSub are the hub and self links of a 200: from its Link header,
	// else from its body (discover).
	WebSub newsdesk.WebSubLinks
}

// StatusError is the error for a response that is neither 2xx nor 304.
// RetryAfter is the Retry-After header as received (seconds or an
// HTTP-date); RetryAt is when it says to come back, zero when it is
// absent, unparseable or past, and at most a week after the fetch.
//
// Credentials is set on a 401 or 403 to a source's feed request (never on
// an article page's): CredentialsRefused when the request carried the
// source's credentials, CredentialsRequired when it carried none (the
// source has none, or the request was redirected to another host, where
// none are sent: OtherHost names it). ErrorKind labels both "auth".
type StatusError struct {
	Code        int
	RetryAfter  string
	RetryAt     time.Time
	Credentials string
	OtherHost   string
}

// The values of StatusError.Credentials.
const (
	CredentialsRefused  = "refused"
	CredentialsRequired = "required"
)

func (e *StatusError) Error() string {
	text := http.StatusText(e.Code)
	switch {
	case e.Credentials == CredentialsRefused:
		return fmt.Sprintf("credentials refused: HTTP %d %s (check auth/headers, or the environment variables they name)", e.Code, text)
	case e.Credentials == CredentialsRequired && e.OtherHost != "":
		return fmt.Sprintf("credentials required: HTTP %d %s from %s, where a redirect led (credentials go only to the source's own host; if the feed lives there, make it the source's url)", e.Code, text, e.OtherHost)
	case e.Credentials == CredentialsRequired:
		return fmt.Sprintf("credentials required: HTTP %d %s (give the source auth:, headers: or user_agent: in feeds.yaml)", e.Code, text)
	}
	msg := fmt.Sprintf("http status %d", e.Code)
	if text != "" {
		msg += " " + text
	}
	if e.Code == http.StatusGone {
		return msg + ": the publisher removed this feed; change its url in feeds.yaml"
	}
	if !e.RetryAt.IsZero() {
		msg += " (retry after " + e.RetryAt.UTC().Format(time.RFC3339) + ")"
	}
	return msg
}

// isGone reports whether err is a 410 Gone: the publisher removed the feed
// and it should not be fetched again from that URL.
func isGone(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusGone
}

// The kinds of fetch error, as ErrorKind returns them.
const (
	kindTimeout   = "timeout"
	kindDNS       = "dns"
	kindTLS       = "tls"
	kindConn      = "connection"
	kindRedirects = "redirects"
	kindTooLarge  = "too_large"
	kindNotAFeed  = "not_a_feed"
	kindParse     = "parse"
	kindCanceled  = "canceled"
	kindAuth      = "auth"
	kindOther     = "other"
)

// ErrorKind classifies an error from Fetch (wrapped or not) into a short
// stable label for metrics and status: "timeout", "dns", "tls",
// "connection", "redirects", "too_large", "not_a_feed", "parse", "auth"
// (a source's 401 or 403: its credentials refused or missing; an article
// page's stays http_4xx), "http_404", "http_410", "http_429", "http_503",
// "http_4xx" (other 4xx),
// "http_5xx" (other 5xx), "canceled", "private_address" (an article
// request refused by the guard, guard.go) or "other"; for article pages
// also "not_html" and "bad_url" (page.go) and extract's "selector",
// "no_article", "too_short" and "too_large". The article pass records its
// own "disallowed", "robots_unreachable" and "interrupted" without an
// error to classify. It is "" for nil.
func ErrorKind(err error) string {
	var (
		se *StatusError
		fe *fetchError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se):
		switch c := se.Code; {
		case se.Credentials != "":
			return kindAuth
		case c == 404, c == 410, c == 429, c == 503:
			return fmt.Sprintf("http_%d", c)
		case c >= 400 && c <= 499:
			return "http_4xx"
		case c >= 500 && c <= 599:
			return "http_5xx"
		}
		return kindOther
	case errors.As(err, &fe) && fe.kind != "":
		return fe.kind
	case errors.Is(err, context.DeadlineExceeded):
		return kindTimeout
	case errors.Is(err, context.Canceled):
		return kindCanceled
	}
	return kindOther
}

// Fetch does one conditional GET of src.URL and parses the feed.
//
// The validators of prev (If-None-Match = prev.ETag, If-Modified-Since =
// prev.LastModified) are sent byte for byte, and only when prev.URL ==
// src.URL: validators belong to the URL they came from. The fetch is bounded
// by src.Timeout (30s when unset) on top of ctx. A status other than 2xx and
// 304 is a *StatusError; a 401 or 403 says whether the source's
// credentials were refused or none were sent (StatusError.Credentials).
//
// The request carries src.UserAgent when set (else the client's), and
// src's credentials (credentials.go) on every hop to the source's own
// origin only: that of src.URL, or of the configured URL the context
// carries when src.URL is where the source moved (the scheduler's). Its
// userinfo is never sent as such: it is the Basic auth when src.Auth is
// unset, under the same rule.
//
// Errors name the kind of failure ("timed out after 30s", "dns: no such
// host example.org", "too many redirects (5)") but not the source, and
// never a password; the caller adds the source. ErrorKind labels them for
// metrics.
func (c *Client) Fetch(ctx context.Context, src newsdesk.Source, prev newsdesk.FetchState) (*Response, error) {
	timeout := fetchTimeout(ctx, src)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rs := &redirects{creds: credentialsOf(ctx, src)}
	ctx = context.WithValue(ctx, redirectsKey{}, rs)

	conditional := prev.URL == src.URL
	req, err := c.newRequest(ctx, src, prev, conditional)
	if err != nil {
		return nil, err
	}
	rs.sent = rs.creds.apply(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, describe(ctx, err, timeout, req.URL.Host)
	}
	defer resp.Body.Close()

	now := c.now(ctx)
	out := &Response{
		Status:       resp.StatusCode,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		MovedTo:      rs.movedTo,
		CacheUntil:   cacheUntil(resp.Header, now),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		drain(resp.Body)
		if conditional && out.ETag == "" {
			out.ETag = prev.ETag
		}
		if conditional && out.LastModified == "" {
			out.LastModified = prev.LastModified
		}
		out.Result = newsdesk.ResultNotModified
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		drain(resp.Body)
		ra := resp.Header.Get("Retry-After")
		se := &StatusError{Code: resp.StatusCode, RetryAfter: ra, RetryAt: retryAt(ra, now)}
		rs.explain(se, resp.Request.URL)
		return nil, se
	}

	body, err := c.readResponse(ctx, resp, src, timeout)
	if err != nil {
		return nil, err
	}
	parsed, err := parse(body, resp.Header.Get("Content-Type"), resp.Request.URL.String(), src, now)
	if err != nil {
		return nil, err
	}
	out.Result = newsdesk.ResultOK
	out.FeedTitle = parsed.FeedTitle
	out.FeedLink = parsed.FeedLink
	out.FeedID, out.FeedUpdated, out.FeedAuthors = parsed.FeedID, parsed.FeedUpdated, parsed.FeedAuthors
	out.Items = parsed.Items
	out.Hints = parsed.Hints
	out.Capped = parsed.Capped
	out.WebSub = parsed.WebSub
	if l := websub.ParseLinks(resp.Header.Values("Link"), resp.Request.URL); !l.IsZero() {
		out.WebSub = l
	}
	out.Bytes = int64(len(body))
	return out, nil
}

// newRequest is the GET of src.URL as src's User-Agent, with prev's
// validators when conditional.
func (c *Client) newRequest(ctx context.Context, src newsdesk.Source, prev newsdesk.FetchState, conditional bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		// url.Parse's error repeats the URL, userinfo and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bad url %q: %w", newsdesk.RedactURL(src.URL), err)
	}
	req.Header.Set("User-Agent", c.userAgent(src))
	req.Header.Set("Accept", accept)
	// Go's transport asks for gzip and decompresses by itself as long as
	// Accept-Encoding is left alone.
	if conditional {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	return req, nil
}

// readResponse reads resp's body, a response to a request of src made
// with timeout, under src's body cap (the client's when it has none).
func (c *Client) readResponse(ctx context.Context, resp *http.Response, src newsdesk.Source, timeout time.Duration) ([]byte, error) {
	limit := c.maxBody()
	if src.MaxBody > 0 {
		limit = src.MaxBody
	}
	body, err := readBody(resp.Body, limit, resp.ContentLength)
	if err != nil {
		return nil, describe(ctx, err, timeout, resp.Request.URL.Host)
	}
	return body, nil
}

func (c *Client) maxBody() int64 {
	if c.MaxBody > 0 {
		return c.MaxBody
	}
	return newsdesk.DefaultMaxBody
}

// clockKey is the context key of the clock a fetch's times come from when
// it is not the client's: a cluster store's (the database's clock).
type clockKey struct{}

// withClock returns ctx carrying the clock now for the fetches made with it.
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// now is the time by the clock ctx carries, else by the client's.
func (c *Client) now(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now()
	}
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// sizedRead is the most readBody allocates at once for the length a
// response declares: a liar's "10 MiB" must not cost 10 MiB before
// anything arrives; a longer body grows the buffer as it comes.
const sizedRead = 1 << 20

// readBody reads at most limit bytes, into a buffer of the response's
// declared size (size, -1 when unknown; at most sizedRead) rather than one
// grown from 512 bytes by doubling. A body that is still gzip after the
// transport (a .xml.gz served without Content-Encoding, or compressed
// twice) is decompressed, under the same cap.
func readBody(r io.Reader, limit, size int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(size, 0), limit, sizedRead)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	body := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, errBodyTooLarge(limit)
	}
	if !bytes.HasPrefix(body, []byte{0x1f, 0x8b, 0x08}) {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body, nil
	}
	plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, &fetchError{kindParse, "gunzip body: " + err.Error(), err}
	}
	if int64(len(plain)) > limit {
		return nil, errBodyTooLarge(limit)
	}
	return plain, nil
}

func errBodyTooLarge(limit int64) error {
	size := fmt.Sprintf("%d bytes", limit)
	switch {
	case limit%(1<<20) == 0:
		size = fmt.Sprintf("%d MiB", limit>>20)
	case limit%(1<<10) == 0:
		size = fmt.Sprintf("%d KiB", limit>>10)
	}
	return &fetchError{kind: kindTooLarge, msg: "body larger than " + size}
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
}

// redirects records, for one fetch, where its permanent redirects led,
// and sends the source's credentials on each hop to its own origin only.
type redirects struct {
	movedTo   string // the URL after the leading run of 301/308
	temporary bool   // a 302/303/307 came first: the configured URL stays
	creds     credentials
	sent      bool // the latest request carried the credentials
}

// explain marks se, the answer to the fetch's last request (to final),
// as about credentials when it is a 401 or 403.
func (rs *redirects) explain(se *StatusError, final *url.URL) {
	if se.Code != http.StatusUnauthorized && se.Code != http.StatusForbidden {
		return
	}
	se.Credentials = CredentialsRequired
	switch {
	case rs.sent:
		se.Credentials = CredentialsRefused
	case rs.creds.any():
		se.OtherHost = final.Host
	}
}

type redirectsKey struct{}

// errTooManyRedirects stops a redirect chain (or loop).
var errTooManyRedirects = &fetchError{kind: kindRedirects, msg: fmt.Sprintf("too many redirects (%d)", maxRedirects)}

// checkRedirect is the CheckRedirect of Client.HTTP. It caps redirects,
// removes the Referer that net/http adds, sends the source's credentials
// to its own origin only (credentials.go), and notes permanent redirects in
// the fetch's context. Only a run of 301/308 from the configured URL moves
// the source: after a 302 the configured URL stays right.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	req.Header.Del("Referer")
	rs, ok := req.Context().Value(redirectsKey{}).(*redirects)
	if !ok {
		return nil
	}
	rs.sent = rs.creds.apply(req)
	if req.Response == nil {
		return nil
	}
	switch code := req.Response.StatusCode; {
	case !rs.temporary && (code == http.StatusMovedPermanently || code == http.StatusPermanentRedirect):
		rs.movedTo = req.URL.String()
	default:
		rs.temporary = true
	}
	return nil
}

// fetchError is an error whose message is written for the operator
// ("timed out after 30s") while Unwrap keeps the cause for errors.Is. It
// replaces net/http's `Get "https://...": ` chains, which repeat the URL
// the caller already knows. kind is what ErrorKind reports.
type fetchError struct {
	kind string
	msg  string
	err  error
}

func (e *fetchError) Error() string { return e.msg }
func (e *fetchError) Unwrap() error { return e.err }

// describe names the kind of a transport error of a request to host.
func describe(ctx context.Context, err error, timeout time.Duration, host string) error {
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		netErr   net.Error
		urlErr   *url.Error
		fe       *fetchError
	)
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			host = u.Host
		}
	}
	switch {
	case errors.Is(err, errTooManyRedirects):
		return errTooManyRedirects
	case errors.As(err, &fe):
		return fe // already described (body too large, an article's private address)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return &fetchError{kindTimeout, fmt.Sprintf("timed out after %s", timeout.Round(time.Millisecond)), err}
	case errors.Is(err, context.Canceled):
		return &fetchError{kindCanceled, "canceled", err}
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return &fetchError{kindDNS, "dns: no such host " + dnsErr.Name, err}
		case dnsErr.IsTimeout:
			return &fetchError{kindDNS, "dns: timed out looking up " + dnsErr.Name, err}
		}
		return &fetchError{kindDNS, fmt.Sprintf("dns: lookup %s: %s", dnsErr.Name, dnsErr.Err), err}
	case errors.As(err, &certErr):
		return &fetchError{kindTLS, fmt.Sprintf("tls: %s: %v", host, certErr.Err), err}
	case errors.As(err, &recErr):
		return &fetchError{kindTLS, fmt.Sprintf("tls: %s: server did not answer with TLS", host), err}
	case errors.As(err, &alertErr):
		return &fetchError{kindTLS, fmt.Sprintf("tls: %s: %v", host, alertErr), err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &fetchError{kindConn, "connection refused by " + host, err}
	case errors.Is(err, syscall.ECONNRESET):
		return &fetchError{kindConn, "connection reset by " + host, err}
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return &fetchError{kindConn, "network unreachable: " + host, err}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &fetchError{kindTimeout, fmt.Sprintf("timed out: %s", host), err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &fetchError{kindConn, "connection closed early by " + host, err}
	case urlErr != nil:
		return fmt.Errorf("request: %w", urlErr.Err)
	}
	return err
}
