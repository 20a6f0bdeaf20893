package fetcher

// credentials.go: what a fetch of a source sends besides the defaults
// (issue 15): its Basic auth (src.Auth, else the userinfo of its URL), its
// extra headers, and its own User-Agent. The User-Agent goes everywhere
// the feed request goes; the credentials go to the source's own origin
// only (the scheme, host and port of the URL feeds.yaml gives), on the
// first request and on every redirect hop: a hop to another origin (a
// subdomain, another port, http after https) carries neither the
// Authorization header nor any of the source's headers, and a hop back to
// the own origin carries them again. Go's client drops Authorization on a
// redirect to another domain but keeps custom headers, and keeps both for
// a subdomain, so the rule is applied here on every hop. Article pages and
// robots.txt (page.go, robots.go) never carry any of them.

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/newsdesk/newsdesk"
)

// ownURLKey is the context key of the source's configured URL when the
// fetch is of another one (where a permanent redirect led, fetchURL): its
// origin, not the fetched URL's, is the one the credentials belong to.
type ownURLKey struct{}

// withOwnURL returns ctx carrying the configured URL of the source whose
// fetch it is made for.
func withOwnURL(ctx context.Context, configured string) context.Context {
	return context.WithValue(ctx, ownURLKey{}, configured)
}

// credentials are what a fetch sends to the source's own origin.
type credentials struct {
	origin  string // "scheme://host:port" of the configured URL
	basic   *newsdesk.BasicAuth
	headers []newsdesk.Header
}

// credentialsOf is what a fetch of src made with ctx sends to its own
// origin: src.Auth, else the userinfo of the configured URL, and
// src.Headers.
func credentialsOf(ctx context.Context, src newsdesk.Source) credentials {
	own := src.URL
	if u, ok := ctx.Value(ownURLKey{}).(string); ok && u != "" {
		own = u
	}
	c := credentials{basic: src.Auth, headers: src.Headers}
	if u, err := url.Parse(own); err == nil {
		c.origin = originOf(u)
		if c.basic == nil && u.User != nil {
			p, _ := u.User.Password()
			c.basic = &newsdesk.BasicAuth{Username: u.User.Username(), Password: p}
		}
	}
	return c
}

// any reports whether there is anything to send.
func (c credentials) any() bool { return c.basic != nil || len(c.headers) > 0 }

// apply sets the credentials on req when it goes to the own origin and
// removes them from it otherwise; it reports whether req carries them.
func (c credentials) apply(req *http.Request) bool {
	req.URL.User = nil // userinfo is sent as c.basic, to the own origin only
	if !c.any() {
		return false
	}
	own := c.origin != "" && originOf(req.URL) == c.origin
	if !own {
		if c.basic != nil {
			req.Header.Del("Authorization")
		}
		for _, h := range c.headers {
			req.Header.Del(h.Name)
		}
		return false
	}
	if c.basic != nil {
		req.SetBasicAuth(c.basic.Username, c.basic.Password)
	}
	for _, h := range c.headers {
		req.Header.Set(h.Name, h.Value)
	}
	return true
}

// originOf is u's "scheme://host:port", with the scheme's default port when
// u names none, so that https://example.com and https://example.com:443
// are one origin.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// userAgent is what a fetch of src sends as its User-Agent: the source's
// own when feeds.yaml gives one, else the client's.
func (c *Client) userAgent(src newsdesk.Source) string {
	if src.UserAgent != "" {
		return src.UserAgent
	}
	return c.UserAgent
}

// feedBase is rawURL as the base of a feed's relative links: without its
// userinfo, so that no item link carries the source's password.
func feedBase(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	u.User = nil
	return u.String()
}
