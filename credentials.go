package newsdesk

import (
	"net/url"
	"strings"
)

// Credentials (issue 15): a source may need HTTP Basic auth, extra request
// headers (an API key) or its own User-Agent. config reads them from
// feeds.yaml, resolving the environment variables they name at load and
// reload; the fetcher sends them to the source's own host only; every
// output that can show a source (logs, status, /status, metrics, errors,
// the export, the control socket's replies) shows its URL redacted
// (RedactURL) and never a secret value (Source.Secrets).

// BasicAuth is a source's HTTP Basic credentials, resolved (the password
// read from the environment when feeds.yaml names a variable).
type BasicAuth struct {
	Username string
	Password string
}

// Header is a request header a source sends with every fetch, its value
// resolved.
type Header struct {
	Name  string
	Value string
}

// Secrets returns the secret values of the source's configuration: its
// Basic password, its headers' values, and the password of userinfo in
// its URL; what no output may show. Empty values are left out.
func (s Source) Secrets() []string {
	var out []string
	add := func(v string) {
		if v != "" {
			out = append(out, v)
		}
	}
	if s.Auth != nil {
		add(s.Auth.Password)
	}
	for _, h := range s.Headers {
		add(h.Value)
	}
	if u, err := url.Parse(s.URL); err == nil && u.User != nil {
		p, _ := u.User.Password()
		add(p)
	}
	return out
}

// HasCredentials reports whether fetches of the source carry anything
// secret: Basic auth, headers, or userinfo in its URL.
func (s Source) HasCredentials() bool {
	return s.Auth != nil || len(s.Headers) > 0 || strings.Contains(RedactURL(s.URL), "@")
}

// RedactURL returns raw with the password of its userinfo replaced by
// "xxxxx" (net/url's Redacted), or its user when it has no password (a
// user alone is often a token), for every output that shows a URL; a URL
// without userinfo is returned as it is. A string that does not parse as
// a URL but holds an "@" is shown as RedactBeforeAt shows it.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		if u.User == nil {
			return raw // unchanged, as written
		}
		if _, ok := u.User.Password(); !ok {
			// A user alone is often a token (https://TOKEN@host/).
			u.User = url.User("xxxxx")
			return u.String()
		}
		return u.Redacted()
	}
	return RedactBeforeAt(raw)
}

// RedactBeforeAt returns raw without what lies between its scheme and its
// last "@" (scheme://xxxxx@rest), or raw when it has no "@": for a URL
// whose "@" the parser did not take as the end of userinfo, because a
// password holding "/", "?", "#" or ":" ended the authority early
// (https://user:pa/ss@host/): what precedes the "@" may be a password.
func RedactBeforeAt(raw string) string {
	i := strings.LastIndex(raw, "@")
	if i < 0 {
		return raw
	}
	if scheme, _, ok := strings.Cut(raw[:i], "://"); ok {
		return scheme + "://xxxxx@" + raw[i+1:]
	}
	return "xxxxx@" + raw[i+1:]
}
