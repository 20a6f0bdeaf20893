package main

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestImportMakeID(t *testing.T) {
	long := strings.Repeat("Breaking news from everywhere ", 5)
	tests := []struct {
		name, title, url string
		taken            []string
		want             string
	}{
		{"plain", "The Moscow Times", "https://www.themoscowtimes.com/rss/news", nil, "the-moscow-times"},
		{"punctuation", "Ars Technica - All content", "https://feeds.arstechnica.com/arstechnica/index", nil, "ars-technica-all-content"},
		{"apostrophe", "John’s musings", "https://blogs.example.com/~john/posts.rss", nil, "johns-musings"},
		{"accents", "Süddeutsche Zeitung", "https://rss.sueddeutsche.de/rss/Topthemen", nil, "suddeutsche-zeitung"},
		{"french", "Le Monde.fr - Actualités", "https://www.lemonde.fr/rss/une.xml", nil, "le-monde-fr-actualites"},
		{"dotted capital I", "İstanbul Haber", "https://istanbul.example/rss", nil, "istanbul-haber"},
		{"cyrillic", "Медуза", "https://meduza.io/rss/all", nil, "meduza"},
		{"cyrillic words", "Новая газета Европа", "https://novayagazeta.eu/feed/rss", nil, "novaya-gazeta-evropa"},
		{"hard sign", "Коммерсантъ", "https://www.kommersant.ru/RSS/news.xml", nil, "kommersant"},
		{"ukrainian", "Українська правда", "https://www.pravda.com.ua/rss/", nil, "ukrayinska-pravda"},
		{"serbian", "Политика: Ђоковић", "https://www.politika.rs/rss", nil, "politika-djokovic"},
		{"emoji around", "🚀 Space.com 🚀", "https://www.space.com/feeds/all", nil, "space-com"},
		{"emoji only: url", "📰📰", "https://www.Example.com/Feeds/All.xml", nil, "example-com-feeds-all-xml"},
		{"no transliteration: url", "日本経済新聞", "https://assets.wor.jp/rss/rdf/nikkei/news.rdf", nil, "assets-wor-jp-rss-rdf-nikkei-news-rdf"},
		{"no title: url", "", "http://feeds.kottke.org/main", nil, "feeds-kottke-org-main"},
		{"non-ASCII host", "★", "https://例え.jp/", nil, "jp"},
		{"nothing usable", "★", "https://例え.テスト/", nil, "feed"},
		{"long title cut at a word", long, "https://x.example/", nil, "breaking-news-from-everywhere-breaking-news-from-everywhere"},
		{"long word cut hard", strings.Repeat("a", 100), "https://x.example/", nil, strings.Repeat("a", 64)},
		{"taken", "Hacker News", "https://news.ycombinator.com/rss", []string{"hacker-news"}, "hacker-news-2"},
		{"taken twice", "Hacker News", "https://news.ycombinator.com/rss", []string{"hacker-news", "hacker-news-2"}, "hacker-news-3"},
		{"taken, long", strings.Repeat("b", 64), "https://x.example/", []string{strings.Repeat("b", 64)}, strings.Repeat("b", 62) + "-2"},
		{"taken url fallback", "日本", "https://nhk.jp/", []string{"nhk-jp"}, "nhk-jp-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, id := range tt.taken {
				taken[id] = true
			}
			got := makeID(tt.title, tt.url, taken)
			if got != tt.want {
				t.Errorf("makeID(%q, %q) = %q, want %q", tt.title, tt.url, got, tt.want)
			}
			if !newsdesk.ValidID(got) {
				t.Errorf("makeID(%q, %q) = %q, which is not %s", tt.title, tt.url, got, newsdesk.IDRule)
			}
		})
	}
}

func FuzzImportMakeID(f *testing.F) {
	f.Add("Медуза", "https://meduza.io/rss/all")
	f.Add("🚀", "feed://x")
	f.Add(strings.Repeat("ab-", 40), "https://x.example/"+strings.Repeat("c", 80))
	f.Fuzz(func(t *testing.T, title, u string) {
		taken := map[string]bool{}
		for range 3 {
			id := makeID(title, u, taken)
			if !newsdesk.ValidID(id) || taken[id] {
				t.Fatalf("makeID(%q, %q) = %q: not a valid new id", title, u, id)
			}
			taken[id] = true
		}
	})
}

// TestImportParseOPML reads exports shaped like those of five readers.
func TestImportParseOPML(t *testing.T) {
	type feed struct {
		title, url string
		folders    []string
	}
	tests := map[string][]feed{
		"miniflux.opml": { // title and text, everything in a folder ("All" by default)
			{"Ars Technica - All content", "https://feeds.arstechnica.com/arstechnica/index", []string{"All"}},
			{"Miniflux", "https://miniflux.app/feed.xml", []string{"All"}},
			{"The Moscow Times - Independent News From Russia", "https://www.themoscowtimes.com/rss/news", []string{"All"}},
			{"The Go Blog", "https://go.dev/blog/feed.atom", []string{"Go"}},
			{"research!rsc", "https://research.swtch.com/feed.atom?format=atom&full=1", []string{"Go"}},
		},
		"freshrss.opml": { // text only, frss: attributes, a scraped page
			{"FreshRSS releases", "https://github.com/FreshRSS/FreshRSS/releases.atom", []string{"Sans catégorie"}},
			{"Le Monde.fr - Actualités et Infos en France et dans le monde", "https://www.lemonde.fr/rss/une.xml", []string{"Presse"}},
			{"Süddeutsche Zeitung", "https://rss.sueddeutsche.de/rss/Topthemen", []string{"Presse"}},
			{"Hacker News: jobs", "https://news.ycombinator.com/jobs", []string{"Presse"}},
		},
		"feedly.opml": { // a feed in two folders is listed twice
			{"The Verge", "https://www.theverge.com/rss/index.xml", []string{"Tech"}},
			{"Hacker News", "https://news.ycombinator.com/rss", []string{"Tech"}},
			{"The Verge", "https://www.theverge.com/rss/index.xml", []string{"Must Read"}},
			{"The Moscow Times", "https://www.themoscowtimes.com/rss/news/", []string{"Must Read"}},
			{"BBC News - World", "http://feeds.bbci.co.uk/news/world/rss.xml", []string{"📰 News"}},
			{"🚀 Space.com", "https://www.space.com/feeds/all", []string{"📰 News"}},
		},
		"inoreader.opml": {
			{"Медуза", "https://meduza.io/rss/all", []string{"Новости"}},
			{"Новая газета Европа", "https://novayagazeta.eu/feed/rss", []string{"Новости"}},
			{"Українська правда", "https://www.pravda.com.ua/rss/", []string{"Новости"}},
			{"日本経済新聞", "https://assets.wor.jp/rss/rdf/nikkei/news.rdf", []string{"日本"}},
			{"Kottke", "http://feeds.kottke.org/main", nil},
		},
		"netnewswire.opml": { // OPML 1.1, top-level feeds
			{"Daring Fireball", "https://daringfireball.net/feeds/main", nil},
			{"NetNewsWire News", "https://netnewswire.blog/feed.xml", nil},
			{"Six Colors", "https://feedpress.me/sixcolors", []string{"Apple"}},
			{"inessential", "feed://inessential.com/xml/rss.xml", []string{"Apple"}},
		},
		"variants.opml": { // xmlurl, XMLURL, no type, no title, &nbsp;, nesting
			{"Go blog", "https://blog.golang.org/feed.atom", []string{"Blogs"}},
			{"Notes by Mike", "https://example.org/~mike/index.rss", []string{"Blogs", "Friends"}},
			{"", "https://untitled.example.net/feed", nil},
			{"Birdsite search", "|~/fetch_tweets.py", nil},
			{"Local file", "tests/data/feed.atom", nil},
		},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "opml", name))
			if err != nil {
				t.Fatal(err)
			}
			feeds, err := parseOPML(name, data)
			if err != nil {
				t.Fatalf("parseOPML() error = %v", err)
			}
			var got []feed
			for _, f := range feeds {
				got = append(got, feed{f.Title, f.URL, f.Folders})
			}
			if !slices.EqualFunc(got, want, func(a, b feed) bool {
				return a.title == b.title && a.url == b.url && slices.Equal(a.folders, b.folders)
			}) {
				t.Errorf("parseOPML() =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestImportParseOPMLLines(t *testing.T) {
	data, err := os.ReadFile("testdata/opml/feedly.opml")
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := parseOPML("feedly.opml", data)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, f := range feeds {
		lines = append(lines, f.Line)
	}
	if want := []int{9, 10, 13, 14, 17, 18}; !slices.Equal(lines, want) {
		t.Errorf("parseOPML() lines = %v, want %v", lines, want)
	}
}

func TestImportParseOPMLEncodings(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<opml version=\"1.1\"><body><outline text=\"Caf\xe9 \xab Soci\xe9t\xe9 \xbb\" xmlUrl=\"https://cafe.example/rss\"/></body></opml>", "Café « Société »"},
		{"windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<opml><body><outline text=\"\x93Quoted\x94 \x80\" xmlUrl=\"https://q.example/rss\"/></body></opml>", "“Quoted” €"},
		{"UTF-8 labelled latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<opml><body><outline text=\"Médias\" xmlUrl=\"https://m.example/rss\"/></body></opml>", "Médias"},
		{"UTF-8 byte order mark", "\xef\xbb\xbf<?xml version=\"1.0\"?><opml><body><outline text=\"Médias\" xmlUrl=\"https://m.example/rss\"/></body></opml>", "Médias"},
		{"UTF-16LE", utf16LE("<?xml version=\"1.0\" encoding=\"UTF-16\"?><opml><body><outline text=\"Медуза\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>"), "Медуза"},
		{"HTML entity", "<opml><body><outline text=\"A&nbsp;&amp;&#160;B\" xmlUrl=\"https://ab.example/rss\"/></body></opml>", "A & B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, err := parseOPML("x.opml", []byte(tt.data))
			if err != nil {
				t.Fatalf("parseOPML() error = %v", err)
			}
			if len(feeds) != 1 || feeds[0].Title != tt.want {
				t.Errorf("parseOPML() = %+v, want one feed titled %q", feeds, tt.want)
			}
		})
	}
}

func utf16LE(s string) string {
	b := []byte{0xff, 0xfe}
	for _, r := range s {
		if r > 0xffff {
			panic("BMP only")
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestImportParseOPMLErrors(t *testing.T) {
	broken, err := os.ReadFile("testdata/opml/broken.opml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data, want string
	}{
		{"mismatched tag", string(broken), "x.opml:7: malformed OPML: element <outline> closed by </body>"},
		{"unquoted attribute", "<opml>\n<body>\n<outline text=Tech/>\n</body></opml>", "x.opml:3: malformed OPML: unquoted or missing attribute value in element"},
		{"truncated", "<opml>\n<body>\n<outline text=\"Tech\">\n", "x.opml:4: malformed OPML: unexpected EOF"},
		{"RSS, not OPML", "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel/></rss>", "x.opml:2: not an OPML file: the root element is <rss>, not <opml>"},
		{"HTML page", "<!DOCTYPE html>\n<html><head><meta charset=utf-8>", "x.opml:2: not an OPML file: the root element is <html>, not <opml>"},
		{"no body", "<opml version=\"1.0\"><head><title>t</title></head></opml>", "x.opml: not an OPML subscription list: <opml> has no <body>"},
		{"empty", "", "x.opml: not an OPML file: it has no XML elements"},
		{"windows-1251", "<?xml version=\"1.0\" encoding=\"windows-1251\"?><opml><body><outline text=\"\xcc\xe5\xe4\xf3\xe7\xe0\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>", `encoding "windows-1251" is not supported: convert the file to UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, err := parseOPML("x.opml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseOPML() = %v, %v; want error containing %q", feeds, err, tt.want)
			}
		})
	}
}

// insertFeeds is what cmdImport does to the text of feeds.yaml.
func insertFeeds(t testing.TB, config string, feeds []opmlFeed) (string, importPlan) {
	t.Helper()
	l, err := findSources([]byte(config))
	if err != nil {
		t.Fatalf("findSources() error = %v", err)
	}
	plan := planImport(feeds, l)
	return config[:l.insertAt] + string(l.render(plan.add, "x.opml")) + config[l.insertAt:], plan
}

// checkOnlyInserted fails unless got is old with whole lines inserted at
// one place.
func checkOnlyInserted(t testing.TB, old, got string) {
	t.Helper()
	n := len(got) - len(old)
	for i := 0; n >= 0 && i <= len(old); i++ {
		atLine := i == 0 || i == len(old) || lineBreak([]byte(old[:i])) != "" && (old[i-1] != '\r' || old[i] != '\n')
		if atLine && got[:i] == old[:i] && got[i+n:] == old[i:] {
			return
		}
	}
	t.Errorf("the import changed the file instead of inserting lines into it:\n--- before\n%s\n--- after\n%s", old, got)
}

func TestImportFindSources(t *testing.T) {
	feeds := []opmlFeed{{Title: "New", URL: "https://new.example/feed", Folders: []string{"Tech"}}}
	added := "# Imported from x.opml by newsdesk import.\n- id: new\n  title: New\n  url: https://new.example/feed\n  tags: [tech]\n"
	indent := func(n int, s string) string {
		lines := strings.SplitAfter(s, "\n")
		for i, l := range lines {
			if l != "" {
				lines[i] = strings.Repeat(" ", n) + l
			}
		}
		return strings.Join(lines, "")
	}
	tests := []struct {
		name, config, want string
	}{
		{
			"indented list, comments, blank line",
			"sources:\n  - id: a   # first\n    url: https://a.example/\n\n# Sections publish sources.\nsections:\n  - id: s\n    sources: [a]\n",
			"sources:\n  - id: a   # first\n    url: https://a.example/\n" + indent(2, added) + "\n# Sections publish sources.\nsections:\n  - id: s\n    sources: [a]\n",
		},
		{
			"list at the key's indentation",
			"sources:\n- id: a\n  url: https://a.example/\n# Sections follow.\nsections:\n- id: s\n  sources: [a]\n",
			"sources:\n- id: a\n  url: https://a.example/\n" + added + "# Sections follow.\nsections:\n- id: s\n  sources: [a]\n",
		},
		{
			"commented-out item stays with the list",
			"sources:\n  - id: a\n    url: https://a.example/\n  # - id: b\n  #   url: https://b.example/\n\nsections:\n  - id: s\n    sources: [a]\n",
			"sources:\n  - id: a\n    url: https://a.example/\n  # - id: b\n  #   url: https://b.example/\n" + indent(2, added) + "\nsections:\n  - id: s\n    sources: [a]\n",
		},
		{
			"wide indentation",
			"sources:\n    -   id: a\n        url: https://a.example/\nsections:\n    -   id: s\n        sources: [a]\n",
			"sources:\n    -   id: a\n        url: https://a.example/\n    # Imported from x.opml by newsdesk import.\n    -   id: new\n        title: New\n        url: https://new.example/feed\n        tags: [tech]\nsections:\n    -   id: s\n        sources: [a]\n",
		},
		{
			"sources last, no final newline",
			"sections:\n  - id: s\n    tags: [tech]\nsources:\n  - id: a\n    url: https://a.example/\n    tags: [tech]",
			"sections:\n  - id: s\n    tags: [tech]\nsources:\n  - id: a\n    url: https://a.example/\n    tags: [tech]\n" + indent(2, added),
		},
		{
			"empty sources key with a comment",
			"sources:   # none yet\n  # add feeds here\nsections:\n  - id: s\n    tags: [tech]\n",
			"sources:   # none yet\n  # add feeds here\n" + indent(2, added) + "sections:\n  - id: s\n    tags: [tech]\n",
		},
		{
			"no sources key",
			"# Sections first.\nsections:\n  - id: s\n    tags: [tech]\n",
			"# Sections first.\nsections:\n  - id: s\n    tags: [tech]\n\nsources:\n" + indent(2, added),
		},
		{
			"CRLF line endings",
			"sources:\r\n  - id: a\r\n    url: https://a.example/\r\nsections:\r\n  - id: s\r\n    sources: [a]\r\n",
			"sources:\r\n  - id: a\r\n    url: https://a.example/\r\n" + strings.ReplaceAll(indent(2, added), "\n", "\r\n") + "sections:\r\n  - id: s\r\n    sources: [a]\r\n",
		},
		{
			"block scalar in the last item",
			"sources:\n  - id: a\n    url: https://a.example/\n    title: |\n      A title\n      # not a comment\n\nsections:\n  - id: s\n    sources: [a]\n",
			"sources:\n  - id: a\n    url: https://a.example/\n    title: |\n      A title\n      # not a comment\n" + indent(2, added) + "\nsections:\n  - id: s\n    sources: [a]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := insertFeeds(t, tt.config, feeds)
			if got != tt.want {
				t.Errorf("import into\n%s\ngot\n%s\nwant\n%s", tt.config, got, tt.want)
			}
			checkOnlyInserted(t, tt.config, got)
			if _, err := parseConfig("feeds.yaml", t.TempDir(), []byte(got)); err != nil {
				t.Errorf("the result is not a valid config: %v", err)
			}
		})
	}
}

func TestImportFindSourcesRefuses(t *testing.T) {
	for _, config := range []string{
		"sources: []\nsections: []\n",
		"sources: [{id: a, url: 'https://a.example/'}]\n",
		"{sections: [], storage: {path: x.db}}\n",
		"sources: a-string\n",
	} {
		if l, err := findSources([]byte(config)); err == nil {
			t.Errorf("findSources(%q) = %+v, want an error", config, l)
		}
	}
}

func TestImportPlan(t *testing.T) {
	config := "sources:\n  - id: moscow-times\n    url: https://www.TheMoscowTimes.com/rss/news\n  - id: hacker-news\n    url: https://hn.example/other\nsections:\n  - id: s\n    sources: [moscow-times]\n"
	feeds := []opmlFeed{
		{Title: "The Moscow Times", URL: "https://www.themoscowtimes.com/rss/news/", Line: 3},
		{Title: "The Moscow Times", URL: "https://www.themoscowtimes.com/rss/news", Folders: []string{"Again"}, Line: 4},
		{Title: "Hacker News", URL: "https://news.ycombinator.com/rss", Folders: []string{"Tech"}, Line: 5},
		{Title: "Hacker News", URL: "https://news.ycombinator.com/rss/", Folders: []string{"Must Read"}, Line: 6},
		{Title: "Hacker News", URL: "https://hn.example/mirror", Folders: []string{"Tech"}, Line: 7},
		{Title: "Birdsite", URL: "|~/bin/fetch", Line: 8},
		{Title: "Jobs", URL: "https://news.ycombinator.com/jobs", Type: "HTML+XPath", Line: 9},
		{Title: "null", URL: "https://null.example/", Folders: []string{"2024", "📰"}, Line: 10},
	}
	got, plan := insertFeeds(t, config, feeds)
	want := config[:strings.Index(config, "sections:")] +
		"  # Imported from x.opml by newsdesk import.\n" +
		"  - id: hacker-news-2\n    title: Hacker News\n    url: https://news.ycombinator.com/rss\n    tags: [tech, must-read]\n" +
		"  - id: hacker-news-3\n    title: Hacker News\n    url: https://hn.example/mirror\n    tags: [tech]\n" +
		"  - id: \"null\"\n    title: \"null\"\n    url: https://null.example/\n    tags: [\"2024\"]\n" +
		config[strings.Index(config, "sections:"):]
	if got != want {
		t.Errorf("import got\n%s\nwant\n%s", got, want)
	}
	if _, err := parseConfig("feeds.yaml", t.TempDir(), []byte(got)); err != nil {
		t.Errorf("the result is not a valid config: %v", err)
	}
	if s, want := plan.summary("feeds.yaml"), "3 sources (3 skipped: already present 1, not http(s) 1, not a feed 1) into feeds.yaml"; s != want {
		// The Moscow Times is listed twice but counts once.
		t.Errorf("summary() = %q, want %q", s, want)
	}
	wantNotes := []string{
		`3: skip "The Moscow Times" (https://www.themoscowtimes.com/rss/news/): already in feeds.yaml as source "moscow-times"`,
		`4: skip "The Moscow Times" (https://www.themoscowtimes.com/rss/news): already in feeds.yaml as source "moscow-times"`,
		`6: "Hacker News" (https://news.ycombinator.com/rss/) is also at line 5: one source with the tags of both folders`,
		`8: skip "Birdsite": xmlUrl "|~/bin/fetch" must start with http:// or https://`,
		`9: skip "Jobs" (https://news.ycombinator.com/jobs): type "HTML+XPath" is a web page scraped by FreshRSS, not a feed`,
	}
	if !slices.Equal(plan.notes, wantNotes) {
		t.Errorf("notes =\n%s\nwant\n%s", strings.Join(plan.notes, "\n"), strings.Join(wantNotes, "\n"))
	}
}

func TestImportYAMLScalar(t *testing.T) {
	for s, want := range map[string]string{
		"The Moscow Times":             "The Moscow Times",
		"research!rsc":                 "research!rsc",
		"https://x.example/a?b=1&c=#d": "https://x.example/a?b=1&c=#d",
		"Медуза":                       "Медуза",
		"null":                         `"null"`,
		"yes":                          "yes", // a string in YAML 1.2, and to yaml.v3
		"true":                         `"true"`,
		"1843":                         `"1843"`,
		"Hacker News: jobs":            `"Hacker News: jobs"`,
		"C# in depth":                  "C# in depth",
		"Tips #1":                      `"Tips #1"`,
		"- dash":                       `"- dash"`,
		"[bracket]":                    `"[bracket]"`,
		"*star":                        `"*star"`,
		`say "hi" \o/`:                 `"say \"hi\" \\o/"`,
		"@home":                        `"@home"`,
		"'quoted'":                     `"'quoted'"`,
	} {
		if got := yamlScalar(s); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", s, got, want)
		}
	}
}

// runImport runs the newsdesk command line in this process.
func runImport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestImportGolden imports a Feedly export into a copy of the shipped
// feeds.yaml: every byte of it stays, the sources are inserted at the end
// of the sources list, and the file is still valid.
func TestImportGolden(t *testing.T) {
	orig, err := os.ReadFile("testdata/opml/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(config, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runImport(t, "import", "-config", config, "testdata/opml/feedly.opml")
	if code != 0 {
		t.Fatalf("newsdesk import: exit %d, stderr:\n%s", code, stderr)
	}
	got, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/opml/feeds-feedly.yaml.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("feeds.yaml after the import =\n%s\nwant (%s; go test -run TestImportGolden -update rewrites it)\n%s", got, golden, want)
	}
	checkOnlyInserted(t, string(orig), string(got))
	if _, err := LoadConfig(config); err != nil {
		t.Errorf("LoadConfig() after the import: %v", err)
	}
	wantOut := "imported 4 sources (1 skipped: already present 1, not http(s) 0) into " + config + "\n" +
		"they are in no section yet: add them to a section's sources or tags to publish them (their tags: must-read, news, tech)\n"
	if stdout != wantOut {
		t.Errorf("stdout =\n%s\nwant\n%s", stdout, wantOut)
	}
}

func TestImportCommand(t *testing.T) {
	shipped, err := os.ReadFile("testdata/opml/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	feedly := "testdata/opml/feedly.opml"
	setup := func(t *testing.T, content []byte, mode os.FileMode) string {
		config := filepath.Join(t.TempDir(), "feeds.yaml")
		if err := os.WriteFile(config, content, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(config, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return config
	}
	unchanged := func(t *testing.T, config string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(config)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed:\n%s", config, got)
		}
		entries, _ := os.ReadDir(filepath.Dir(config))
		for _, e := range entries {
			if strings.Contains(e.Name(), ".import-") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}

	t.Run("keeps the file mode and leaves no temporary file", func(t *testing.T) {
		config := setup(t, shipped, 0o640)
		if code, _, stderr := runImport(t, "import", "-config", config, feedly); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		fi, err := os.Stat(config)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode after import = %v, want 0640", fi.Mode().Perm())
		}
		got, _ := os.ReadFile(config)
		unchanged(t, config, got)
	})

	t.Run("flags after the file, dry run", func(t *testing.T) {
		config := setup(t, shipped, 0o644)
		code, stdout, stderr := runImport(t, "import", feedly, "-dry-run", "-config", config)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		unchanged(t, config, shipped)
		if !strings.HasPrefix(stdout, "  # Imported from feedly.opml by newsdesk import.\n  - id: the-verge\n") {
			t.Errorf("dry run stdout =\n%s\nwant the YAML to insert", stdout)
		}
		for _, want := range []string{
			`feedly.opml:14: skip "The Moscow Times" (https://www.themoscowtimes.com/rss/news/): already in feeds.yaml as source "moscow-times"`,
			"dry run: would import 4 sources (1 skipped: already present 1, not http(s) 0) into " + config + ", after line 23; nothing was written",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("dry run stderr =\n%s\nwant a line %q", stderr, want)
			}
		}
	})

	t.Run("second import changes nothing", func(t *testing.T) {
		config := setup(t, shipped, 0o644)
		runImport(t, "import", "-config", config, feedly)
		once, _ := os.ReadFile(config)
		code, stdout, _ := runImport(t, "import", "-config", config, feedly)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		unchanged(t, config, once)
		if want := "imported 0 sources (5 skipped: already present 5, not http(s) 0) into " + config + "; " + config + " is unchanged\n"; stdout != want {
			t.Errorf("stdout = %q, want %q", stdout, want)
		}
	})

	t.Run("follows a symbolic link", func(t *testing.T) {
		config := setup(t, shipped, 0o644)
		link := filepath.Join(t.TempDir(), "feeds.yaml")
		if err := os.Symlink(config, link); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		if code, _, stderr := runImport(t, "import", "-config", link, feedly); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link", link)
		}
		if got, _ := os.ReadFile(config); !bytes.Contains(got, []byte("id: the-verge")) {
			t.Errorf("the link's target was not imported into:\n%s", got)
		}
	})

	t.Run("refuses a config that already has problems", func(t *testing.T) {
		broken := []byte("sources:\n  - id: a\n    url: https://a.example/\nsections:\n  - id: s\n    sources: [b]\n")
		config := setup(t, broken, 0o644)
		code, stdout, stderr := runImport(t, "import", "-config", config, feedly)
		if code != exitError {
			t.Errorf("exit %d, want %d", code, exitError)
		}
		unchanged(t, config, broken)
		for _, want := range []string{
			config + `:6:15: section "s": unknown source "b"`,
			config + " has 1 problem; fix it and import again ('newsdesk check' lists them); nothing was written",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr =\n%s\nwant %q", stderr, want)
			}
		}
		if stdout != "" {
			t.Errorf("stdout = %q, want nothing", stdout)
		}
	})

	t.Run("adds a sources list and publishes by tag", func(t *testing.T) {
		orig := []byte("# Sections first; the sources come from an OPML file.\nsections:\n  - id: tech\n    tags: [tech]\n")
		config := setup(t, orig, 0o644)
		code, stdout, stderr := runImport(t, "import", "-config", config, feedly)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got, _ := os.ReadFile(config)
		checkOnlyInserted(t, string(orig), string(got))
		cfg, err := LoadConfig(config)
		if err != nil {
			t.Fatalf("LoadConfig() = %v", err)
		}
		if want := []string{"the-verge", "hacker-news"}; !slices.Equal(cfg.Sections[0].Sources, want) {
			t.Errorf("section tech sources = %q, want %q", cfg.Sections[0].Sources, want)
		}
		if want := "3 of them are in no section yet: add them to a section's sources or tags to publish them (their tags: must-read, news)\n"; !strings.HasSuffix(stdout, want) {
			t.Errorf("stdout =\n%s\nwant it to end with %q", stdout, want)
		}
	})

	t.Run("malformed OPML", func(t *testing.T) {
		config := setup(t, shipped, 0o644)
		code, _, stderr := runImport(t, "import", "-config", config, "testdata/opml/broken.opml")
		if code != exitError || !strings.Contains(stderr, "newsdesk import: testdata/opml/broken.opml:7: malformed OPML: element <outline> closed by </body>") {
			t.Errorf("exit %d, stderr %q; want 1 and the file and line", code, stderr)
		}
		unchanged(t, config, shipped)
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"import"}, {"import", "a.opml", "b.opml"}, {"import", "-nope", "a.opml"}} {
			if code, _, stderr := runImport(t, args...); code != exitUsage {
				t.Errorf("newsdesk %s: exit %d (stderr %q), want %d", strings.Join(args, " "), code, stderr, exitUsage)
			}
		}
	})
}

// importCorpusConfig is a valid feeds.yaml for corpus imports to go into.
const importCorpusConfig = "sources:\n  - id: existing\n    url: https://existing.example/feed\nsections:\n  - id: all\n    sources: [existing]\n"

// TestImportCorpora parses the OPML files of other projects' test suites
// (in ../shared/corpora beside the repository) and checks that whatever
// imports from them gives a valid feeds.yaml.
func TestImportCorpora(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "corpora")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: the shared test corpora are not at %s (%v)", root, err)
	}
	var n int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if ext != ".opml" && ext != ".xml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if ext == ".xml" && !bytes.Contains(data[:min(len(data), 4096)], []byte("<opml")) {
			return nil
		}
		n++
		feeds, err := parseOPML(path, data)
		if err != nil {
			t.Logf("%v", err) // some are broken on purpose
			return nil
		}
		if len(feeds) == 0 {
			return nil
		}
		got, plan := insertFeeds(t, importCorpusConfig, feeds)
		if _, err := parseConfig(path, ".", []byte(got)); err != nil {
			t.Errorf("%s: importing it gives an invalid config: %v\n%s", path, err, got)
		}
		t.Logf("%s: %s", path, plan.summary("feeds.yaml"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no OPML files found under %s", root)
	}
}

func FuzzImportOPML(f *testing.F) {
	files, _ := filepath.Glob("testdata/opml/*.opml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := parseOPML("fuzz.opml", data)
		if err != nil || len(feeds) == 0 {
			return
		}
		got, _ := insertFeeds(t, importCorpusConfig, feeds)
		if _, err := parseConfig("feeds.yaml", ".", []byte(got)); err != nil {
			t.Fatalf("importing gives an invalid config: %v\n%s", err, got)
		}
	})
}

// FuzzImportFindSources checks that whatever a valid feeds.yaml looks
// like, importing into it only inserts lines and keeps it valid, with the
// new source in the sources list.
func FuzzImportFindSources(f *testing.F) {
	shipped, err := os.ReadFile("testdata/opml/feeds.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(shipped))
	f.Add(importCorpusConfig)
	f.Add("sections:\n- id: s\n  tags: [tech]\n# end\n")
	f.Add("sources:\n- id: a\n  url: http://a.example/\n  title: |+\n    x\n\n# c\nsections:\n")
	f.Fuzz(func(t *testing.T, config string) {
		if _, err := parseConfig("feeds.yaml", ".", []byte(config)); err != nil {
			return
		}
		l, err := findSources([]byte(config))
		if err != nil {
			return
		}
		feeds := []opmlFeed{{Title: "Fuzz", URL: "https://fuzz.example/feed", Folders: []string{"Tech"}}}
		plan := planImport(feeds, l)
		got := config[:l.insertAt] + string(l.render(plan.add, "x.opml")) + config[l.insertAt:]
		checkOnlyInserted(t, config, got)
		cfg, err := parseConfig("feeds.yaml", ".", []byte(got))
		if err != nil {
			t.Fatalf("importing into\n%s\ngives an invalid config: %v\n%s", config, err, got)
		}
		if _, ok := cfg.Source(plan.add[0].ID); !ok {
			t.Fatalf("importing into\n%s\ngives\n%s\nwithout source %q", config, got, plan.add[0].ID)
		}
	})
}
