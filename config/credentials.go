package config

// Credentials (issue 15): a source's auth (HTTP Basic), headers and
// user_agent, with the environment variables they name resolved at load
// (and so at every reload, which loads the file again). No message here
// shows a secret: a password, a header's value or a URL's password; the
// variables' names, which are not secret, are shown instead.

import (
	"errors"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/newsdesk/newsdesk"
	"go.yaml.in/yaml/v3"
)

// LookupEnv is how ParseEnv reads an environment variable: os.LookupEnv,
// or a map's lookup in tests.
type LookupEnv func(name string) (string, bool)

// envFix is the end of every message about a missing variable.
const envFix = "in the environment of newsdesk (for systemd: EnvironmentFile=, see deploy/newsdesk.service)"

// reservedHeaders are the headers a source may not set, and why: newsdesk
// sets them itself, or setting them would make fetches impolite or break
// the HTTP exchange.
var reservedHeaders = map[string]string{
	"Host":              "the host is the url's",
	"User-Agent":        "use user_agent: instead",
	"If-None-Match":     "newsdesk sends the stored ETag itself (conditional requests)",
	"If-Modified-Since": "newsdesk sends the stored Last-Modified itself (conditional requests)",
	"Accept-Encoding":   "newsdesk asks for gzip itself and decompresses; setting it turns that off",
	"Cache-Control":     "a request that bypasses caches makes the publisher's origin answer every fetch",
	"Pragma":            "a request that bypasses caches makes the publisher's origin answer every fetch",
	"Referer":           "newsdesk sends no Referer",
	"Range":             "newsdesk fetches whole feeds",
	"Content-Length":    "fetches have no body",
	"Transfer-Encoding": "it belongs to the connection, which Go's client manages",
	"Connection":        "it belongs to the connection, which Go's client manages",
	"Keep-Alive":        "it belongs to the connection, which Go's client manages",
	"Te":                "it belongs to the connection, which Go's client manages",
	"Trailer":           "it belongs to the connection, which Go's client manages",
	"Upgrade":           "it belongs to the connection, which Go's client manages",
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// credentialNodes are where a source's credential keys are.
type credentialNodes struct {
	auth, headers, userAgent *yaml.Node
}

// credentials reads a source's auth, headers and user_agent into src, and
// checks its url's userinfo against them. what names the source.
func (p *parser) credentials(src *newsdesk.Source, at credentialNodes, urlNode *yaml.Node, what string) {
	if at.auth != nil {
		src.Auth = p.auth(at.auth, what+": auth", suggestEnv(src.ID))
	}
	if at.headers != nil {
		src.Headers = p.headers(at.headers, what+": headers")
	}
	if at.userAgent != nil {
		src.UserAgent = p.userAgent(at.userAgent, what+": user_agent")
	}
	if src.Auth != nil && hasHeader(src.Headers, "Authorization") {
		p.at(at.headers, "%s: headers.Authorization and auth both set the Authorization header: keep one", what)
	}
	if urlNode == nil {
		return
	}
	u, err := url.Parse(urlNode.Value)
	if err != nil || u.User == nil {
		return
	}
	_, hasPassword := u.User.Password()
	switch {
	case at.auth != nil:
		p.at(urlNode, "%s: url %s has a username and auth: is set too: give the credentials once, in auth:, and remove them from the url", what, shownURL(urlNode.Value))
	case hasHeader(src.Headers, "Authorization"):
		p.at(urlNode, "%s: url %s has a username and headers.Authorization is set too: give the credentials once, and remove them from the url", what, shownURL(urlNode.Value))
	case hasPassword:
		p.warn(urlNode, "%s: url %s carries a username and password: move them to auth: {username: %s, password_env: %s} and keep the password in the environment, out of feeds.yaml", what, shownURL(urlNode.Value), u.User.Username(), suggestEnv(src.ID))
	default:
		// Not the username: a URL with a user alone often carries a token.
		p.warn(urlNode, "%s: url %s carries a username without a password, which is sent as HTTP Basic credentials: write them as auth: {username: ..., password_env: %s} instead, or remove the username; if it is a token, keep it in the environment", what, shownURL(urlNode.Value), suggestEnv(src.ID))
	}
}

// checkURL is newsdesk.CheckHTTPURL for a URL that may carry a password:
// a wrong URL with an @ that is not plainly userinfo is refused without
// the parser's words, which may quote a part of the password (`invalid
// port ":pass"`).
func checkURL(raw string) error {
	err := newsdesk.CheckHTTPURL(raw)
	if err != nil && strings.Contains(raw, "@") && !plainUserinfo(raw) {
		return errors.New("is not a URL with a host name (what precedes the @ is not shown: it may hold a password; write a / # ? or : in a password as %2F %23 %3F or %3A)")
	}
	return err
}

// plainUserinfo reports whether raw parses with a user in it.
func plainUserinfo(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.User != nil
}

// shownURL is a URL as config's messages show it: newsdesk.RedactURL,
// and, for a URL that parses without userinfo but holds an @ (which the
// file may mean as userinfo: https://user:12/pass@host/ parses as host
// "user", port 12), without what precedes that @: a feeds.yaml mistake is
// shown with no risk of quoting a password.
func shownURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User == nil {
		return newsdesk.RedactBeforeAt(raw)
	}
	return newsdesk.RedactURL(raw)
}

// suggestEnv is the variable name messages suggest for a source's password.
func suggestEnv(id string) string {
	s := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(id))
	if !envName.MatchString(s) {
		s = "SOURCE"
	}
	return s + "_PASSWORD"
}

func hasHeader(hs []newsdesk.Header, name string) bool {
	for _, h := range hs {
		if h.Name == name {
			return true
		}
	}
	return false
}

// auth reads {username: U, password_env: VAR} or {username: U, password: P};
// suggest is the variable name messages offer for the password.
func (p *parser) auth(n *yaml.Node, what, suggest string) *newsdesk.BasicAuth {
	var user, pass, passEnv *yaml.Node
	if n.Kind != yaml.MappingNode {
		// Not describe(n): a scalar here may be "user:password".
		p.at(n, "%s should be a mapping, e.g. {username: newsdesk, password_env: WIRE_PASSWORD}", what)
		return nil
	}
	p.mapping(n, what, []field{
		{"username", func(v *yaml.Node) { user = v }},
		{"password", func(v *yaml.Node) { pass = v }},
		{"password_env", func(v *yaml.Node) { passEnv = v }},
	})
	a := &newsdesk.BasicAuth{}
	ok := true
	switch {
	case user == nil:
		p.at(n, "%s has no username: add username: (HTTP Basic needs one)", what)
		ok = false
	default:
		a.Username = p.str(user)
		switch {
		case a.Username == "":
			p.at(user, "%s.username is empty: give the name the source knows newsdesk by", what)
			ok = false
		case strings.Contains(a.Username, ":"):
			p.at(user, "%s.username %q has a colon, which HTTP Basic cannot carry in a username", what, a.Username)
			ok = false
		case !validHeaderValue(a.Username):
			p.at(user, "%s.username has a control character (a line break?): remove it", what)
			ok = false
		}
	}
	switch {
	case pass != nil && passEnv != nil:
		p.at(passEnv, "%s: set password or password_env, not both (password_env keeps the secret out of feeds.yaml)", what)
		return nil
	case pass == nil && passEnv == nil:
		p.at(n, "%s has no password: add password_env: VARIABLE and set VARIABLE %s", what, envFix)
		return nil
	case pass != nil:
		a.Password = p.str(pass)
		if a.Password == "" {
			p.at(pass, "%s.password is empty: give password_env: VARIABLE and set VARIABLE %s", what, envFix)
			return nil
		}
		if !validHeaderValue(a.Password) {
			p.at(pass, "%s.password has a control character (a line break?): remove it", what)
			return nil
		}
		p.warn(pass, "%s.password is written in feeds.yaml: move it to the environment, e.g. password_env: %s, and set %s %s", what, suggest, suggest, envFix)
	default:
		v, found := p.envVar(passEnv, what+".password_env")
		if !found {
			return nil
		}
		if !validHeaderValue(v) {
			p.at(passEnv, "%s.password_env: the value of %s has a control character (a line break?): remove it", what, passEnv.Value)
			return nil
		}
		a.Password = v
	}
	if !ok {
		return nil
	}
	return a
}

// envVar reads n, the name of an environment variable, and returns its
// value; a missing or empty variable is a problem at n.
func (p *parser) envVar(n *yaml.Node, what string) (string, bool) {
	name := p.str(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		return "", false
	case strings.HasPrefix(name, "${") || strings.HasPrefix(name, "$"):
		p.at(n, "%s %s: give the variable's name alone, e.g. password_env: %s", what, name, strings.Trim(name, "${}"))
		return "", false
	case !envName.MatchString(name):
		p.at(n, "%s %q: not an environment variable's name (letters, digits and _, not starting with a digit)", what, name)
		return "", false
	}
	return p.env(n, what, name)
}

// env looks a variable up; missing or empty is a problem at n.
func (p *parser) env(n *yaml.Node, what, name string) (string, bool) {
	v, ok := p.lookup(name)
	switch {
	case !ok:
		p.at(n, "%s: environment variable %s is not set: set %s %s; the source is not fetched without it", what, name, name, envFix)
		return "", false
	case v == "":
		p.at(n, "%s: environment variable %s is empty: set it to the secret %s; the source is not fetched without it", what, name, envFix)
		return "", false
	}
	return v, true
}

// headers reads a mapping of header names to values, in file order, with
// names in canonical form (X-Api-Key).
func (p *parser) headers(n *yaml.Node, what string) []newsdesk.Header {
	if n.Kind != yaml.MappingNode {
		if n.Tag != "!!null" {
			// Not describe(n): a scalar here may hold a key.
			p.at(n, "%s should be a mapping of header names to values, e.g. {X-Api-Key: \"${WIRE_KEY}\"}", what)
		}
		return nil
	}
	var out []newsdesk.Header
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := textproto.CanonicalMIMEHeaderKey(k.Value)
		switch {
		case !validHeaderName(k.Value):
			p.at(k, "%s: %q is not a header name: use letters, digits and - (e.g. X-Api-Key)", what, k.Value)
			continue
		case seen[name]:
			p.at(k, "%s: %s appears twice (header names ignore case): keep one", what, name)
			continue
		case reservedHeaders[name] != "":
			p.at(k, "%s: newsdesk does not let a source set %s: %s", what, name, reservedHeaders[name])
			continue
		}
		seen[name] = true
		value, ok := p.expand(v, what+"."+name)
		if ok && value == "" {
			p.at(v, "%s.%s is empty: give its value, or remove the header", what, name)
			ok = false
		}
		if ok {
			out = append(out, newsdesk.Header{Name: name, Value: value})
		}
	}
	return out
}

// userAgent reads user_agent: a header value, with variables expanded.
func (p *parser) userAgent(n *yaml.Node, what string) string {
	v, ok := p.expand(n, what)
	if ok && strings.TrimSpace(v) == "" {
		p.at(n, "%s is empty: give the User-Agent to send, e.g. \"Mozilla/5.0 (compatible; newsdesk/1.0; +https://news.example.org/)\", or remove the key", what)
	}
	return v
}

// expand reads a value and replaces each ${VAR} in it with the variable's
// value; $$ is a literal $. A missing variable, a lone $ or a control
// character is a problem at n, which never shows the value.
func (p *parser) expand(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.at(n, "%s should be a single value (quote it), not %s", what, describe(n))
		return "", false
	}
	s := p.str(n)
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		switch {
		case strings.HasPrefix(s, "$"):
			b.WriteByte('$')
			s = s[1:]
		case strings.HasPrefix(s, "{"):
			name, rest, ok := strings.Cut(s[1:], "}")
			if !ok || !envName.MatchString(name) {
				p.at(n, "%s: a ${ without a variable's name and } after it: write ${NAME} (letters, digits and _), or $$ for a $", what)
				return "", false
			}
			v, found := p.env(n, what, name)
			if !found {
				return "", false
			}
			b.WriteString(v)
			s = rest
		default:
			p.at(n, "%s: a $ that is not ${NAME}: write ${NAME} for an environment variable, or $$ for a $", what)
			return "", false
		}
	}
	if !validHeaderValue(b.String()) {
		p.at(n, "%s has a control character (a line break?), which a header cannot carry: remove it (from the variable too)", what)
		return "", false
	}
	return b.String(), true
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110
// token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can be sent as a header's value: no
// control character but tab.
func validHeaderValue(s string) bool {
	for _, c := range []byte(s) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// noDefaultCredentials is the problem of auth or headers under defaults.
func (p *parser) noDefaultCredentials(n *yaml.Node, key string) {
	p.at(n, "defaults.%s: credentials belong to one source's host, so %s goes in each source that needs it, not under defaults (defaults.user_agent is allowed)", key, key)
}

// osLookup is the lookup of Load and Parse.
var osLookup LookupEnv = os.LookupEnv

// AnyEnv is a LookupEnv for reading a file's structure without its
// secrets (`newsdesk import` on a machine that has none): every variable
// is set, to a placeholder that passes every check. A Config read with it
// must not be used to fetch or serve.
func AnyEnv(string) (string, bool) { return envPlaceholder, true }

// envPlaceholder is what AnyEnv and SetEnv give a variable they stand in
// for.
const envPlaceholder = "placeholder-0123456789abcdef"

// SetEnv is a LookupEnv that reads the process's environment and stands in
// for a variable that is not set with a placeholder, for commands that
// read what is stored without fetching (status, export, preview...): an
// operator's shell need not hold the service's secrets to run them. A
// Config read with it must not be used to fetch or serve.
func SetEnv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v, true
	}
	return envPlaceholder, true
}
