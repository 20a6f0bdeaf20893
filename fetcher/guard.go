package fetcher

// guard.go keeps article fetches (issue 13, full_text) off the operator's
// own network. A feed's URL is chosen by the operator and is fetched as
// configured; an article's link is chosen by the publisher, so a page
// request, and every redirect hop of it, may connect only to a public
// address unless it goes to the feed's own host or the source says
// allow_private. The article fetch (FetchPage and the article pass, and
// refetch-text through them) builds its client on a pageTransport and marks
// each request's context with withExemption; the feed fetch never uses
// this file.
//
// The ranges refused and the dial-time check are internal/netguard's,
// shared with the WebSub hub's deliveries; this file keeps the exemptions.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/newsdesk/newsdesk/internal/netguard"
)

// kindPrivateAddress is ErrorKind's label for an article request refused
// by the guard.
const kindPrivateAddress = "private_address"

// pageTransport is the transport of article requests. For every request,
// and so for every redirect hop (http.Client calls RoundTrip once per
// hop, with the first request's context), it takes open, the feed
// client's transport, when the hop's host is exempt by the context's
// withExemption, and guarded otherwise. The two keep separate connection
// pools, so a connection opened under an exemption is never reused by a
// request without one: guarded dials no refused address, whatever the
// context.
type pageTransport struct {
	open    http.RoundTripper
	guarded http.RoundTripper
}

// newPageTransport returns the article transport beside open, the feed
// client's transport (http.DefaultTransport when nil). The guarded
// transport is a clone of open when open is an *http.Transport (same TLS,
// timeouts and per-host connection limits), else of http.DefaultTransport.
func newPageTransport(open http.RoundTripper) *pageTransport {
	if open == nil {
		open = http.DefaultTransport
	}
	base, ok := open.(*http.Transport)
	if !ok {
		base = http.DefaultTransport.(*http.Transport)
	}
	return &pageTransport{open: open, guarded: netguard.Transport(base)}
}

// RoundTrip sends r through the open transport when its host is exempt,
// else through the guarded one; a refusal becomes an error of kind
// "private_address" that names the host, the address and the fix.
func (t *pageTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ex, _ := r.Context().Value(exemptionKey{}).(exemption)
	if ex.allows(r.URL.Hostname()) {
		return t.open.RoundTrip(r)
	}
	resp, err := t.guarded.RoundTrip(r)
	var re *netguard.RefusedError
	if err != nil && errors.As(err, &re) {
		return nil, refusal(r.URL.Hostname(), re)
	}
	return resp, err
}

// refusal is the operator's error for a page on host refused by re.
func refusal(host string, re *netguard.RefusedError) error {
	const fix = ", which newsdesk refuses for article links; allow_private: true in the source's full_text allows it"
	if a, err := netip.ParseAddr(host); err == nil && a.String() == re.Addr {
		return &fetchError{kindPrivateAddress, fmt.Sprintf("private address: %s is %s%s", host, re.Why, fix), re}
	}
	return &fetchError{kindPrivateAddress, fmt.Sprintf("private address: %s resolves to %s, %s%s", host, re.Addr, re.Why, fix), re}
}

// CloseIdleConnections closes the idle connections of both transports
// (http.Client.CloseIdleConnections calls it).
func (t *pageTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	for _, rt := range []http.RoundTripper{t.open, t.guarded} {
		if c, ok := rt.(closer); ok {
			c.CloseIdleConnections()
		}
	}
}

// exemption is what an article request may reach besides public
// addresses: everything (all: the source's allow_private), or the feed's
// own hosts, by name.
type exemption struct {
	all   bool
	hosts []string // canonicalHost of each
}

type exemptionKey struct{}

// withExemption returns ctx marking its article requests as belonging to a
// source whose feed is at feedURLs (its configured URL and, when the feed
// moved, where it moved to) and whose full_text says allowPrivate.
//
// A page on a feed's own host may be on any address: a feed on an
// intranet host may link its own pages. The host is compared by name
// (case-insensitive, trailing dot ignored, IP literals in canonical form),
// and the port is not compared: a feed on intranet:8080 linking pages on
// intranet:80 is the same host, and matching ports would not protect the
// cloud metadata service on port 80 from a feed served on port 80 anyway.
// "localhost" and "127.0.0.1" are different names.
func withExemption(ctx context.Context, allowPrivate bool, feedURLs ...string) context.Context {
	ex := exemption{all: allowPrivate}
	for _, raw := range feedURLs {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if h := canonicalHost(u.Hostname()); h != "" {
			ex.hosts = append(ex.hosts, h)
		}
	}
	return context.WithValue(ctx, exemptionKey{}, ex)
}

// allows reports whether a request to host (a URL's Hostname) may take
// the open transport.
func (e exemption) allows(host string) bool {
	if e.all {
		return true
	}
	h := canonicalHost(host)
	return h != "" && slices.Contains(e.hosts, h)
}

// canonicalHost is host as exemptions compare it.
func canonicalHost(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return h
}
