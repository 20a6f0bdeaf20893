package opml

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/newsdesk/newsdesk/internal/charset"
)

// TestParse reads exports shaped like those of five readers, and two saved
// in Russian single-byte charsets.
func TestParse(t *testing.T) {
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
		"windows-1251.opml": { // declared in the XML prolog
			{"Коммерсантъ: Главное", "https://www.kommersant.ru/RSS/main.xml", []string{"Новости"}},
			{"Ведомости", "https://www.vedomosti.ru/rss/news", []string{"Новости"}},
			{"Хабр — лучшее", "https://habr.com/ru/rss/best/", []string{"Наука «и» техника"}},
		},
		"koi8-r.opml": { // declared in the XML prolog
			{"Ёжик в тумане", "https://ezhik.example.ru/rss", []string{"Блоги"}},
			{"Фонтанка.ру", "https://www.fontanka.ru/fontanka.rss", []string{"Новости"}},
			{"Эхо", "https://echofm.online/feed", nil},
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
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			feeds, err := Parse(name, data)
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			var got []feed
			for _, f := range feeds {
				got = append(got, feed{f.Title, f.URL, f.Folders})
			}
			if !slices.EqualFunc(got, want, func(a, b feed) bool {
				return a.title == b.title && a.url == b.url && slices.Equal(a.folders, b.folders)
			}) {
				t.Errorf("Parse() =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestParseLines(t *testing.T) {
	data, err := os.ReadFile("testdata/feedly.opml")
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := Parse("feedly.opml", data)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, f := range feeds {
		lines = append(lines, f.Line)
	}
	if want := []int{9, 10, 13, 14, 17, 18}; !slices.Equal(lines, want) {
		t.Errorf("Parse() lines = %v, want %v", lines, want)
	}
}

func TestParseEncodings(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<opml version=\"1.1\"><body><outline text=\"Caf\xe9 \xab Soci\xe9t\xe9 \xbb\" xmlUrl=\"https://cafe.example/rss\"/></body></opml>", "Café « Société »"},
		{"windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<opml><body><outline text=\"\x93Quoted\x94 \x80\" xmlUrl=\"https://q.example/rss\"/></body></opml>", "“Quoted” €"},
		{"UTF-8 labelled latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<opml><body><outline text=\"Médias\" xmlUrl=\"https://m.example/rss\"/></body></opml>", "Médias"},
		{"UTF-8 byte order mark", "\xef\xbb\xbf<?xml version=\"1.0\"?><opml><body><outline text=\"Médias\" xmlUrl=\"https://m.example/rss\"/></body></opml>", "Médias"},
		{"UTF-16LE", utf16LE("<?xml version=\"1.0\" encoding=\"UTF-16\"?><opml><body><outline text=\"Медуза\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>"), "Медуза"},
		{"windows-1251", "<?xml version=\"1.0\" encoding=\"windows-1251\"?><opml><body><outline text=\"\xcc\xe5\xe4\xf3\xe7\xe0\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>", "Медуза"},
		{"KOI8-R", "<?xml version='1.0' encoding='koi8-r'?><opml><body><outline text=\"\xed\xc5\xc4\xd5\xda\xc1\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>", "Медуза"},
		{"UTF-16LE without byte order mark", utf16LE("<?xml version=\"1.0\" encoding=\"UTF-16\"?><opml><body><outline text=\"Медуза\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>")[2:], "Медуза"},
		{"HTML entity", "<opml><body><outline text=\"A&nbsp;&amp;&#160;B\" xmlUrl=\"https://ab.example/rss\"/></body></opml>", "A & B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, err := Parse("x.opml", []byte(tt.data))
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if len(feeds) != 1 || feeds[0].Title != tt.want {
				t.Errorf("Parse() = %+v, want one feed titled %q", feeds, tt.want)
			}
		})
	}
}

// TestParseDeep reads folders nested as deep as Parse allows.
func TestParseDeep(t *testing.T) {
	const folders = maxDepth - 3 // <opml>, <body> and the feed's outline
	data := "<opml><body>\n" + strings.Repeat("<outline text=\"F\">", folders) +
		"\n<outline xmlUrl=\"https://deep.example/feed\"/><outline xmlUrl=\"https://deep.example/other\"/>" +
		strings.Repeat("</outline>", folders) + "</body></opml>"
	feeds, err := Parse("x.opml", []byte(data))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if len(feeds) != 2 || feeds[0].Line != 3 || !slices.Equal(feeds[1].Folders, slices.Repeat([]string{"F"}, folders)) {
		t.Errorf("Parse() = %v, want 2 feeds at line 3 in %d folders", feeds, folders)
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

func TestParseErrors(t *testing.T) {
	broken, err := os.ReadFile("testdata/broken.opml")
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
		{"nested too deep", "<opml><body>" + strings.Repeat(`<outline text="F">`, maxDepth), "x.opml:1: not an OPML subscription list: elements nested more than 100 deep"},
		{"empty", "", "x.opml: not an OPML file: it has no XML elements"},
		{"unknown encoding", "<?xml version=\"1.0\" encoding=\"x-martian\"?><opml><body><outline text=\"\xcc\xe5\xe4\xf3\xe7\xe0\" xmlUrl=\"https://meduza.io/rss/all\"/></body></opml>", `x.opml: unsupported encoding "x-martian": convert the file to UTF-8 (e.g. iconv -f x-martian -t utf-8) and import that`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, err := Parse("x.opml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() = %v, %v; want error containing %q", feeds, err, tt.want)
			}
		})
	}
}

// checkFeeds fails unless feeds, parsed from the OPML document data, are
// what an import can use: a trimmed URL, titles and folder names on one
// line without invisible characters, and lines inside the document, in
// order.
func checkFeeds(t *testing.T, data []byte, feeds []Feed) {
	t.Helper()
	text, err := charset.ToUTF8(data, "")
	if err != nil {
		t.Fatalf("Parse() read a document that charset.ToUTF8 refuses: %v", err)
	}
	lines := 1 + bytes.Count(text, []byte("\n"))
	printable := func(s string) bool {
		return !strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) })
	}
	last := 1
	for _, f := range feeds {
		if f.URL == "" || f.URL != strings.TrimSpace(f.URL) {
			t.Errorf("Parse() feed %+v: URL empty or not trimmed", f)
		}
		if !printable(f.Title) || slices.ContainsFunc(f.Folders, func(s string) bool { return s == "" || !printable(s) }) {
			t.Errorf("Parse() feed %+v: a title or folder that does not fit on one line", f)
		}
		if f.Line < last || f.Line > lines {
			t.Errorf("Parse() feed %+v: line %d, want %d to %d", f, f.Line, last, lines)
		}
		last = f.Line
	}
}

// FuzzOPML checks that whatever an OPML file holds, Parse either names
// the file in its error or returns feeds an import can use.
func FuzzOPML(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.opml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := Parse("fuzz.opml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.opml") {
				t.Fatalf("Parse() error = %q, which does not name the file", err)
			}
			return
		}
		checkFeeds(t, data, feeds)
	})
}

// TestCorpora parses the OPML files of other projects' test suites (in
// ../shared/corpora beside the repository).
func TestCorpora(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpora")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: the shared test corpora are not at %s (%v)", root, err)
	}
	var files, parsed, feeds int
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
		files++
		list, err := Parse(path, data)
		if err != nil {
			t.Logf("%v", err) // some are broken on purpose
			return nil
		}
		parsed++
		feeds += len(list)
		checkFeeds(t, data, list)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if parsed == 0 || feeds == 0 {
		t.Errorf("%d OPML files under %s, %d parsed, %d feeds; want some feeds", files, root, parsed, feeds)
	}
	t.Logf("%d OPML files, %d parsed, %d feeds", files, parsed, feeds)
}
