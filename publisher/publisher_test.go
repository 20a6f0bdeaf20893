package publisher

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeStore is the store contract over a slice: items of the named sources,
// kept by keep, newest first (ties by source id, then id).
type fakeStore struct {
	items  []newsdesk.Item
	states []newsdesk.FetchState
	err    error
}

func (f *fakeStore) Section(q newsdesk.Query) ([]newsdesk.Item, error) {
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
	return f.states, f.err
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
// "AT&T ...", a podcast with a non-URL guid and an enclosure, a source with
// neither a title nor a fetch state whose item has no author, no link, an
// enclosure of unknown type and control characters, an item that the
// section's exclude rule drops, and a section with nothing in it.
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
			{SourceID: "acme", FeedTitle: "Acme Feed Title (unused)", FeedLink: "https://acme.example/"},
			{SourceID: "radio", FeedTitle: "Radio Example", FeedLink: "https://radio.example/"},
		},
	}
	cfg := Config{
		BaseURL: "http://localhost:8080/",
		Title:   "newsdesk",
		Sources: []newsdesk.Source{
			{ID: "acme", Title: "Acme News", URL: "https://acme.example/feed.xml", Interval: 30 * time.Minute},
			{ID: "radio", URL: "https://radio.example/podcast.rss", Interval: 2 * time.Hour},
			{ID: "blog", URL: "https://blog.example/atom.xml"},
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
			{ID: "empty", Title: "Nothing yet", Sources: []string{"none"}},
		},
	}
	return st, cfg
}

func render(t *testing.T) *Site {
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
	f, ok := site.File(path)
	if !ok {
		t.Fatalf("site has no %s; paths = %q", path, site.Paths())
	}
	return f.Body
}

func TestPaths(t *testing.T) {
	got := render(t).Paths()
	want := []string{
		"index.html", "sections.opml",
		"sections/all.atom", "sections/all.json", "sections/all.rss",
		"sections/empty.atom", "sections/empty.json", "sections/empty.rss",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
}

func TestGolden(t *testing.T) {
	site := render(t)
	for _, path := range site.Paths() {
		t.Run(path, func(t *testing.T) {
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
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, b := render(t), render(t)
	for _, path := range a.Paths() {
		fa, _ := a.File(path)
		fb, _ := b.File(path)
		if !bytes.Equal(fa.Body, fb.Body) || fa.ETag != fb.ETag {
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
		{"index.html", "text/html; charset=utf-8", date("2025-11-20T12:30:00Z"), 300 * time.Second},
		{"sections.opml", "text/x-opml; charset=utf-8", time.Time{}, 300 * time.Second},
		{"sections/all.rss", "application/rss+xml; charset=utf-8", date("2025-11-20T12:30:00Z"), 30 * time.Minute},
		{"sections/all.atom", "application/atom+xml; charset=utf-8", date("2025-11-20T12:30:00Z"), 30 * time.Minute},
		{"sections/all.json", "application/feed+json", date("2025-11-20T12:30:00Z"), 30 * time.Minute},
		{"sections/empty.atom", "application/atom+xml; charset=utf-8", time.Time{}, 300 * time.Second},
	}
	for _, tt := range tests {
		f, _ := site.File(tt.path)
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
	}
}

// TestStrictXML reads every token of every XML file with a strict parser.
func TestStrictXML(t *testing.T) {
	site := render(t)
	for _, path := range site.Paths() {
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
	for _, path := range site.Paths() {
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
			} else if att.GUID != itemURN("acme", "https://acme.example/2025/11/att-merger") {
				t.Errorf("id = %q, want the item's urn", att.GUID)
			}
			if want := itemURN("radio", "episode-42"); ep.GUID != want {
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
		`<guid isPermaLink="false">` + itemURN("radio", "episode-42") + `</guid>`,
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
		"home_page_url": "http://localhost:8080/#empty",
	} {
		if jf[k] != want {
			t.Errorf("empty JSON feed %q = %v, want %q", k, jf[k], want)
		}
	}
	atom := string(body(t, site, "sections/empty.atom"))
	if !strings.Contains(atom, "<updated>1970-01-01T00:00:00Z</updated>") {
		t.Errorf("empty Atom feed lacks <updated>1970-01-01T00:00:00Z</updated>:\n%s", atom)
	}
	for _, path := range []string{"sections/empty.rss", "sections/empty.atom", "sections/empty.json"} {
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, site, path))); err != nil {
			t.Errorf("%s: gofeed: %v", path, err)
		}
	}
}

// TestJing validates the Atom feeds against the RELAX NG schema of RFC 4287.
func TestJing(t *testing.T) {
	jing, err := exec.LookPath("jing")
	if err != nil {
		t.Skip("jing is not on PATH: install it (apt-get install jing) to validate Atom against RFC 4287")
	}
	schema := filepath.Join("..", "..", "shared", "schemas", "atom.rnc")
	if _, err := os.Stat(schema); err != nil {
		t.Skipf("Atom schema not found at %s: %v", schema, err)
	}
	site := render(t)
	dir := t.TempDir()
	for _, path := range site.Paths() {
		if !strings.HasSuffix(path, ".atom") {
			continue
		}
		file := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(file, body(t, site, path), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(jing, "-c", schema, file).CombinedOutput()
		if err != nil {
			t.Errorf("jing %s: %v\n%s", path, err, out)
		}
	}
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
	if !strings.Contains(rss, `<guid isPermaLink="false">`+itemURN("radio", dup.ID)+`</guid>`) {
		t.Errorf("second copy lacks its urn guid")
	}
}

func TestWriteDir(t *testing.T) {
	site := render(t)
	dir := filepath.Join(t.TempDir(), "public")
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
	if want := site.Paths(); !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q (no temporary files left)", got, want)
	}
	info, err := os.Stat(filepath.Join(dir, "sections", "all.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if want := date("2025-11-20T12:30:00Z"); !info.ModTime().Equal(want) {
		t.Errorf("mtime = %v, want the newest item's time %v", info.ModTime(), want)
	}
}
