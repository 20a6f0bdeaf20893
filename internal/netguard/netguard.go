// Package netguard keeps outgoing requests whose address someone outside
// chose (an article link in a feed, a WebSub subscriber's callback) off
// the operator's own network: loopback, private, link-local (cloud
// metadata), and the other ranges that are not globally reachable.
//
// The check is made on the address actually dialed (net.Dialer's
// ControlContext runs after the name is resolved and before connect, once
// per address tried), so a name that resolves to a private address, DNS
// rebinding between a check and a dial, and odd literal spellings are all
// caught, and a refused address is sent no packet. It decides nothing
// about exemptions: a caller that may reach some hosts openly (the
// fetcher, for a feed's own host) keeps a second, unguarded transport.
package netguard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// refusedRange is a range of addresses a guarded request may not reach,
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

// Reason says why a guarded request may not connect to a, as a
// phrase for the operator ("a loopback address"), or "" when a is public.
//
// An IPv4-mapped address (::ffff:a.b.c.d) is judged as its IPv4. The
// addresses that carry an IPv4 to reach over IPv6, NAT64's 64:ff9b::/96
// and 6to4's 2002::/16, are refused when the IPv4 they carry is, and
// allowed otherwise (IPv6-only hosts reach every IPv4 site through NAT64).
// The deprecated IPv4-compatible ::/96 and the local-use NAT64
// 64:ff9b:1::/48 (whose IPv4 may sit anywhere) are refused whole.
func Reason(a netip.Addr) string {
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

// RefusedError is the guarded dialer's refusal of an address; a request
// refused wraps it (errors.As).
type RefusedError struct {
	Addr string // as dialed, without the port
	Why  string // Reason
}

func (e *RefusedError) Error() string {
	return "refused to connect to " + e.Addr + ", " + e.Why
}

// Transport returns a clone of base that dials only public addresses
// (those Reason returns "" for), and never through a proxy.
func Transport(base *http.Transport) *http.Transport { return TransportWith(base, Reason) }

// TransportWith returns a clone of base that dials only addresses
// refuse returns "" for, and never through a proxy: a proxy would be the
// only address the check sees. refuse is Reason in production;
// tests hand in one that also lets 127.0.0.1 through, since every test
// server is on loopback.
func TransportWith(base *http.Transport, refuse func(netip.Addr) string) *http.Transport {
	d := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &RefusedError{Addr: address, Why: "not an address newsdesk can check"}
			}
			if why := refuse(ap.Addr()); why != "" {
				return &RefusedError{Addr: ap.Addr().String(), Why: why}
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
