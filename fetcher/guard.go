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
// The check is made on the address actually dialed (net.Dialer's
// ControlContext runs after the name is resolved and before connect, once
// per address tried), so a name that resolves to a private address, DNS
// rebinding between a check and a dial, and odd literal spellings are all
// caught, and a refused address is sent no packet.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// kindPrivateAddress is ErrorKind's label for an article request refused
// by the guard.
const kindPrivateAddress = "private_address"

// refusedRange is a range of addresses an article request may not reach,
// with the phrase that names it to the operator.
type refusedRange struct {
	prefix netip.Prefix
	what   string
}

func refusing(prefix, what string) refusedRange {
	return refusedRange{netip.MustParsePrefix(prefix), what}
}

// refused4 are the IPv4 ranges of IANA's special-purpose registry that are
// not globally reachable, plus multicast. Documentation (TEST-NET) and
// benchmarking ranges are refused too: no publisher serves from them, and
// networks do use them inside (198.18.0.0/15 is the fake-IP range of some
// proxies, which then need allow_private).
var refused4 = []refusedRange{
	refusing("0.0.0.0/8", `a "this network" address`),
	refusing("10.0.0.0/8", "a private address"),
	refusing("100.64.0.0/10", "a shared address (carrier-grade NAT; Alibaba Cloud metadata is 100.100.100.200)"),
	refusing("127.0.0.0/8", "a loopback address"),
	refusing("169.254.0.0/16", "a link-local address (cloud metadata is 169.254.169.254)"),
	refusing("172.16.0.0/12", "a private address"),
	refusing("192.0.0.0/24", "an IETF protocol address"),
	refusing("192.0.2.0/24", "a documentation address"),
	refusing("192.168.0.0/16", "a private address"),
	refusing("198.18.0.0/15", "a benchmarking address"),
	refusing("198.51.100.0/24", "a documentation address"),
	refusing("203.0.113.0/24", "a documentation address"),
	refusing("224.0.0.0/4", "a multicast address"),
	refusing("255.255.255.255/32", "the broadcast address"),
	refusing("240.0.0.0/4", "a reserved address"),
}

// refused6 name the IPv6 ranges refused, most specific first. Only
// 2000::/3 is allocated as global unicast, so anything outside it (bar
// NAT64, checked by its IPv4) is refused even when not listed; the list
// gives those the operator may meet a precise name, and refuses the
// special ranges inside 2000::/3.
var refused6 = []refusedRange{
	refusing("::/128", "the unspecified address"),
	refusing("::1/128", "a loopback address"),
	refusing("::/96", "an IPv4-compatible address (deprecated)"),
	refusing("64:ff9b:1::/48", "a local-use NAT64 address"),
	refusing("100::/64", "a discard-only address"),
	refusing("2001::/23", "an IETF protocol address (Teredo, benchmarking, ORCHID)"),
	refusing("2001:db8::/32", "a documentation address"),
	refusing("3fff::/20", "a documentation address"),
	refusing("fc00::/7", "a private (unique local) address"),
	refusing("fe80::/10", "a link-local address"),
	refusing("fec0::/10", "a site-local address (deprecated)"),
	refusing("ff00::/8", "a multicast address"),
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// refusedReason says why an article request may not connect to a, as a
// phrase for the operator ("a loopback address"), or "" when a is public.
//
// An IPv4-mapped address (::ffff:a.b.c.d) is judged as its IPv4. The
// addresses that carry an IPv4 to reach over IPv6, NAT64's 64:ff9b::/96
// and 6to4's 2002::/16, are refused when the IPv4 they carry is, and
// allowed otherwise (IPv6-only hosts reach every IPv4 site through NAT64).
// The deprecated IPv4-compatible ::/96 and the local-use NAT64
// 64:ff9b:1::/48 (whose IPv4 may sit anywhere) are refused whole.
func refusedReason(a netip.Addr) string {
	if !a.IsValid() {
		return "not an address"
	}
	a = a.Unmap()
	if a.Is4() {
		return lookupRange(refused4, a)
	}
	var v4 netip.Addr
	b := a.As16()
	switch {
	case nat64.Contains(a):
		v4 = netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(a):
		v4 = netip.AddrFrom4([4]byte(b[2:6]))
	}
	if v4.IsValid() {
		if why := lookupRange(refused4, v4); why != "" {
			return fmt.Sprintf("an IPv6 address of %s, %s", v4, why)
		}
		return ""
	}
	if why := lookupRange(refused6, a); why != "" {
		return why
	}
	if !globalUnicast6.Contains(a) {
		return "not a global unicast address"
	}
	return ""
}

func lookupRange(ranges []refusedRange, a netip.Addr) string {
	for _, r := range ranges {
		if r.prefix.Contains(a.WithZone("")) {
			return r.what
		}
	}
	return ""
}

// refusedError is the guarded dialer's refusal of an address.
type refusedError struct {
	addr string // as dialed, without the port
	why  string // refusedReason
}

func (e *refusedError) Error() string {
	return "refused to connect to " + e.addr + ", " + e.why
}

// guardedTransport returns a clone of base that dials only addresses
// refuse returns "" for, and never through a proxy: a proxy would be the
// only address the check sees. refuse is refusedReason in production;
// tests hand in one that also lets 127.0.0.1 through, since every test
// server is on loopback.
func guardedTransport(base *http.Transport, refuse func(netip.Addr) string) *http.Transport {
	d := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &refusedError{addr: address, why: "not an address newsdesk can check"}
			}
			if why := refuse(ap.Addr()); why != "" {
				return &refusedError{addr: ap.Addr().String(), why: why}
			}
			return nil
		},
	}
	tr := base.Clone()
	tr.Proxy = nil
	tr.OnProxyConnectResponse = nil
	tr.GetProxyConnectHeader = nil
	tr.DialContext = d.DialContext
	// Every other way to get a connection would skip the check (Dial and
	// DialTLS are deprecated, but a transport would still use them).
	tr.DialTLSContext = nil
	tr.Dial = nil
	tr.DialTLS = nil
	return tr
}

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
	return &pageTransport{open: open, guarded: guardedTransport(base, refusedReason)}
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
	var re *refusedError
	if err != nil && errors.As(err, &re) {
		return nil, refusal(r.URL.Hostname(), re)
	}
	return resp, err
}

// refusal is the operator's error for a page on host refused by re.
func refusal(host string, re *refusedError) error {
	const fix = ", which newsdesk refuses for article links; allow_private: true in the source's full_text allows it"
	if a, err := netip.ParseAddr(host); err == nil && a.String() == re.addr {
		return &fetchError{kindPrivateAddress, fmt.Sprintf("private address: %s is %s%s", host, re.why, fix), re}
	}
	return &fetchError{kindPrivateAddress, fmt.Sprintf("private address: %s resolves to %s, %s%s", host, re.addr, re.why, fix), re}
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
