package config

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// The WebSub keys (issue 14): websub per source and under defaults,
// server.websub_allow_private and publish.websub_hubs.

// websubHubs reads publish.websub_hubs: the external hubs' URLs, each an
// absolute http(s) URL, each once.
func (p *parser) websubHubs(n *yaml.Node) []string {
	var hubs []string
	for _, v := range p.strings(n, "publish.websub_hubs") {
		hub := strings.TrimSpace(v.Value)
		switch err := newsdesk.CheckHTTPURL(hub); {
		case err != nil:
			p.at(v, "publish.websub_hubs: %q %v: give the hub's URL, e.g. https://pubsubhubbub.appspot.com/", v.Value, err)
		case strings.Contains(hub, "#"):
			p.at(v, "publish.websub_hubs: %q has a fragment, which is never sent to the hub: remove the part from #", v.Value)
		case slices.Contains(hubs, hub):
			p.at(v, "publish.websub_hubs: %q is listed twice: remove one", v.Value)
		default:
			hubs = append(hubs, hub)
		}
	}
	return hubs
}

// checkWebSub warns at each websub: true when a hub elsewhere could not
// reach the callback newsdesk would give it: server.base_url is not set
// (its default is localhost) or names a loopback or private address. It
// does not resolve names (check does not touch the network); the hub's
// own address checks, and the subscription's failed state in status,
// tell the rest. server.websub_allow_private silences it: the hub is on
// the same network.
func (p *parser) checkWebSub(cfg *Config, t topLevel) {
	if len(t.websubOn) == 0 || !anyWebSub(cfg.Sources) {
		return
	}
	var why string
	switch {
	case cfg.WebSubReachable():
		return
	case !cfg.baseURLSet:
		why = "server.base_url is not set, so the callback would be under " + cfg.BaseURL + ", which a hub elsewhere cannot reach"
	default:
		why = "server.base_url " + cfg.BaseURL + " is a loopback or private address, which a hub elsewhere cannot reach"
	}
	for _, n := range t.websubOn {
		p.warn(n, "websub is on but %s: set server.base_url to the public address newsdesk is served at (e.g. https://news.example.org/), or server.websub_allow_private: true when the hubs are on this network; until then such sources are polled only", why)
	}
}

// WebSubReachable reports whether a hub elsewhere can reach newsdesk's
// callbacks (BASE/websub/callback/...): server.base_url is set and not on
// a loopback or private address, or server.websub_allow_private says
// the hubs are on this network. While it is false no source is
// subscribed at its hub (status: "no base_url"), and check warns.
func (c *Config) WebSubReachable() bool {
	if c.WebSubAllowPrivate {
		return true
	}
	u, err := url.Parse(c.BaseURL)
	return c.baseURLSet && err == nil && !privateHost(u.Hostname())
}

func anyWebSub(srcs []newsdesk.Source) bool {
	for _, s := range srcs {
		if s.WebSub {
			return true
		}
	}
	return false
}

// privateHost reports whether host (a URL's Hostname) names this machine
// or a private network by its text alone: localhost and names under
// .localhost, .local, .internal, .lan and .home.arpa, and loopback,
// private (RFC 1918, RFC 4193), link-local, shared (RFC 6598) and
// unspecified addresses. Names are not resolved.
func privateHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
}
