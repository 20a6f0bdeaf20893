package fetcher

// robots.txt for article pages (issue 13, full text): a parser of RFC 9309
// and an in-memory cache of one parsed robots.txt per origin. The article
// pass asks robotsCache.Allowed before it fetches a page a publisher
// linked to; the feeds themselves are operator-chosen and never checked.
//
// The parser is hand-written because github.com/temoto/robotstxt (the
// usual choice, last released 2021) breaks RFC 9309 in four places that
// matter here: it matches user-agent groups by prefix (a "news" group
// applies to "newsdesk"), lets the first of two equally long rules win
// instead of allow, matches wildcard rules anywhere in the path instead of
// from its first octet, and compares percent-encoded paths verbatim.
//
// This file must not do I/O itself: the cache is handed a Fetch function,
// so the robots.txt request goes through the article client with its
// User-Agent, timeout, body cap, redirect limit and address guard.

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	// robotsMaxBytes is how much of a robots.txt is parsed: RFC 9309 §2.5
	// asks for at least 500 KiB; what follows is ignored.
	robotsMaxBytes = 500 << 10
	// robotsTTL is how long a fetched robots.txt (2xx, 4xx) is used: RFC
	// 9309 §2.4 says not more than 24 hours.
	robotsTTL = 24 * time.Hour
	// robotsRetry is how long an unreachable robots.txt (5xx, 429, network
	// error) disallows its whole origin before it is asked for again: long
	// enough not to knock on a failing server for every article, short
	// enough that an outage does not stop a site's articles for a day.
	robotsRetry = time.Hour
	// robotsMaxHosts and robotsMaxBytesCached bound the cache: least
	// recently used origins are forgotten first. A robots.txt keeps only
	// the rules that apply to newsdesk, usually a few hundred bytes.
	robotsMaxHosts       = 4096
	robotsMaxBytesCached = 32 << 20
)

// robotsRule is one allow or disallow line of the group that applies.
type robotsRule struct {
	allow bool
	raw   string // the value as written, for the operator
	// parts is the normalized pattern cut at each '*'; end is a trailing
	// '$'. size is the pattern's length in octets after normalization
	// (with its '*' and '$'), what RFC 9309 §2.2.2 calls most specific.
	parts []string
	end   bool
	size  int
}

// robotsRules is what a robots.txt says to one product token: the rules
// of the groups naming it, else of the '*' groups, else none (all allowed).
type robotsRules struct {
	rules []robotsRule
}

// parseRobots parses a robots.txt body (RFC 9309) for the product token
// agent ("newsdesk"). It never fails: lines it cannot read (invalid UTF-8,
// no colon, unknown keys such as Sitemap, rules before any user-agent
// line) are skipped, as §2.3.1.5 asks, and only the first robotsMaxBytes
// are read; a line cut by that limit is dropped rather than read half.
func parseRobots(body []byte, agent string) robotsRules {
	if len(body) > robotsMaxBytes {
		cut := body[:robotsMaxBytes]
		if c := body[robotsMaxBytes]; c != '\n' && c != '\r' {
			cut = cut[:max(lastLineBreak(cut), 0)]
		}
		body = cut
	}
	body = trimBOM(body)
	var (
		p     robotsParser
		start int
	)
	for i := 0; i <= len(body); i++ {
		if i < len(body) && body[i] != '\n' && body[i] != '\r' {
			continue
		}
		p.line(body[start:i], agent)
		start = i + 1
	}
	if p.named {
		return robotsRules{rules: p.mine}
	}
	return robotsRules{rules: p.star}
}

func lastLineBreak(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' || b[i] == '\r' {
			return i
		}
	}
	return -1
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// robotsParser holds the state of parseRobots between lines. A group is
// one or more consecutive user-agent lines and the rules after them;
// empty and unknown lines do not end a group (RFC 9309 §2.1, §2.2.4).
type robotsParser struct {
	inGroup    bool // a user-agent line has been seen
	inAgents   bool // the last known line was a user-agent line
	forMe      bool // the current group names the agent
	forStar    bool // the current group names '*'
	named      bool // some group names the agent (even with no rules)
	mine, star []robotsRule
}

func (p *robotsParser) line(line []byte, agent string) {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	if !utf8.Valid(line) {
		return
	}
	key, value, ok := strings.Cut(string(line), ":")
	if !ok {
		return
	}
	key = strings.ToLower(strings.Trim(key, " \t"))
	value = strings.Trim(value, " \t")
	switch key {
	case "user-agent":
		if !p.inAgents {
			p.inGroup, p.inAgents, p.forMe, p.forStar = true, true, false, false
		}
		switch robotsAgent(value, agent) {
		case agentMe:
			p.forMe, p.named = true, true
		case agentStar:
			p.forStar = true
		}
	case "allow", "disallow":
		p.inAgents = false
		if !p.inGroup || value == "" {
			return // an empty disallow allows everything: no rule
		}
		r := newRobotsRule(value, key == "allow")
		if p.forMe {
			p.mine = append(p.mine, r)
		}
		if p.forStar {
			p.star = append(p.star, r)
		}
	}
}

type agentMatch int

const (
	agentOther agentMatch = iota
	agentMe
	agentStar
)

// robotsAgent says whom a user-agent value names. The product token is
// the value's leading letters, '_' and '-' (RFC 9309 §2.2.1), so
// "newsdesk/1.0" names newsdesk while "news" and "newsdesk-beta" do not;
// the comparison ignores case. '*' alone (or before a space) is the group
// for every crawler no other group names.
func robotsAgent(value, agent string) agentMatch {
	if value == "*" || strings.HasPrefix(value, "* ") || strings.HasPrefix(value, "*\t") {
		return agentStar
	}
	n := 0
	for n < len(value) && isTokenByte(value[n]) {
		n++
	}
	if n > 0 && strings.EqualFold(value[:n], agent) {
		return agentMe
	}
	return agentOther
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-'
}

// newRobotsRule normalizes a rule's pattern. A pattern must start with
// '/' or '*'; one that does not ("Disallow: private") is read as if it
// began with '/', the lenient reading of what its author meant.
func newRobotsRule(value string, allow bool) robotsRule {
	pattern := value
	if pattern[0] != '/' && pattern[0] != '*' {
		pattern = "/" + pattern
	}
	end := strings.HasSuffix(pattern, "$")
	if end {
		pattern = pattern[:len(pattern)-1]
	}
	norm := normalizeRobotsPath(pattern, true)
	size := len(norm)
	if end {
		size++
	}
	return robotsRule{allow: allow, raw: value, parts: strings.Split(norm, "*"), end: end, size: size}
}

// normalizeRobotsPath brings a path (and query) to the one form RFC 9309
// §2.2.2 compares: %XX of an unreserved character decoded, other %XX
// upper-cased, octets outside ASCII and other characters a URI may not
// hold percent-encoded, reserved characters left as they are (encoded
// and unencoded reserved characters differ in meaning, RFC 3986 §2.2).
// In a URL '*' and '$' become %2A and %24 so that a pattern can name them
// literally (§2.2.3); in a pattern '*' is the wildcard, and '$' (the end
// anchor, already cut by the caller) is literal elsewhere.
func normalizeRobotsPath(s string, pattern bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				writePercent(&b, v)
			}
			i += 2
		case c == '*' && pattern:
			b.WriteByte(c)
		case isUnreserved(c) || strings.IndexByte(":/?#[]@!&'()+,;=", c) >= 0:
			b.WriteByte(c)
		default: // '%' without two hex digits, '*', '$', space, controls, non-ASCII
			writePercent(&b, c)
		}
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func writePercent(b *strings.Builder, c byte) {
	const digits = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&15])
}

// matches reports whether the rule matches a normalized path: from its
// first octet, '*' standing for any run of octets, '$' for its end. Each
// piece between wildcards is found leftmost, which leaves the most room
// for the pieces after it, so there is no backtracking.
func (r robotsRule) matches(path string) bool {
	if !strings.HasPrefix(path, r.parts[0]) {
		return false
	}
	if len(r.parts) == 1 {
		return !r.end || len(path) == len(r.parts[0])
	}
	pos := len(r.parts[0])
	last := len(r.parts) - 1
	for _, part := range r.parts[1:last] {
		i := strings.Index(path[pos:], part)
		if i < 0 {
			return false
		}
		pos += i + len(part)
	}
	if r.end {
		return len(path)-pos >= len(r.parts[last]) && strings.HasSuffix(path, r.parts[last])
	}
	return strings.Contains(path[pos:], r.parts[last])
}

// allowed reports whether the rules allow a URL's path and query (the
// escaped form, as url.URL.EscapedPath and RawQuery hold it).
func (rs robotsRules) allowed(pathAndQuery string) bool {
	ok, _ := rs.decide(pathAndQuery)
	return ok
}

// decide is allowed with the rule that decided (nil when none matched).
// The most specific matching rule wins, allow on a tie (RFC 9309 §2.2.2);
// /robots.txt itself is always allowed.
func (rs robotsRules) decide(pathAndQuery string) (bool, *robotsRule) {
	if !strings.HasPrefix(pathAndQuery, "/") {
		pathAndQuery = "/" + pathAndQuery
	}
	norm := normalizeRobotsPath(pathAndQuery, false)
	if path, _, _ := strings.Cut(norm, "?"); path == "/robots.txt" {
		return true, nil
	}
	var best *robotsRule
	for i := range rs.rules {
		r := &rs.rules[i]
		if best != nil && (r.size < best.size || r.size == best.size && !r.allow) {
			continue
		}
		if r.matches(norm) {
			best = r
		}
	}
	return best == nil || best.allow, best
}

// cost is roughly the memory the rules hold, for the cache's byte budget.
func (rs robotsRules) cost() int {
	n := 0
	for _, r := range rs.rules {
		n += 64 + len(r.raw) + r.size + 16*len(r.parts)
	}
	return n
}

// robotsCache answers, per origin (scheme, host, port), whether a page may
// be fetched, fetching and parsing the origin's robots.txt at most once
// per robotsTTL however many callers ask at once.
//
// Fetch gets the robots.txt URL and returns the final status after
// following redirects (RFC 9309 §2.3.1.2 asks for at least five, across
// hosts too), and at least the first robotsMaxBytes of the body: a longer
// body must be cut there, not reported as an error. Statuses mean:
//   - 2xx: the body is parsed and used for robotsTTL;
//   - 3xx (redirects ran out; Fetch may return the last response, as
//     http.ErrUseLastResponse does): "unavailable", everything allowed;
//   - 4xx but 429: unavailable (§2.3.1.3), everything allowed for robotsTTL;
//   - 429, 5xx, another status, or an error (timeout, DNS, refused
//     address): unreachable (§2.3.1.4), everything disallowed for
//     robotsRetry, then asked again.
//
// An error from Fetch while the caller's context is done, or of kind
// "private_address" (the address guard refused the origin for the
// caller's source), is returned to the caller and not cached.
type robotsCache struct {
	Agent string // product token, "newsdesk"
	Fetch func(ctx context.Context, robotsURL string) (status int, body []byte, err error)
	Now   func() time.Time
	// MaxHosts and MaxBytes bound the cache (0: robotsMaxHosts,
	// robotsMaxBytesCached); the least recently used origins go first.
	MaxHosts, MaxBytes int

	mu       sync.Mutex
	entries  map[string]*list.Element // of *robotsEntry, by origin
	lru      list.List                // front: most recently used
	bytes    int
	inflight map[string]*robotsCall
}

type robotsEntry struct {
	origin      string
	rules       robotsRules
	unreachable string // why, when robots.txt could not be read
	expires     time.Time
	cost        int
}

// robotsCall is one robots.txt fetch in flight; others asking for the
// same origin wait for done.
type robotsCall struct {
	done  chan struct{}
	entry *robotsEntry // nil when the fetch was abandoned (context done)
}

// robotsVerdict is the answer for one page.
type robotsVerdict struct {
	Allowed bool
	// Unreachable: disallowed only because the origin's robots.txt could
	// not be read; unlike a rule's disallow, worth trying again after Until.
	Unreachable bool
	// Reason says why a page is disallowed, for the article's record.
	Reason string
	// Until is when the robots.txt behind the answer expires.
	Until time.Time
}

func newRobotsCache(agent string, fetch func(ctx context.Context, robotsURL string) (int, []byte, error)) *robotsCache {
	return &robotsCache{Agent: agent, Fetch: fetch, Now: time.Now}
}

func (c *robotsCache) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Allowed says whether robots.txt lets the agent fetch pageURL. The error
// is for what the caller must report as its own: a URL that is not an
// absolute http(s) URL, or ctx ending while robots.txt was being read. An
// unreachable robots.txt is a verdict, not an error.
func (c *robotsCache) Allowed(ctx context.Context, pageURL *url.URL) (robotsVerdict, error) {
	origin, robotsURL, err := robotsOrigin(pageURL)
	if err != nil {
		return robotsVerdict{}, err
	}
	pq := pageURL.EscapedPath()
	if pageURL.RawQuery != "" || pageURL.ForceQuery {
		pq += "?" + pageURL.RawQuery
	}
	if p, _, _ := strings.Cut(pq, "?"); p == "/robots.txt" {
		return robotsVerdict{Allowed: true}, nil
	}
	e, err := c.entry(ctx, origin, robotsURL)
	if err != nil {
		return robotsVerdict{}, err
	}
	if e.unreachable != "" {
		return robotsVerdict{Unreachable: true, Reason: e.unreachable, Until: e.expires}, nil
	}
	ok, rule := e.rules.decide(pq)
	v := robotsVerdict{Allowed: ok, Until: e.expires}
	if !ok {
		v.Reason = fmt.Sprintf("%s disallows %s (Disallow: %s)", robotsURL, pq, rule.raw)
	}
	return v, nil
}

// robotsOrigin returns the cache key of a page's origin, with the scheme's
// default port made explicit, and the URL of its robots.txt.
func robotsOrigin(u *url.URL) (origin, robotsURL string, err error) {
	scheme := strings.ToLower(u.Scheme)
	port := map[string]string{"http": "80", "https": "443"}[scheme]
	hostname := strings.ToLower(u.Hostname())
	if port == "" || hostname == "" {
		return "", "", fmt.Errorf("robots.txt: %q is not an absolute http or https URL", u.Redacted())
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); p != "" && p != port {
		port = p
	} else {
		host = hostname
		if strings.Contains(hostname, ":") {
			host = "[" + hostname + "]"
		}
	}
	return scheme + "://" + hostname + ":" + port, scheme + "://" + host + "/robots.txt", nil
}

// entry returns the origin's cached robots.txt, fetching it when it is
// missing or expired. Callers arriving while it is fetched wait for that
// fetch; if it is abandoned (its caller's context ended), they try again.
func (c *robotsCache) entry(ctx context.Context, origin, robotsURL string) (*robotsEntry, error) {
	for {
		c.mu.Lock()
		if e := c.lookup(origin); e != nil {
			c.mu.Unlock()
			return e, nil
		}
		call, waiting := c.inflight[origin]
		if !waiting {
			call = &robotsCall{done: make(chan struct{})}
			if c.inflight == nil {
				c.inflight = map[string]*robotsCall{}
			}
			c.inflight[origin] = call
		}
		c.mu.Unlock()
		if !waiting {
			return c.load(ctx, call, origin, robotsURL)
		}
		select {
		case <-call.done:
			if call.entry != nil {
				return call.entry, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lookup returns the origin's entry while it is fresh, dropping it when
// it is not. c.mu is held.
func (c *robotsCache) lookup(origin string) *robotsEntry {
	el, ok := c.entries[origin]
	if !ok {
		return nil
	}
	e := el.Value.(*robotsEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return nil
	}
	c.lru.MoveToFront(el)
	return e
}

// load fetches robots.txt for call and stores the result; done is closed
// however Fetch ends (a panic included), so waiters never hang.
func (c *robotsCache) load(ctx context.Context, call *robotsCall, origin, robotsURL string) (*robotsEntry, error) {
	defer func() {
		c.mu.Lock()
		delete(c.inflight, origin)
		if call.entry != nil {
			c.store(call.entry)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	status, body, err := c.Fetch(ctx, robotsURL)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("robots.txt %s: %w", robotsURL, ctx.Err())
	}
	if ErrorKind(err) == kindPrivateAddress {
		// The guard refused the origin for this caller's source; for
		// another it may be the feed's own host. Not an answer to cache.
		return nil, err
	}
	e := &robotsEntry{origin: origin}
	now := c.now()
	e.expires = now.Add(robotsTTL)
	switch {
	case err != nil:
		e.unreachable = fmt.Sprintf("robots.txt unreachable: %s: %v", robotsURL, err)
	case status >= 200 && status < 300:
		e.rules = parseRobots(body, c.Agent)
	case status >= 300 && status < 500 && status != http.StatusTooManyRequests:
		// unavailable: everything allowed
	default:
		e.unreachable = strings.TrimSpace(fmt.Sprintf("robots.txt unreachable: %s answered %d %s", robotsURL, status, http.StatusText(status)))
	}
	if e.unreachable != "" {
		e.expires = now.Add(robotsRetry)
	}
	e.cost = 128 + len(origin) + len(e.unreachable) + e.rules.cost()
	call.entry = e
	return e, nil
}

// store adds an entry and forgets the least recently used ones beyond the
// bounds. c.mu is held.
func (c *robotsCache) store(e *robotsEntry) {
	if el, ok := c.entries[e.origin]; ok {
		c.remove(el)
	}
	if c.entries == nil {
		c.entries = map[string]*list.Element{}
	}
	c.entries[e.origin] = c.lru.PushFront(e)
	c.bytes += e.cost
	maxHosts, maxBytes := c.MaxHosts, c.MaxBytes
	if maxHosts <= 0 {
		maxHosts = robotsMaxHosts
	}
	if maxBytes <= 0 {
		maxBytes = robotsMaxBytesCached
	}
	for c.lru.Len() > 1 && (c.lru.Len() > maxHosts || c.bytes > maxBytes) {
		c.remove(c.lru.Back())
	}
}

func (c *robotsCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*robotsEntry)
	delete(c.entries, e.origin)
	c.bytes -= e.cost
}
