package fetcher

// page.go reads the article pages of full-text sources (issue 13): the
// article pass (articles.go) and refetch-text (RefetchText) call FetchPage
// for each page, and the pass's robots.txt cache reads robots.txt through
// the same client. The politeness is the feed fetch's (User-Agent, a
// deadline, a body cap, at most five redirects without a Referer, a
// StatusError with Retry-After, errors described and labelled by
// ErrorKind); what differs is that a page is a link the publisher chose,
// so every request and redirect hop goes through guard.go's pageTransport.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/charset"
)

const acceptHTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

// The kinds of page error besides those of a feed fetch.
const (
	kindNotHTML = "not_html" // the link answered with something other than an HTML page
	kindBadURL  = "bad_url"  // the item's link is not an http(s) URL
)

// Page is an article page as FetchPage read it.
type Page struct {
	Body        []byte   // the page as UTF-8, whatever charset it came in
	URL         *url.URL // where it was read, after redirects: the base of its relative URLs
	ContentType string   // as the server sent it
	Charset     string   // the charset it was decoded from (charset.HTML's label)
}

// FetchPage does one GET of the article page rawURL linked from src's feed,
// whose stored state is st (st.MovedTo counts as the feed's host too), and
// decodes it to UTF-8 (charset from the Content-Type, else the page's
// <meta>). It does not consult robots.txt; the article pass does, before.
//
// The request, and every redirect, may connect only to a public address
// unless its host is the feed's own (src.URL's or where the feed moved) or
// src.FullText.AllowPrivate is set: a refusal is an error of kind
// "private_address". A status other than 2xx is a *StatusError (with
// Retry-After); a response that is not HTML (Content-Type other than
// text/html or application/xhtml+xml, when given) is kind "not_html". The
// deadline is src.Timeout and the body cap src.MaxBody, as for the feed.
func (c *Client) FetchPage(ctx context.Context, src newsdesk.Source, st newsdesk.FetchState, rawURL string) (*Page, error) {
	if _, err := articleURL(rawURL); err != nil {
		return nil, err
	}
	timeout := fetchTimeout(ctx, src)
	ctx, cancel := context.WithTimeout(pageContext(ctx, src, st), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &fetchError{kind: kindBadURL, msg: fmt.Sprintf("article link %q: %v", rawURL, err), err: err}
	}
	req.Header.Set("User-Agent", c.UserAgent)
	req.Header.Set("Accept", acceptHTML)
	resp, err := c.pages().Do(req)
	if err != nil {
		return nil, describe(ctx, err, timeout, req.URL.Host)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		ra := resp.Header.Get("Retry-After")
		return nil, &StatusError{Code: resp.StatusCode, RetryAfter: ra, RetryAt: retryAt(ra, c.now(ctx))}
	}
	ct := resp.Header.Get("Content-Type")
	if !isHTMLType(ct) {
		drain(resp.Body)
		return nil, &fetchError{kind: kindNotHTML, msg: fmt.Sprintf("%s is %s, not an HTML page", resp.Request.URL.Redacted(), ct)}
	}
	body, err := c.readResponse(ctx, resp, src, timeout)
	if err != nil {
		return nil, err
	}
	text, label, err := charset.HTML(body, ct)
	if err != nil {
		return nil, &fetchError{kind: kindParse, msg: fmt.Sprintf("decode %s: %v", resp.Request.URL.Redacted(), err), err: err}
	}
	return &Page{Body: text, URL: resp.Request.URL, ContentType: ct, Charset: label}, nil
}

// articleURL parses an item's link as an article page's URL: an absolute
// http or https URL, else an error of kind bad_url.
func articleURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &fetchError{kind: kindBadURL, msg: fmt.Sprintf("article link %q is not an http or https URL", rawURL), err: err}
	}
	return u, nil
}

// pageContext marks ctx for the article requests of src, whose feed state
// is st: the feed's own hosts, and everything with allow_private, may be
// reached on private addresses (guard.go).
func pageContext(ctx context.Context, src newsdesk.Source, st newsdesk.FetchState) context.Context {
	return withExemption(ctx, src.FullText.AllowPrivate, src.URL, fetchURL(src, st))
}

// fetchTimeout is how long one request of src may take: src.Timeout (or
// the default), less when ctx ends sooner.
func fetchTimeout(ctx context.Context, src newsdesk.Source) time.Duration {
	timeout := src.Timeout
	if timeout <= 0 {
		timeout = newsdesk.DefaultTimeout
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), 0)
	}
	return timeout
}

// isHTMLType reports whether a Content-Type is an HTML page's; a missing one
// is taken for HTML (the extractor judges the bytes).
func isHTMLType(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// pages is the client of article requests: the feed client's transport
// for exempt hosts, a guarded one otherwise (pageTransport), with the feed
// client's redirect rules.
func (c *Client) pages() *http.Client {
	c.pageOnce.Do(func() {
		var open http.RoundTripper
		if c.HTTP != nil {
			open = c.HTTP.Transport
		}
		if c.pageClient == nil {
			c.pageClient = &http.Client{Transport: newPageTransport(open), CheckRedirect: checkRedirect}
		}
	})
	return c.pageClient
}

// fetchRobots reads a robots.txt for robotsCache: the final status after
// redirects and at most robotsMaxBytes of the body (a longer one is cut,
// as RFC 9309 allows). A chain of redirects that runs out is status 300:
// "unavailable", as the RFC says, not unreachable. ctx carries the
// source's exemption (pageContext) and deadline.
func (c *Client) fetchRobots(ctx context.Context, robotsURL string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("User-Agent", c.UserAgent)
	req.Header.Set("Accept", "text/plain,*/*;q=0.8")
	resp, err := c.pages().Do(req)
	if errors.Is(err, errTooManyRedirects) {
		return http.StatusMultipleChoices, nil, nil
	}
	if err != nil {
		return 0, nil, describe(ctx, err, fetchTimeout(ctx, newsdesk.Source{}), req.URL.Host)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return resp.StatusCode, nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, robotsMaxBytes))
	if err != nil {
		return 0, nil, describe(ctx, err, fetchTimeout(ctx, newsdesk.Source{}), req.URL.Host)
	}
	return resp.StatusCode, body, nil
}
