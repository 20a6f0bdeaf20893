package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// robotsCase is one question to a robots.txt: may agent fetch path?
type robotsCase struct {
	agent, path string
	want        bool
}

func checkRobots(t *testing.T, body string, cases []robotsCase) {
	t.Helper()
	for _, c := range cases {
		rs := parseRobots([]byte(body), c.agent)
		if got := rs.allowed(c.path); got != c.want {
			t.Errorf("agent %q, path %q: allowed = %v, want %v", c.agent, c.path, got, c.want)
		}
	}
}

// The simple example of RFC 9309 §5.1, with the reading the RFC gives of
// each group.
func TestRobotsRFC9309_5_1SimpleExample(t *testing.T) {
	body := "User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n\n" +
		"User-Agent: foobot\nDisallow:/\nAllow:/example/page.html\nAllow:/example/allowed.gif\n\n" +
		"User-Agent: barbot\nUser-Agent: bazbot\nDisallow: /example/page.html\n\n" +
		"User-Agent: quxbot\n\nEOF\n"
	checkRobots(t, body, []robotsCase{
		// '*': every agent no group names.
		{"newsdesk", "/publications/2024/report.html", true},
		{"newsdesk", "/publications/chart.gif", true}, // allow /publications/ (14 octets) beats *.gif$ (6)
		{"newsdesk", "/example/", false},
		{"newsdesk", "/example/page.html", false},
		{"newsdesk", "/images/logo.gif", false},
		{"newsdesk", "/images/logo.gif?size=2", true}, // '$': the .gif is not at the end
		{"newsdesk", "/images/logo.png", true},
		{"newsdesk", "/", true},
		// foobot: two prefixes allowed, the rest disallowed.
		{"foobot", "/example/page.html", true},
		{"foobot", "/example/allowed.gif", true},
		{"foobot", "/example/other.html", false},
		{"foobot", "/publications/", false},
		{"foobot", "/", false},
		// barbot and bazbot share one group.
		{"barbot", "/example/page.html", false},
		{"bazbot", "/example/page.html?x=1", false},
		{"bazbot", "/example/other.html", true},
		{"barbot", "/logo.gif", true}, // the '*' group is not theirs
		// quxbot: an empty group at the end, everything allowed.
		{"quxbot", "/example/page.html", true},
		{"quxbot", "/logo.gif", true},
	})
}

// The longest match of RFC 9309 §5.2: the longer disallow wins over the
// shorter allow. (The RFC's prose names the URI
// example.com/example/page/disallow.gif, which the rule
// /example/page/disallowed.gif does not match: a typo for disallowed.gif.)
func TestRobotsRFC9309_5_2LongestMatch(t *testing.T) {
	body := "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n"
	checkRobots(t, body, []robotsCase{
		{"foobot", "/example/page/disallowed.gif", false},
		{"foobot", "/example/page/disallow.gif", true},
		{"foobot", "/example/page/", true},
		{"foobot", "/example/", true},
	})
}

// RFC 9309 §2.2.1: the product token is matched case-insensitively to the
// user-agent line; groups naming the same agent are combined; '*' only
// when no group names the agent; no matching group means no rules.
func TestRobotsRFC9309_2_2_1UserAgent(t *testing.T) {
	merged := "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\n" +
		"user-agent: *\ndisallow: /\n\n" +
		"user-agent: examplebot\ndisallow: /baz\n"
	checkRobots(t, merged, []robotsCase{
		{"ExampleBot", "/foo", false},
		{"examplebot", "/bar/x", false},
		{"EXAMPLEBOT", "/baz", false},
		{"ExampleBot", "/qux", true}, // '*' is not combined with a named group
		{"newsdesk", "/qux", false},
	})
	checkRobots(t, "user-agent: a\ndisallow: /c\n\nuser-agent: b\ndisallow: /d\n", []robotsCase{
		{"newsdesk", "/c", true}, // no group for newsdesk, no '*': no rules
		{"a", "/c", false},
		{"a", "/d", true},
	})
	// The user-agent value may carry a version; the token ends before it.
	checkRobots(t, "User-agent: newsdesk/1.0 (+https://example.com)\nDisallow: /private\n", []robotsCase{
		{"newsdesk", "/private/x", false},
		{"newsdesk", "/public", true},
	})
	// Empty lines and unknown records inside a group do not end it.
	checkRobots(t, "User-agent: x\n\nUser-agent: newsdesk\nSitemap: https://example.com/s.xml\n\nDisallow: /a\n", []robotsCase{
		{"newsdesk", "/a", false},
		{"x", "/a", false},
	})
}

// RFC 9309 §2.2.2, the table of paths, their encoded form and the form
// matched, each row as a rule and as a URL, both ways.
func TestRobotsRFC9309_2_2_2PercentEncoding(t *testing.T) {
	rows := []struct{ path, encoded, match string }{
		{"/foo/bar?baz=quz", "/foo/bar?baz=quz", "/foo/bar?baz=quz"},
		{"/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar"},
		{"/foo/bar/\u30c4", "/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"},
		{"/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"},
		{"/foo/bar/%62%61%7A", "/foo/bar/%62%61%7A", "/foo/bar/baz"},
	}
	for _, r := range rows {
		if got := normalizeRobotsPath(r.path, false); got != r.match {
			t.Errorf("normalize(%q) = %q, want %q", r.path, got, r.match)
		}
		for _, rule := range []string{r.path, r.encoded, r.match} {
			for _, page := range []string{r.encoded, r.match, strings.ToLower(r.encoded)} {
				if parseRobots([]byte("User-agent: *\nDisallow: "+rule+"$\n"), "newsdesk").allowed(page) {
					t.Errorf("rule %q$ does not match %q", rule, page)
				}
			}
		}
	}
	// Reserved characters keep their meaning: %2F is not '/'.
	checkRobots(t, "User-agent: *\nDisallow: /a/b\n", []robotsCase{
		{"newsdesk", "/a%2Fb", true},
		{"newsdesk", "/%61/b", false},
	})
}

// RFC 9309 §2.2.3: '#' comments, '$' end of pattern, '*' any run of
// characters, and the percent-encoded forms naming '*' and '$' literally.
func TestRobotsRFC9309_2_2_3SpecialCharacters(t *testing.T) {
	body := "# comment on its own line\nUser-agent: * # comment in line\n" +
		"allow: / # comment in line\n" +
		"disallow: /this/path/exactly$\n" +
		"disallow: /this/path/*/with/wildcard\n" +
		"disallow: /path/file-with-a-%2A.html\n" +
		"disallow: /path/foo-%24\n"
	checkRobots(t, body, []robotsCase{
		{"newsdesk", "/this/path/exactly", false},
		{"newsdesk", "/this/path/exactly/more", true},
		{"newsdesk", "/this/path/exactly?q", true},
		{"newsdesk", "/this/path/a/b/with/wildcard", false},
		{"newsdesk", "/this/path//with/wildcard/x", false},
		{"newsdesk", "/this/path/with/wildcard", true},
		{"newsdesk", "/path/file-with-a-*.html", false},
		{"newsdesk", "/path/file-with-a-%2a.html", false},
		{"newsdesk", "/path/file-with-a-x.html", true},
		{"newsdesk", "/path/foo-$", false},
		{"newsdesk", "/path/foo-", true},
	})
}

// Wildcard and anchor cases (the examples Google documents for the same
// syntax), including patterns that must not match anywhere but at the
// start of the path.
func TestRobotsWildcards(t *testing.T) {
	checkRobots(t, "User-agent: *\nDisallow: /fish*.php\n", []robotsCase{
		{"newsdesk", "/fish.php", false},
		{"newsdesk", "/fishheads/catfish.php?parameters", false},
		{"newsdesk", "/Fish.PHP", true},
		{"newsdesk", "/a/fish.php", true},
	})
	checkRobots(t, "User-agent: *\nDisallow: /*.php$\n", []robotsCase{
		{"newsdesk", "/filename.php", false},
		{"newsdesk", "/folder/filename.php", false},
		{"newsdesk", "/filename.php?parameters", true},
		{"newsdesk", "/filename.php/", true},
		{"newsdesk", "/windows.PHP", true},
	})
	checkRobots(t, "User-agent: *\nDisallow: /a*b*c$\nDisallow: /x*\nAllow: /x*y\n", []robotsCase{
		{"newsdesk", "/abc", false},
		{"newsdesk", "/a-b-b-c-c", false},
		{"newsdesk", "/a-c-b", true},
		{"newsdesk", "/abcd", true},
		{"newsdesk", "/xy", true}, // /x*y (4) beats /x* (3)
		{"newsdesk", "/xz", false},
	})
	// A pattern without its leading '/' is read as if it had one.
	checkRobots(t, "User-agent: *\nDisallow: private\n", []robotsCase{
		{"newsdesk", "/private/x", false},
		{"newsdesk", "/public", true},
	})
}

// The four places where github.com/temoto/robotstxt v1.1.2 breaks RFC 9309
// (research13/DESIGN.md §3), each a rule this parser keeps.
func TestRobotsWhereTemotoDiffers(t *testing.T) {
	t.Run("GroupForAPrefixOfTheTokenDoesNotApply", func(t *testing.T) {
		checkRobots(t, "User-agent: news\nDisallow: /\n\nUser-agent: newsdesk-beta\nDisallow: /\n", []robotsCase{
			{"newsdesk", "/story", true},
			{"news", "/story", false},
		})
	})
	t.Run("AllowWinsATie", func(t *testing.T) {
		checkRobots(t, "User-agent: *\nDisallow: /p\nAllow: /p\nDisallow: /%7Eq\nAllow: /~q\n", []robotsCase{
			{"newsdesk", "/page", true},
			{"newsdesk", "/~q", true},
		})
	})
	t.Run("WildcardAnchoredAtPathStart", func(t *testing.T) {
		checkRobots(t, "User-agent: *\nDisallow: /fish*.php\n", []robotsCase{
			{"newsdesk", "/a/fish.php", true},
			{"newsdesk", "/fishy.php", false},
		})
	})
	t.Run("PercentEncodingNormalized", func(t *testing.T) {
		checkRobots(t, "User-agent: *\nDisallow: /%7Ejoe\nDisallow: /caf\u00e9\nDisallow: /%e2%82%ac\n", []robotsCase{
			{"newsdesk", "/~joe/page", false},
			{"newsdesk", "/%7ejoe", false},
			{"newsdesk", "/caf%C3%A9", false},
			{"newsdesk", "/%E2%82%AC", false},
			{"newsdesk", "/cafe", true},
		})
	})
	t.Run("RuleBeforeAnyUserAgentIsIgnored", func(t *testing.T) {
		checkRobots(t, "Disallow: /\nUser-agent: *\nDisallow: /private\n", []robotsCase{
			{"newsdesk", "/public", true},
			{"newsdesk", "/private", false},
		})
	})
}

func TestRobotsEmptyDisallowAndRobotsTxt(t *testing.T) {
	checkRobots(t, "User-agent: *\nDisallow:\n", []robotsCase{
		{"newsdesk", "/", true},
		{"newsdesk", "/anything?x", true},
	})
	checkRobots(t, "User-agent: *\nDisallow: /\n", []robotsCase{
		{"newsdesk", "/robots.txt", true},
		{"newsdesk", "/robots.txt?x=1", true},
		{"newsdesk", "/robots.txt/x", false},
		{"newsdesk", "/%72obots.txt", true},
		{"newsdesk", "", false},
	})
	checkRobots(t, "", []robotsCase{{"newsdesk", "/", true}})
}

// Lines the parser cannot read are skipped and the rest still used: bad
// UTF-8, no colon, unknown keys, NULs, CR and CRLF line ends, a BOM.
func TestRobotsJunkLinesAndBOM(t *testing.T) {
	body := "\ufeffUser-agent: *\r\n" +
		"Disallow: /bad-\xff\xfe\n" +
		"this line has no colon\n" +
		"Crawl-delay: 10\rNoindex: /x\n" +
		"\x00\x01: garbage\n" +
		"<html><body>not robots</body></html>\n" +
		"  DISALLOW :  /private   \r" +
		"Disallow: /comment # caf\xe9 in Latin-1 after the hash\n" +
		"Allow\t:\t/private/open\n"
	checkRobots(t, body, []robotsCase{
		{"newsdesk", "/bad-", true},
		{"newsdesk", "/x", true},
		{"newsdesk", "/private/secret", false},
		{"newsdesk", "/private/open/page", true},
		{"newsdesk", "/comment", false},
	})
	// The BOM is only a BOM at the very start: elsewhere it spoils its line.
	checkRobots(t, "User-agent: *\n\ufeffDisallow: /a\nDisallow: /b\n", []robotsCase{
		{"newsdesk", "/a", true},
		{"newsdesk", "/b", false},
	})
}

// Only the first 500 KiB are parsed; a line cut by the limit is dropped,
// a line that ends exactly at it is kept.
func TestRobotsParsesFirst500KiB(t *testing.T) {
	head := "User-agent: *\nDisallow: /early\n"
	pad := "# " + strings.Repeat("x", robotsMaxBytes-len(head)-len("# ")-len("\nDisallow: /cut")) + "\n"
	body := head + pad + "Disallow: /cut" + "ting\nDisallow: /late\n"
	if i := strings.Index(body, "ting"); i != robotsMaxBytes {
		t.Fatalf("test body: cut at %d, want %d", i, robotsMaxBytes)
	}
	checkRobots(t, body, []robotsCase{
		{"newsdesk", "/early", false},
		{"newsdesk", "/cut", true}, // "Disallow: /cut" was cut from "/cutting"
		{"newsdesk", "/cutting", true},
		{"newsdesk", "/late", true},
	})
	exact := head + pad + "Disallow: /cut\nDisallow: /late\n"
	if i := strings.Index(exact, "\nDisallow: /late"); i != robotsMaxBytes {
		t.Fatalf("test body: line ends at %d, want %d", i, robotsMaxBytes)
	}
	checkRobots(t, exact, []robotsCase{
		{"newsdesk", "/cut", false},
		{"newsdesk", "/late", true},
	})
	// A body of one endless line has nothing to parse.
	checkRobots(t, "User-agent: * "+strings.Repeat("x", robotsMaxBytes), []robotsCase{{"newsdesk", "/", true}})
}

// fakeRobots is a robots.txt origin for the cache: a response per
// robots.txt URL and a count of fetches.
type fakeRobots struct {
	mu      sync.Mutex
	answers map[string]fakeAnswer
	fetches map[string]int
}

type fakeAnswer struct {
	status int
	body   string
	err    error
}

func (f *fakeRobots) fetch(_ context.Context, robotsURL string) (int, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fetches == nil {
		f.fetches = map[string]int{}
	}
	f.fetches[robotsURL]++
	a, ok := f.answers[robotsURL]
	if !ok {
		return 404, nil, nil
	}
	return a.status, []byte(a.body), a.err
}

func (f *fakeRobots) count(robotsURL string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches[robotsURL]
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func ask(t *testing.T, c *robotsCache, page string) robotsVerdict {
	t.Helper()
	v, err := c.Allowed(context.Background(), mustURL(t, page))
	if err != nil {
		t.Fatalf("Allowed(%s): %v", page, err)
	}
	return v
}

// RFC 9309 §2.3.1: 2xx parsed, 3xx (redirects ran out) and 4xx allow all,
// 429, 5xx and errors disallow all as unreachable.
func TestRobotsCacheStatuses(t *testing.T) {
	f := &fakeRobots{answers: map[string]fakeAnswer{
		"https://ok.example/robots.txt":        {status: 200, body: "User-agent: newsdesk\nDisallow: /private\n"},
		"https://gone.example/robots.txt":      {status: 410, body: "User-agent: *\nDisallow: /\n"},
		"https://redirects.example/robots.txt": {status: 302},
		"https://busy.example/robots.txt":      {status: 429},
		"https://down.example/robots.txt":      {status: 503},
		"https://odd.example/robots.txt":       {status: 0},
		"https://dead.example/robots.txt":      {err: errors.New("dial tcp: connection refused")},
	}}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c := newRobotsCache("newsdesk", f.fetch)
	c.Now = clock.Now
	cases := []struct {
		page               string
		allowed, unreached bool
		reason             string
		ttl                time.Duration
	}{
		{"https://ok.example/story", true, false, "", robotsTTL},
		{"https://ok.example/private/story?id=1", false, false,
			"https://ok.example/robots.txt disallows /private/story?id=1 (Disallow: /private)", robotsTTL},
		{"https://nothing.example/story", true, false, "", robotsTTL}, // 404
		{"https://gone.example/story", true, false, "", robotsTTL},
		{"https://redirects.example/story", true, false, "", robotsTTL},
		{"https://busy.example/story", false, true, "robots.txt unreachable: https://busy.example/robots.txt answered 429 Too Many Requests", robotsRetry},
		{"https://down.example/story", false, true, "robots.txt unreachable: https://down.example/robots.txt answered 503 Service Unavailable", robotsRetry},
		{"https://odd.example/story", false, true, "robots.txt unreachable: https://odd.example/robots.txt answered 0", robotsRetry},
		{"https://dead.example/story", false, true, "robots.txt unreachable: https://dead.example/robots.txt: dial tcp: connection refused", robotsRetry},
		{"https://dead.example/robots.txt", true, false, "", 0},
	}
	for _, tc := range cases {
		v := ask(t, c, tc.page)
		want := robotsVerdict{Allowed: tc.allowed, Unreachable: tc.unreached, Reason: tc.reason}
		if tc.ttl > 0 {
			want.Until = clock.now.Add(tc.ttl)
		}
		if v != want {
			t.Errorf("Allowed(%s) = %+v, want %+v", tc.page, v, want)
		}
	}
	if n := f.count("https://dead.example/robots.txt"); n != 1 {
		t.Errorf("dead.example robots.txt fetched %d times, want 1 (/robots.txt needs none)", n)
	}
}

// A fetched robots.txt is used for 24 hours, an unreachable one for an
// hour; then each is asked for again.
func TestRobotsCacheExpiry(t *testing.T) {
	f := &fakeRobots{answers: map[string]fakeAnswer{
		"https://a.example/robots.txt": {status: 200, body: "User-agent: *\nDisallow: /x\n"},
		"https://b.example/robots.txt": {status: 500},
	}}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	c := newRobotsCache("newsdesk", f.fetch)
	c.Now = clock.Now
	steps := []struct {
		at             time.Duration
		bBack          bool // b's robots.txt answers 404 from now on
		fetchA, fetchB int
		bAllowed       bool
	}{
		{0, false, 1, 1, false},
		{59 * time.Minute, false, 1, 1, false},
		{time.Hour, false, 1, 2, false},
		{23*time.Hour + 59*time.Minute, true, 1, 3, true},
		{24 * time.Hour, false, 2, 3, true},
		{47*time.Hour + 59*time.Minute, false, 2, 4, true},
		{48 * time.Hour, false, 3, 4, true},
	}
	for _, s := range steps {
		clock.now = start.Add(s.at)
		if s.bBack {
			f.mu.Lock()
			delete(f.answers, "https://b.example/robots.txt")
			f.mu.Unlock()
		}
		a := ask(t, c, "https://a.example/x/story")
		b := ask(t, c, "https://b.example/story")
		if a.Allowed || b.Allowed != s.bAllowed || b.Unreachable == s.bAllowed {
			t.Errorf("at %v: a %+v (want disallowed), b %+v (want allowed %v)", s.at, a, b, s.bAllowed)
		}
		ga, gb := f.count("https://a.example/robots.txt"), f.count("https://b.example/robots.txt")
		if ga != s.fetchA || gb != s.fetchB {
			t.Errorf("at %v: fetches a %d b %d, want %d %d", s.at, ga, gb, s.fetchA, s.fetchB)
		}
	}
}

// One origin, one cache entry: the scheme's default port written or not,
// the host's case; another port or scheme is another origin.
func TestRobotsCacheOrigins(t *testing.T) {
	f := &fakeRobots{}
	c := newRobotsCache("newsdesk", f.fetch)
	for _, page := range []string{
		"https://Example.COM/a", "https://example.com:443/b", "https://example.com/c?d",
		"http://example.com/a", "HTTP://example.com:80/b",
		"http://example.com:8080/a",
		"http://[::1]:8080/a", "http://[::1]/a", "http://[::1]:80/b",
	} {
		ask(t, c, page)
	}
	want := map[string]int{
		"https://example.com/robots.txt":     1,
		"http://example.com/robots.txt":      1,
		"http://example.com:8080/robots.txt": 1,
		"http://[::1]:8080/robots.txt":       1,
		"http://[::1]/robots.txt":            1,
	}
	f.mu.Lock()
	got := fmt.Sprint(f.fetches)
	f.mu.Unlock()
	if got != fmt.Sprint(want) {
		t.Errorf("fetches = %s, want %s", got, fmt.Sprint(want))
	}
	for _, bad := range []string{"ftp://example.com/x", "/relative/path", "mailto:a@example.com", "http:///x", "http://:80/x"} {
		if v, err := c.Allowed(context.Background(), mustURL(t, bad)); err == nil {
			t.Errorf("Allowed(%q) = %+v, want an error", bad, v)
		}
	}
}

// Concurrent questions about one origin fetch its robots.txt once: the
// first caller fetches, the others wait for it (synctest.Wait shows every
// goroutine blocked before the fetch is let go).
func TestRobotsCacheFetchesOnceForConcurrentCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fetches atomic.Int32
		release := make(chan struct{})
		c := newRobotsCache("newsdesk", func(ctx context.Context, robotsURL string) (int, []byte, error) {
			fetches.Add(1)
			<-release
			return 200, []byte("User-agent: *\nDisallow: /private\n"), nil
		})
		const callers = 16
		results := make([]bool, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				path := "/public"
				if i%2 == 1 {
					path = "/private"
				}
				v, err := c.Allowed(context.Background(), &url.URL{Scheme: "https", Host: "news.example", Path: path})
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
				results[i] = v.Allowed
			})
		}
		synctest.Wait()
		if n := fetches.Load(); n != 1 {
			t.Fatalf("%d fetches in flight for one origin, want 1", n)
		}
		close(release)
		wg.Wait()
		if n := fetches.Load(); n != 1 {
			t.Errorf("%d fetches, want 1", n)
		}
		for i, ok := range results {
			if ok != (i%2 == 0) {
				t.Errorf("caller %d: allowed %v, want %v", i, ok, i%2 == 0)
			}
		}
	})
}

// A fetch abandoned because its caller's context ended is not cached, and
// a caller waiting for it fetches again instead of failing.
func TestRobotsCacheAbandonedFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fetches atomic.Int32
		c := newRobotsCache("newsdesk", func(ctx context.Context, robotsURL string) (int, []byte, error) {
			if fetches.Add(1) == 1 {
				<-ctx.Done()
				return 0, nil, ctx.Err()
			}
			return 200, []byte("User-agent: *\nDisallow: /x\n"), nil
		})
		page := &url.URL{Scheme: "https", Host: "news.example", Path: "/x"}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var firstErr error
		wg.Go(func() { _, firstErr = c.Allowed(ctx, page) })
		synctest.Wait() // the first caller is fetching
		var second robotsVerdict
		var secondErr error
		wg.Go(func() { second, secondErr = c.Allowed(context.Background(), page) })
		synctest.Wait() // the second is waiting for it
		cancel()
		wg.Wait()
		if !errors.Is(firstErr, context.Canceled) {
			t.Errorf("first caller: error %v, want context.Canceled", firstErr)
		}
		if secondErr != nil || second.Allowed || second.Unreachable {
			t.Errorf("second caller: %+v, %v; want disallowed by the rule", second, secondErr)
		}
		if n := fetches.Load(); n != 2 {
			t.Errorf("%d fetches, want 2", n)
		}
	})
}

// A panicking Fetch releases the callers waiting for it.
func TestRobotsCacheFetchPanic(t *testing.T) {
	c := newRobotsCache("newsdesk", func(context.Context, string) (int, []byte, error) { panic("boom") })
	page := &url.URL{Scheme: "https", Host: "news.example", Path: "/x"}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Allowed did not pass the panic on")
			}
		}()
		c.Allowed(context.Background(), page)
	}()
	c.mu.Lock()
	n := len(c.inflight)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d fetches still in flight after a panic, want 0", n)
	}
}

// The cache forgets the least recently used origins beyond its bounds, so
// 10,000 article hosts do not grow it forever.
func TestRobotsCacheBounded(t *testing.T) {
	f := &fakeRobots{}
	c := newRobotsCache("newsdesk", f.fetch)
	c.MaxHosts = 3
	host := func(i int) string { return fmt.Sprintf("https://h%d.example/page", i) }
	robots := func(i int) string { return fmt.Sprintf("https://h%d.example/robots.txt", i) }
	for i := 1; i <= 3; i++ {
		ask(t, c, host(i))
	}
	ask(t, c, host(1)) // h1 used: h2 is now the least recently used
	ask(t, c, host(4))
	ask(t, c, host(1))
	ask(t, c, host(3))
	if f.count(robots(1)) != 1 || f.count(robots(3)) != 1 {
		t.Errorf("h1 fetched %d times, h3 %d, want 1 and 1 (kept)", f.count(robots(1)), f.count(robots(3)))
	}
	ask(t, c, host(2))
	if n := f.count(robots(2)); n != 2 {
		t.Errorf("h2 fetched %d times, want 2 (forgotten as least recently used)", n)
	}
	if n := len(c.entries); n != 3 || c.lru.Len() != 3 {
		t.Errorf("%d entries (%d in the list), want 3", n, c.lru.Len())
	}

	big := &fakeRobots{answers: map[string]fakeAnswer{}}
	rules := "User-agent: *\n" + strings.Repeat("Disallow: /"+strings.Repeat("p", 1000)+"\n", 100)
	for i := range 20 {
		big.answers[robots(i)] = fakeAnswer{status: 200, body: rules}
	}
	c = newRobotsCache("newsdesk", big.fetch)
	c.MaxBytes = 1 << 20
	for i := range 20 {
		ask(t, c, host(i))
	}
	if c.bytes > c.MaxBytes || c.lru.Len() < 2 || c.lru.Len() > 10 {
		t.Errorf("byte budget %d: %d bytes in %d entries", c.MaxBytes, c.bytes, c.lru.Len())
	}

	c = newRobotsCache("newsdesk", (&fakeRobots{}).fetch)
	for i := range 10000 {
		ask(t, c, host(i))
	}
	if n := len(c.entries); n != robotsMaxHosts {
		t.Errorf("after 10,000 hosts: %d entries, want %d", n, robotsMaxHosts)
	}
}

func FuzzParseRobots(f *testing.F) {
	f.Add([]byte("User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n"), "/example/a.gif")
	f.Add([]byte("User-agent: newsdesk\nDisallow: /\nAllow: /$\n"), "/")
	f.Add([]byte("\ufeffuser-agent: news\r\ndisallow: /%7Ejoe\rallow: /~joe/*/x$"), "/~joe/a/x")
	f.Add([]byte("User-agent: *\nDisallow: /a*b*c*d*e$\n# \xff\n"), "/aXbXcXdXe?%zz")
	f.Add([]byte("Disallow: /\nUser-agent: *\nDisallow: %\nAllow: *\n"), "/robots.txt")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		rs := parseRobots(body, "newsdesk")
		got := rs.allowed(path)
		if again := parseRobots(bytes.Clone(body), "newsdesk").allowed(path); again != got {
			t.Fatalf("allowed(%q) = %v, then %v", path, got, again)
		}
		if rs.allowed(path) != got {
			t.Fatalf("allowed(%q) changed on a second call", path)
		}
		slashed := path
		if !strings.HasPrefix(slashed, "/") {
			slashed = "/" + slashed
		}
		norm := normalizeRobotsPath(slashed, false)
		if again := normalizeRobotsPath(norm, false); again != norm {
			t.Fatalf("normalize(%q) = %q, normalized again %q", slashed, norm, again)
		}
		if rs.allowed(norm) != got {
			t.Fatalf("allowed(%q) = %v, allowed(%q) = %v", path, got, norm, !got)
		}
		if !rs.allowed("/robots.txt") {
			t.Fatal("/robots.txt disallowed")
		}
		if len(rs.rules) == 0 && !got {
			t.Fatalf("no rules, yet %q disallowed", path)
		}
	})
}
