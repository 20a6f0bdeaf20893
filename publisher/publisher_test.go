package publisher

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/atomtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeStore is the store contract over a slice: items of the named sources,
// kept by keep, newest first (ties by source id, then id). Tests that change
// it while a server runs use add and setErr.
type fakeStore struct {
	mu       sync.Mutex
	items    []newsdesk.Item
	states   []newsdesk.FetchState
	versions map[string]newsdesk.SectionVersion
	err      error
	// commits is what Position returns: add counts one.
	commits int
	// readAt is the position each stored version's content was read at.
	readAt map[string]int
	// beforeRecord, when set, is called (without the lock, once: it may
	// set itself again with onRecord) when RecordSectionVersions begins:
	// another instance committing and rendering meanwhile.
	beforeRecord func()
}

// Position counts the commits (add).
func (f *fakeStore) Position() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strconv.Itoa(f.commits), f.err
}

// RecordSectionVersions keeps the versions in memory, by the rules the
// store applies (SectionVersion.Next; a render behind the stored
// version's keeps it).
func (f *fakeStore) RecordSectionVersions(hashes map[string]string, now time.Time, pos string) (map[string]newsdesk.SectionVersion, error) {
	f.mu.Lock()
	hook := f.beforeRecord
	f.beforeRecord = nil
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if f.versions == nil {
		f.versions = map[string]newsdesk.SectionVersion{}
	}
	if f.readAt == nil {
		f.readAt = map[string]int{}
	}
	readAt, err := strconv.Atoi(pos)
	if pos == "" {
		readAt, err = -1, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]newsdesk.SectionVersion{}
	for id, h := range hashes {
		old := f.versions[id]
		if next := old.Next(h, now); next != old && (readAt < 0 || readAt >= f.readAt[id]) {
			f.versions[id], f.readAt[id] = next, max(readAt, 0)
		}
		out[id] = f.versions[id]
	}
	return out, nil
}

// onRecord sets beforeRecord.
func (f *fakeStore) onRecord(hook func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beforeRecord = hook
}

func (f *fakeStore) add(it newsdesk.Item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, it)
	f.commits++
}

func (f *fakeStore) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeStore) Section(q newsdesk.Query) ([]newsdesk.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []newsdesk.Item
	for _, it := range f.items {
		if slices.Contains(q.Sources, it.SourceID) && q.Keep(&it) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b newsdesk.Item) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		if c := strings.Compare(a.SourceID, b.SourceID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (f *fakeStore) States() ([]newsdesk.FetchState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.states, f.err
}

func (f *fakeStore) State(id string) (newsdesk.FetchState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return newsdesk.FetchState{}, f.err
	}
	for _, st := range f.states {
		if st.SourceID == id {
			return st, nil
		}
	}
	return newsdesk.FetchState{}, newsdesk.ErrNotFound
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func mustRule(t *testing.T, text string) newsdesk.Rule {
	t.Helper()
	r, err := newsdesk.ParseRule(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixture is a small newsdesk: a news site with a permalink item titled
// "AT&T ...", whose Atom feed has its own id, updated date and author, a
// podcast with a non-URL guid and an enclosure, a source with neither a
// title nor a fetch state whose item has no author, no link, an enclosure
// of unknown type and control characters, an item that the section's
// exclude rule drops, a section with nothing in it whose sources failed
// or were not fetched yet, and a private section (token testToken) holding
// the dropped item, the newest of all, which has no author of its own.
func fixture(t *testing.T) (*fakeStore, Config) {
	t.Helper()
	st := &fakeStore{
		items: []newsdesk.Item{
			{
				SourceID:   "acme",
				ID:         "https://acme.example/2025/11/att-merger",
				Title:      "AT&T agrees to <merge> with \"Acme\"",
				Link:       "https://acme.example/2025/11/att-merger",
				Summary:    `<p>Shares rose 3% &amp; analysts <em>cheered</em>.</p>`,
				Content:    `<p>Full story. A CDATA end ]]> inside.</p>`,
				Authors:    []newsdesk.Person{{Name: "Jane Roe", Email: "jane@acme.example"}, {Name: "John Doe"}},
				Categories: []string{"Business", "Telecom"},
				Published:  date("2025-11-20T10:00:00Z"),
				Updated:    date("2025-11-20T12:30:00Z"),
				FirstSeen:  date("2025-11-20T10:05:00Z"),
			},
			{
				SourceID:   "radio",
				ID:         "episode-42",
				Title:      "Episode 42: Feeds",
				Link:       "https://radio.example/episodes/42",
				Summary:    "We talk about feeds.",
				Authors:    []newsdesk.Person{{Email: "host@radio.example"}},
				Published:  date("2025-11-19T08:00:00Z"),
				Updated:    date("2025-11-19T08:00:00Z"),
				Enclosures: []newsdesk.Enclosure{{URL: "https://radio.example/42.mp3", Type: "audio/mpeg", Length: 12345678}},
				FirstSeen:  date("2025-11-19T08:01:00Z"),
			},
			{
				SourceID:   "blog",
				ID:         "tag:blog.example,2025:7",
				Title:      "Control\x01 chars\x1f and\ttabs",
				Content:    "<p>Bell\x07 and NUL\x00 gone</p>",
				Published:  date("2025-11-18T00:00:00Z"),
				Enclosures: []newsdesk.Enclosure{{URL: "https://blog.example/file.bin"}},
				FirstSeen:  date("2025-11-18T00:00:00Z"),
			},
			{
				SourceID:  "acme",
				ID:        "https://acme.example/2025/11/sports",
				Title:     "Sports results",
				Link:      "https://acme.example/2025/11/sports",
				Published: date("2025-11-21T00:00:00Z"),
				FirstSeen: date("2025-11-21T00:00:00Z"),
			},
		},
		states: []newsdesk.FetchState{
			{
				SourceID: "acme", FeedTitle: "Acme Feed Title (unused)", FeedLink: "https://acme.example/",
				FeedID: "tag:acme.example,2025:news", FeedUpdated: date("2025-11-21T06:00:00Z"),
				FeedAuthors: []newsdesk.Person{{Name: "Acme Newsroom", Email: "desk@acme.example", URI: "https://acme.example/newsroom"}},
			},
			{SourceID: "radio", FeedTitle: "Radio Example", FeedLink: "https://radio.example/"},
			{SourceID: "down", Result: newsdesk.ResultError, Error: "dns: lookup down.example: no such host"},
		},
	}
	cfg := Config{
		BaseURL: "http://localhost:8080/",
		Title:   "newsdesk",
		Sources: []newsdesk.Source{
			{ID: "acme", Title: "Acme News", URL: "https://acme.example/feed.xml", Interval: 30 * time.Minute},
			{ID: "radio", URL: "https://radio.example/podcast.rss", Interval: 2 * time.Hour},
			{ID: "blog", URL: "https://blog.example/atom.xml"},
			{ID: "down", URL: "https://down.example/feed"},
			{ID: "new", URL: "https://new.example/feed"},
		},
		Sections: []newsdesk.Section{
			{
				ID:          "all",
				Title:       "Everything & more",
				Description: "All sources, without sports.",
				Sources:     []string{"acme", "radio", "blog"},
				Exclude:     []newsdesk.Rule{mustRule(t, "title:sports")},
				Limit:       10,
			},
			{ID: "empty", Title: "Nothing yet", Sources: []string{"none", "down", "new"}},
			{
				ID:      "secret",
				Title:   "Newsroom",
				Sources: []string{"acme"},
				Include: []newsdesk.Rule{mustRule(t, "title:sports")},
				MaxAge:  7 * 24 * time.Hour,
				Token:   testToken,
			},
		},
		Now: func() time.Time { return date("2025-11-22T00:00:00Z") },
		// serve's hub, then an external one (publish.websub_hubs).
		Hubs: testHubs,
	}
	return st, cfg
}

// testHubs are the WebSub hubs the fixture advertises.
var testHubs = []string{"http://localhost:8080/websub", "https://hub.example/"}

// testToken is the private section's token; it needs escaping in a URL.
const testToken = "open sesame+42/x"

// privatePaths are the files of the fixture's private section.
var privatePaths = []string{"sections/secret.atom", "sections/secret.html", "sections/secret.json", "sections/secret.rss"}

func render(t *testing.T) *Site {
	t.Helper()
	return renderOf(t, fixture)
}

// renderOf renders the site of a fixture.
func renderOf(t *testing.T, fixture func(*testing.T) (*fakeStore, Config)) *Site {
	t.Helper()
	st, cfg := fixture(t)
	site, err := Render(st, cfg)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	return site
}

func body(t *testing.T, site *Site, path string) []byte {
	t.Helper()
	f, ok := site.fileAt(path)
	if !ok {
		t.Fatalf("site has no %s; paths = %q", path, site.Paths())
	}
	return f.Body
}

func TestPaths(t *testing.T) {
	got := render(t).Paths()
	want := []string{
		"index.html", "sections.opml",
		"sections/all.atom", "sections/all.html", "sections/all.json", "sections/all.rss",
		"sections/empty.atom", "sections/empty.html", "sections/empty.json", "sections/empty.rss",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q (public files only)", got, want)
	}
	if got, want := render(t).Skipped(), []string{"secret"}; !slices.Equal(got, want) {
		t.Errorf("Skipped() = %q, want %q", got, want)
	}
}

// allPaths are the paths of every file of the site, private ones included.
func allPaths(site *Site) []string {
	return slices.Sorted(maps.Keys(site.files))
}

func TestGolden(t *testing.T) {
	site := render(t)
	for _, path := range allPaths(site) {
		t.Run(path, func(t *testing.T) { checkGolden(t, site, path) })
	}
}

// checkGolden compares the site's file at path with its golden file in
// testdata (rewritten with -update).
func checkGolden(t *testing.T, site *Site, path string) {
	t.Helper()
	golden := filepath.Join("testdata", strings.ReplaceAll(path, "/", "_")+".golden")
	got := body(t, site, path)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update and review the diff)\ngot:\n%s", path, golden, got)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := render(t), render(t)
	for _, path := range allPaths(a) {
		fa, _ := a.fileAt(path)
		fb, _ := b.fileAt(path)
		if !bytes.Equal(fa.Body, fb.Body) || fa.ETag != fb.ETag || !bytes.Equal(fa.Gzip, fb.Gzip) || fa.GzipETag != fb.GzipETag {
			t.Errorf("%s: two renders differ (ETag %s vs %s)", path, fa.ETag, fb.ETag)
		}
	}
}

func TestFileMetadata(t *testing.T) {
	site := render(t)
	tests := []struct {
		path         string
		contentType  string
		lastModified time.Time
		maxAge       time.Duration
	}{
		{"index.html", "text/html; charset=utf-8", time.Time{}, 300 * time.Second},
		{"sections.opml", "text/x-opml; charset=utf-8", time.Time{}, 300 * time.Second},
		// A section's files are dated by its version: the fixture's clock
		// when it was first rendered.
		{"sections/all.rss", "application/rss+xml; charset=utf-8", date("2025-11-22T00:00:00Z"), 30 * time.Minute},
		{"sections/all.atom", "application/atom+xml; charset=utf-8", date("2025-11-22T00:00:00Z"), 30 * time.Minute},
		{"sections/all.json", "application/feed+json", date("2025-11-22T00:00:00Z"), 30 * time.Minute},
		{"sections/all.html", "text/html; charset=utf-8", date("2025-11-22T00:00:00Z"), 30 * time.Minute},
		{"sections/empty.atom", "application/atom+xml; charset=utf-8", date("2025-11-22T00:00:00Z"), 300 * time.Second},
		{"sections/secret.rss", "application/rss+xml; charset=utf-8", date("2025-11-22T00:00:00Z"), 30 * time.Minute},
	}
	for _, tt := range tests {
		f, ok := site.fileAt(tt.path)
		if !ok {
			t.Fatalf("no file %s", tt.path)
		}
		if f.ContentType != tt.contentType {
			t.Errorf("%s: ContentType = %q, want %q", tt.path, f.ContentType, tt.contentType)
		}
		if !f.LastModified.Equal(tt.lastModified) {
			t.Errorf("%s: LastModified = %v, want %v", tt.path, f.LastModified, tt.lastModified)
		}
		if f.MaxAge != tt.maxAge {
			t.Errorf("%s: MaxAge = %v, want %v", tt.path, f.MaxAge, tt.maxAge)
		}
		if len(f.ETag) != 18 || f.ETag[0] != '"' || f.ETag[17] != '"' {
			t.Errorf("%s: ETag = %s, want a quoted 16-digit hash", tt.path, f.ETag)
		}
		if want := strings.TrimSuffix(f.ETag, `"`) + `-gz"`; f.GzipETag != want {
			t.Errorf("%s: GzipETag = %s, want %s", tt.path, f.GzipETag, want)
		}
		if got := gunzip(t, f.Gzip); !bytes.Equal(got, f.Body) {
			t.Errorf("%s: Gzip does not decompress to Body", tt.path)
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out
}

// TestStrictXML reads every token of every XML file with a strict parser.
func TestStrictXML(t *testing.T) {
	site := render(t)
	for _, path := range allPaths(site) {
		if !strings.HasSuffix(path, ".rss") && !strings.HasSuffix(path, ".atom") && !strings.HasSuffix(path, ".opml") {
			continue
		}
		d := xml.NewDecoder(bytes.NewReader(body(t, site, path)))
		d.Strict = true
		n := 0
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s: token %d: %v", path, n, err)
				break
			}
			n++
		}
	}
}

func TestNoControlCharacters(t *testing.T) {
	site := render(t)
	for _, path := range allPaths(site) {
		for i, c := range body(t, site, path) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				t.Errorf("%s: control character %#x at byte %d", path, c, i)
			}
		}
	}
}

// TestEscapedOnce checks that the plain-text title "AT&T" is escaped once in
// XML, and not at all in JSON.
func TestEscapedOnce(t *testing.T) {
	site := render(t)
	tests := []struct {
		path, want string
	}{
		{"sections/all.rss", "<title>AT&amp;T agrees to &lt;merge&gt; with &#34;Acme&#34;</title>"},
		{"sections/all.atom", "<title>AT&amp;T agrees to &lt;merge&gt; with &#34;Acme&#34;</title>"},
		{"sections/all.json", `"title": "AT&T agrees to <merge> with \"Acme\""`},
	}
	for _, tt := range tests {
		got := string(body(t, site, tt.path))
		if n := strings.Count(got, tt.want); n != 1 {
			t.Errorf("%s: %q occurs %d times, want once", tt.path, tt.want, n)
		}
		if strings.Contains(got, "AT&amp;amp;T") {
			t.Errorf("%s: title escaped twice", tt.path)
		}
	}
}

// TestParseBack reads every feed back with gofeed and checks what a reader
// would see.
func TestParseBack(t *testing.T) {
	site := render(t)
	for _, ext := range []string{".rss", ".atom", ".json"} {
		t.Run(ext, func(t *testing.T) {
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, site, "sections/all"+ext)))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if f.Title != "Everything & more" {
				t.Errorf("feed title = %q, want %q", f.Title, "Everything & more")
			}
			if len(f.Items) != 3 {
				t.Fatalf("%d items, want 3", len(f.Items))
			}
			var titles []string
			for _, it := range f.Items {
				titles = append(titles, it.Title)
			}
			wantTitles := []string{`AT&T agrees to <merge> with "Acme"`, "Episode 42: Feeds", "Control chars and tabs"}
			if !slices.Equal(titles, wantTitles) {
				t.Errorf("titles = %q, want %q", titles, wantTitles)
			}
			att, ep, blog := f.Items[0], f.Items[1], f.Items[2]
			if ext == ".rss" {
				if att.GUID != "https://acme.example/2025/11/att-merger" {
					t.Errorf("permalink guid = %q", att.GUID)
				}
			} else if att.GUID != urn("acme", "https://acme.example/2025/11/att-merger") {
				t.Errorf("id = %q, want the item's urn", att.GUID)
			}
			if want := urn("radio", "episode-42"); ep.GUID != want {
				t.Errorf("non-URL guid = %q, want %q", ep.GUID, want)
			}
			if len(ep.Enclosures) != 1 || ep.Enclosures[0].URL != "https://radio.example/42.mp3" ||
				ep.Enclosures[0].Type != "audio/mpeg" || ep.Enclosures[0].Length != "12345678" {
				t.Errorf("enclosures = %+v, want the mp3 with type and length", ep.Enclosures)
			}
			if len(blog.Enclosures) != 1 || blog.Enclosures[0].Type != "application/octet-stream" {
				t.Errorf("enclosure of unknown type = %+v, want application/octet-stream", blog.Enclosures)
			}
			var authors []string
			for _, a := range att.Authors {
				authors = append(authors, a.Name)
			}
			want := []string{"Jane Roe", "John Doe"}
			if ext == ".rss" {
				want = want[:1] // gofeed reads the first dc:creator only
			}
			if !slices.Equal(authors, want) {
				t.Errorf("authors = %q, want %q", authors, want)
			}
			if want := []string{"Business", "Telecom"}; !slices.Equal(att.Categories, want) {
				t.Errorf("categories = %q, want %q", att.Categories, want)
			}
			if att.PublishedParsed == nil || !att.PublishedParsed.Equal(date("2025-11-20T10:00:00Z")) {
				t.Errorf("published = %v, want 2025-11-20T10:00:00Z", att.PublishedParsed)
			}
			if blog.Link != "https://blog.example/atom.xml" {
				t.Errorf("link of an item without one = %q, want the source's", blog.Link)
			}
		})
	}
}

// TestAttribution checks the source of each item in each format, and the
// author that stands in when an item has none.
func TestAttribution(t *testing.T) {
	site := render(t)
	rss := string(body(t, site, "sections/all.rss"))
	atom := string(body(t, site, "sections/all.atom"))
	for _, want := range []string{
		`xmlns:atom="http://www.w3.org/2005/Atom"`,
		`xmlns:dc="http://purl.org/dc/elements/1.1/"`,
		`<atom:link href="http://localhost:8080/sections/all.rss" rel="self" type="application/rss+xml"></atom:link>`,
		`<source url="https://acme.example/feed.xml">Acme News</source>`,
		`<source url="https://radio.example/podcast.rss">Radio Example</source>`,
		`<source url="https://blog.example/atom.xml">blog</source>`,
		`<guid isPermaLink="false">` + urn("radio", "episode-42") + `</guid>`,
		`<dc:creator>Jane Roe</dc:creator>`,
		`<dc:creator>host@radio.example</dc:creator>`,
	} {
		if !strings.Contains(rss, want) {
			t.Errorf("RSS lacks %s", want)
		}
	}
	if strings.Contains(rss, "<author>") {
		t.Errorf("RSS has <author>, which wants an email address; want dc:creator")
	}
	if strings.Contains(rss+atom, "uuid") {
		t.Errorf("output contains a random urn:uuid")
	}
	for _, want := range []string{
		`<id>http://localhost:8080/sections/all.atom</id>`,
		`<link href="http://localhost:8080/sections/all.atom" rel="self" type="application/atom+xml"></link>`,
		`<updated>2025-11-20T12:30:00Z</updated>`,
		`<name>blog</name>`, // stand-in author
		`<id>https://radio.example/podcast.rss</id>`,
		`<title>Radio Example</title>`,
	} {
		if !strings.Contains(atom, want) {
			t.Errorf("Atom lacks %s", want)
		}
	}

	var jf struct {
		Items []struct {
			ID       string
			Authors  []struct{ Name string }
			Newsdesk struct {
				Source struct {
					ID, Title, URL string
					HomePageURL    string `json:"home_page_url"`
				}
			} `json:"_newsdesk"`
		}
	}
	if err := json.Unmarshal(body(t, site, "sections/all.json"), &jf); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range jf.Items {
		s := it.Newsdesk.Source
		got = append(got, s.ID+"|"+s.Title+"|"+s.URL+"|"+s.HomePageURL+"|"+it.Authors[0].Name)
	}
	want := []string{
		"acme|Acme News|https://acme.example/feed.xml|https://acme.example/|Jane Roe",
		"radio|Radio Example|https://radio.example/podcast.rss|https://radio.example/|host@radio.example",
		"blog|blog|https://blog.example/atom.xml|https://blog.example/atom.xml|blog",
	}
	if !slices.Equal(got, want) {
		t.Errorf("JSON sources =\n%q\nwant\n%q", got, want)
	}
}

func TestEmptySection(t *testing.T) {
	site := render(t)
	var jf map[string]any
	if err := json.Unmarshal(body(t, site, "sections/empty.json"), &jf); err != nil {
		t.Fatal(err)
	}
	items, ok := jf["items"].([]any)
	if !ok || len(items) != 0 {
		t.Errorf(`empty JSON feed "items" = %#v, want []`, jf["items"])
	}
	for k, want := range map[string]string{
		"version":       "https://jsonfeed.org/version/1.1",
		"feed_url":      "http://localhost:8080/sections/empty.json",
		"home_page_url": "http://localhost:8080/sections/empty.html",
	} {
		if jf[k] != want {
			t.Errorf("empty JSON feed %q = %v, want %q", k, jf[k], want)
		}
	}
	// The W3C validator calls 1970 an implausible date: an empty feed is
	// dated by its version, as every feed is.
	atom := string(body(t, site, "sections/empty.atom"))
	if !strings.Contains(atom, "<updated>2025-11-22T00:00:00Z</updated>") {
		t.Errorf("empty Atom feed lacks <updated>2025-11-22T00:00:00Z</updated>, its version's time:\n%s", atom)
	}
	if rss := string(body(t, site, "sections/empty.rss")); !strings.Contains(rss, "<pubDate>Sat, 22 Nov 2025 00:00:00 +0000</pubDate>") {
		t.Errorf("empty RSS feed lacks its version's time as pubDate:\n%s", rss)
	}
	for _, path := range []string{"sections/empty.rss", "sections/empty.atom", "sections/empty.json"} {
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, site, path))); err != nil {
			t.Errorf("%s: gofeed: %v", path, err)
		}
	}
}

// TestJing validates the Atom feeds against the RELAX NG schema of RFC 4287.
func TestJing(t *testing.T) {
	site := render(t)
	dir := t.TempDir()
	var files []string
	for _, path := range allPaths(site) {
		if !strings.HasSuffix(path, ".atom") {
			continue
		}
		file := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(file, body(t, site, path), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	atomtest.Validate(t, files...)
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*fakeStore, *Config)
		want   string
	}{
		{"relative base", func(_ *fakeStore, c *Config) { c.BaseURL = "/feeds/" }, "base url"},
		{"bad section id", func(_ *fakeStore, c *Config) { c.Sections[0].ID = "../etc" }, `section "../etc"`},
		{"upper-case id", func(_ *fakeStore, c *Config) { c.Sections[0].ID = "News" }, `section "News"`},
		{"duplicate id", func(_ *fakeStore, c *Config) { c.Sections[1].ID = "all" }, "defined twice"},
		{"store error", func(s *fakeStore, _ *Config) { s.err = errors.New("disk on fire") }, "disk on fire"},
		{"relative hub", func(_ *fakeStore, c *Config) { c.Hubs = []string{"/websub"} }, `websub hub "/websub"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, cfg := fixture(t)
			tt.change(st, &cfg)
			_, err := Render(st, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBaseURLWithoutSlash(t *testing.T) {
	st, cfg := fixture(t)
	cfg.BaseURL = "http://localhost:8080"
	site, err := Render(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(body(t, site, "sections/all.atom")); !strings.Contains(got, `href="http://localhost:8080/sections/all.atom" rel="self"`) {
		t.Errorf("self link not under http://localhost:8080/:\n%s", got)
	}
}

func TestRSSGuidOncePerLink(t *testing.T) {
	st, cfg := fixture(t)
	// The same article from a second source: its link may be a guid once only.
	dup := st.items[0]
	dup.SourceID = "radio"
	dup.Published = dup.Published.Add(-time.Hour)
	st.items = append(st.items, dup)
	site, err := Render(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rss := string(body(t, site, "sections/all.rss"))
	if n := strings.Count(rss, "<guid>https://acme.example/2025/11/att-merger</guid>"); n != 1 {
		t.Errorf("permalink guid occurs %d times, want once", n)
	}
	if !strings.Contains(rss, `<guid isPermaLink="false">`+urn("radio", dup.ID)+`</guid>`) {
		t.Errorf("second copy lacks its urn guid")
	}
}

func TestWriteDir(t *testing.T) {
	site := render(t)
	dir := filepath.Join(t.TempDir(), "public")
	// An export from when the private section was public: it must go.
	if err := os.MkdirAll(filepath.Join(dir, "sections"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"secret.rss", "secret.rss.gz", "secret.html"} {
		if err := os.WriteFile(filepath.Join(dir, "sections", name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := site.WriteDir(dir); err != nil {
		t.Fatalf("WriteDir() error = %v", err)
	}
	// Twice: renaming over existing files works too.
	if err := site.WriteDir(dir); err != nil {
		t.Fatalf("second WriteDir() error = %v", err)
	}
	var got []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		got = append(got, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm != 0o644 {
			t.Errorf("%s: mode %v, want 0644", rel, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	var want []string
	for _, p := range site.Paths() {
		want = append(want, p, p+".gz")
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q (each with its .gz, no private section, no temporary files left)", got, want)
	}
	for _, p := range site.Paths() {
		f, _ := site.fileAt(p)
		gz, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gz, f.Gzip) {
			t.Errorf("%s.gz differs from the gzip body served", p)
		}
	}
	for _, name := range []string{"all.atom", "all.atom.gz"} {
		info, err := os.Stat(filepath.Join(dir, "sections", name))
		if err != nil {
			t.Fatal(err)
		}
		if want := date("2025-11-22T00:00:00Z"); !info.ModTime().Equal(want) {
			t.Errorf("%s: mtime = %v, want the section version's time %v", name, info.ModTime(), want)
		}
	}
}

// TestFeedRules checks every feed the fixture renders, public and private,
// against the rules the W3C feed validator and the JSON Feed spec check.
func TestFeedRules(t *testing.T) {
	site := render(t)
	for _, path := range allPaths(site) {
		self := "http://localhost:8080/" + path
		if strings.Contains(path, "secret") {
			self += "?token=" + url.QueryEscape(testToken)
		}
		b := body(t, site, path)
		switch filepath.Ext(path) {
		case ".rss":
			checkRSS(t, path, b, self)
		case ".atom":
			checkAtom(t, path, b, self)
		case ".json":
			checkJSONFeed(t, path, b, self)
		}
	}
}

// checkRSS checks an RSS 2.0 feed: the atom:link rel="self" is the URL it is
// served at; the channel has a title, an absolute link and a description;
// each item has a title or description, a unique guid that is an absolute
// URL unless isPermaLink="false", names in dc:creator (never <author>,
// which wants an email address), a <source> with an absolute url, an
// enclosure with url, type and length, and an RFC 822 date.
func checkRSS(t *testing.T, name string, b []byte, self string) {
	t.Helper()
	type link struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
	}
	var doc struct {
		Version string `xml:"version,attr"`
		Channel struct {
			// Before Link: a field without a namespace takes an element
			// of any, and encoding/xml tries the fields in order.
			AtomLinks   []link `xml:"http://www.w3.org/2005/Atom link"`
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Items       []struct {
				Title       string `xml:"title"`
				Link        string `xml:"link"`
				Description string `xml:"description"`
				PubDate     string `xml:"pubDate"`
				GUID        struct {
					Value       string `xml:",chardata"`
					IsPermaLink string `xml:"isPermaLink,attr"`
				} `xml:"guid"`
				Authors  []string `xml:"author"`
				Creators []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
				Source   *struct {
					URL   string `xml:"url,attr"`
					Title string `xml:",chardata"`
				} `xml:"source"`
				Enclosures []struct {
					URL    string `xml:"url,attr"`
					Type   string `xml:"type,attr"`
					Length string `xml:"length,attr"`
				} `xml:"enclosure"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	ch := doc.Channel
	if doc.Version != "2.0" || ch.Title == "" || !newsdesk.IsHTTPURL(ch.Link) || ch.Description == "" {
		t.Errorf("%s: version %q, title %q, link %q, description %q: want 2.0 and all set, link absolute", name, doc.Version, ch.Title, ch.Link, ch.Description)
	}
	var selfs []string
	for _, l := range ch.AtomLinks {
		if l.Rel == "self" {
			selfs = append(selfs, l.Href)
			if l.Type != "application/rss+xml" {
				t.Errorf("%s: self link type %q", name, l.Type)
			}
		}
	}
	if len(selfs) != 1 || selfs[0] != self {
		t.Errorf("%s: atom:link rel=self = %q, want [%q]", name, selfs, self)
	}
	guids := make(map[string]bool)
	for i, it := range ch.Items {
		if it.Title == "" && it.Description == "" {
			t.Errorf("%s: item %d has neither title nor description", name, i)
		}
		if it.GUID.Value == "" || guids[it.GUID.Value] {
			t.Errorf("%s: item %d guid %q empty or repeated", name, i, it.GUID.Value)
		}
		guids[it.GUID.Value] = true
		switch it.GUID.IsPermaLink {
		case "", "true":
			if !newsdesk.IsHTTPURL(it.GUID.Value) {
				t.Errorf("%s: item %d guid %q is a permalink but not an absolute URL", name, i, it.GUID.Value)
			}
		case "false":
			if !strings.HasPrefix(it.GUID.Value, "urn:newsdesk:") {
				t.Errorf("%s: item %d guid %q: want a urn:newsdesk id", name, i, it.GUID.Value)
			}
		default:
			t.Errorf("%s: item %d isPermaLink=%q", name, i, it.GUID.IsPermaLink)
		}
		if !newsdesk.IsHTTPURL(it.Link) {
			t.Errorf("%s: item %d link %q not absolute", name, i, it.Link)
		}
		if len(it.Authors) > 0 {
			t.Errorf("%s: item %d has <author> %q; names go in dc:creator", name, i, it.Authors)
		}
		for _, c := range it.Creators {
			if strings.TrimSpace(c) == "" {
				t.Errorf("%s: item %d has an empty dc:creator", name, i)
			}
		}
		if it.Source == nil || !newsdesk.IsHTTPURL(it.Source.URL) || it.Source.Title == "" {
			t.Errorf("%s: item %d source = %+v, want an absolute url and a title", name, i, it.Source)
		}
		for _, e := range it.Enclosures {
			if !newsdesk.IsHTTPURL(e.URL) || !strings.Contains(e.Type, "/") || e.Length == "" {
				t.Errorf("%s: item %d enclosure %+v lacks url, type or length", name, i, e)
			}
		}
		if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil {
			t.Errorf("%s: item %d pubDate: %v", name, i, err)
		}
	}
}

// checkAtom checks what the RELAX NG schema (TestJing) cannot: the self
// link is the URL the feed is served at, and ids are unique.
func checkAtom(t *testing.T, name string, b []byte, self string) {
	t.Helper()
	var doc struct {
		Links []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Entries []struct {
			ID string `xml:"http://www.w3.org/2005/Atom id"`
		} `xml:"http://www.w3.org/2005/Atom entry"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	var selfs []string
	for _, l := range doc.Links {
		if l.Rel == "self" {
			selfs = append(selfs, l.Href)
		}
	}
	if len(selfs) != 1 || selfs[0] != self {
		t.Errorf("%s: link rel=self = %q, want [%q]", name, selfs, self)
	}
	ids := make(map[string]bool)
	for i, e := range doc.Entries {
		if e.ID == "" || ids[e.ID] {
			t.Errorf("%s: entry %d id %q empty or repeated", name, i, e.ID)
		}
		ids[e.ID] = true
	}
}

// checkJSONFeed checks a JSON Feed 1.1: version, title, feed_url (the URL it
// is served at), home_page_url, and items, each with a unique non-empty id,
// content, an absolute url and RFC 3339 dates.
func checkJSONFeed(t *testing.T, name string, b []byte, self string) {
	t.Helper()
	var doc struct {
		Version     *string `json:"version"`
		Title       *string `json:"title"`
		FeedURL     *string `json:"feed_url"`
		HomePageURL *string `json:"home_page_url"`
		Hubs        []struct {
			Type *string `json:"type"`
			URL  *string `json:"url"`
		} `json:"hubs"`
		Items *[]struct {
			ID            *string `json:"id"`
			URL           string  `json:"url"`
			ContentHTML   string  `json:"content_html"`
			ContentText   string  `json:"content_text"`
			DatePublished string  `json:"date_published"`
			DateModified  string  `json:"date_modified"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	switch {
	case doc.Version == nil || *doc.Version != "https://jsonfeed.org/version/1.1":
		t.Errorf("%s: version = %v", name, doc.Version)
	case doc.Title == nil || *doc.Title == "":
		t.Errorf("%s: no title", name)
	case doc.FeedURL == nil || *doc.FeedURL != self:
		t.Errorf("%s: feed_url = %v, want %q", name, doc.FeedURL, self)
	case doc.HomePageURL == nil || !newsdesk.IsHTTPURL(*doc.HomePageURL):
		t.Errorf("%s: home_page_url = %v, want an absolute URL", name, doc.HomePageURL)
	case doc.Items == nil:
		t.Errorf("%s: no items array", name)
		return
	}
	// JSON Feed 1.1: each hub has a type and a url, both required.
	for i, h := range doc.Hubs {
		if h.Type == nil || *h.Type == "" || h.URL == nil || !newsdesk.IsHTTPURL(*h.URL) {
			t.Errorf("%s: hub %d = %+v, want a type and an absolute url", name, i, h)
		}
	}
	ids := make(map[string]bool)
	for i, it := range *doc.Items {
		if it.ID == nil || *it.ID == "" || ids[*it.ID] {
			t.Errorf("%s: item %d id %v empty, missing or repeated", name, i, it.ID)
			continue
		}
		ids[*it.ID] = true
		if it.ContentHTML == "" && it.ContentText == "" {
			t.Errorf("%s: item %d has neither content_html nor content_text", name, i)
		}
		if it.URL != "" && !newsdesk.IsHTTPURL(it.URL) {
			t.Errorf("%s: item %d url %q not absolute", name, i, it.URL)
		}
		for _, d := range []string{it.DatePublished, it.DateModified} {
			if _, err := time.Parse(time.RFC3339, d); err != nil {
				t.Errorf("%s: item %d date: %v", name, i, err)
			}
		}
	}
}

// TestSectionPage checks the section's HTML page: each item's title links to
// the article, with its source, date and a one-line plain-text snippet; the
// subscribe and autodiscovery links; no script.
func TestSectionPage(t *testing.T) {
	page := string(body(t, render(t), "sections/all.html"))
	for _, want := range []string{
		`<title>Everything &amp; more · newsdesk</title>`,
		`<link rel="alternate" type="application/rss+xml" title="Everything &amp; more (RSS)" href="http://localhost:8080/sections/all.rss">`,
		`<link rel="alternate" type="application/atom+xml" title="Everything &amp; more (Atom)" href="http://localhost:8080/sections/all.atom">`,
		`<link rel="alternate" type="application/feed+json" title="Everything &amp; more (JSON Feed)" href="http://localhost:8080/sections/all.json">`,
		`<a href="../">← newsdesk</a>`,
		`<p class="feeds"><a href="all.rss">RSS</a> <a href="all.atom">Atom</a> <a href="all.json">JSON Feed</a></p>`,
		`<h2><a href="https://acme.example/2025/11/att-merger">AT&amp;T agrees to &lt;merge&gt; with &#34;Acme&#34;</a></h2>`,
		`<p class="meta">Acme News · <time datetime="2025-11-20T10:00:00Z">20 Nov 2025 10:00 UTC</time></p>`,
		`<p>Shares rose 3% &amp; analysts cheered.</p>`,
		`<p class="meta">Radio Example · `,
		`<p>Bell and NUL gone</p>`,
		`3 items · updated`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("section page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "Sports results", "no-referrer", "token"} {
		if strings.Contains(page, bad) {
			t.Errorf("section page contains %q", bad)
		}
	}
	if empty := string(body(t, render(t), "sections/empty.html")); !strings.Contains(empty, "<p>No items yet.</p>") {
		t.Errorf("empty section page lacks its notice:\n%s", empty)
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("word ", 60)
	tests := []struct {
		max       int
		fragments []string
		want      string
	}{
		{80, []string{"", "<p>Hello <b>big</b> <em>world</em>.</p><p>Next</p>"}, "Hello big world. Next"},
		{80, []string{"<br>"}, "Untitled"},
		{20, []string{long}, "word word word word…"},
		{10, []string{strings.Repeat("x", 30)}, strings.Repeat("x", 10) + "…"},
		{5, []string{"Привет, мир"}, "Приве…"},
	}
	for _, tt := range tests {
		if got := snippet(tt.max, "Untitled", tt.fragments...); got != tt.want {
			t.Errorf("snippet(%d, %q) = %q, want %q", tt.max, tt.fragments, got, tt.want)
		}
	}
}

// TestExportLinks checks that every relative link of the exported pages
// leads to an exported file, so that the export works from any static host.
func TestExportLinks(t *testing.T) {
	dir := t.TempDir()
	if err := render(t).WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	href := regexp.MustCompile(`href="([^"]+)"`)
	for _, page := range []string{"index.html", "sections/all.html", "sections/empty.html"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range href.FindAllStringSubmatch(string(b), -1) {
			u, err := url.Parse(m[1])
			if err != nil || u.IsAbs() {
				continue // autodiscovery, articles
			}
			target := filepath.Join(dir, filepath.Dir(page), filepath.FromSlash(u.Path))
			if strings.HasSuffix(u.Path, "/") || u.Path == ".." {
				target = filepath.Join(target, "index.html")
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: link %q leads nowhere in the export: %v", page, m[1], err)
			}
		}
	}
}

// TestWriteDirRemovesStaleTemporaries: an export killed before its renames
// leaves .NAME.RANDOM.tmp files; the next export removes them, and nothing
// else of the folder's.
func TestWriteDirRemovesStaleTemporaries(t *testing.T) {
	site := render(t)
	dir := filepath.Join(t.TempDir(), "public")
	if err := os.MkdirAll(filepath.Join(dir, "sections"), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := []string{".index.html.123.tmp", "sections/.all.rss.456.tmp", "sections/.all.atom.gz.789.tmp"}
	kept := []string{"robots.txt", ".htaccess", "sections/notes.tmp"}
	for _, name := range append(slices.Clone(stale), kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := site.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after an export (%v)", name, err)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s, not an export's temporary file, was removed: %v", name, err)
		}
	}
}

// urn is the published id of the item id of source src.
func urn(src, id string) string { return newsdesk.ItemRef{SourceID: src, ID: id}.URN() }
