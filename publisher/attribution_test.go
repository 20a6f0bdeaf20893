package publisher

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
)

// atomDoc is the part of an Atom feed that attribution tests read.
type atomDoc struct {
	Entries []struct {
		Title   string     `xml:"title"`
		Authors []atomName `xml:"author"`
		Source  struct {
			ID      string     `xml:"id"`
			Title   string     `xml:"title"`
			Updated string     `xml:"updated"`
			Authors []atomName `xml:"author"`
			Links   []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"link"`
		} `xml:"source"`
	} `xml:"entry"`
}

type atomName struct {
	Name  string `xml:"name"`
	URI   string `xml:"uri"`
	Email string `xml:"email"`
}

func parseAtom(t *testing.T, b []byte) atomDoc {
	t.Helper()
	var doc atomDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestAtomSource checks atom:source in every entry: the source feed's own
// id (the polled URL when it has none), its title, an updated date (the
// feed's own, else its newest item's: the W3C validator flags a source
// without one), its authors, and its self and alternate links; and that
// an entry without an author gets the source feed's authors, not the
// source's title.
func TestAtomSource(t *testing.T) {
	site := render(t)
	all := parseAtom(t, body(t, site, "sections/all.atom"))
	type want struct{ id, updated, author, self, alternate string }
	wants := map[string]want{
		`AT&T agrees to <merge> with "Acme"`: {"tag:acme.example,2025:news", "2025-11-21T06:00:00Z", "Acme Newsroom", "https://acme.example/feed.xml", "https://acme.example/"},
		"Episode 42: Feeds":                  {"https://radio.example/podcast.rss", "2025-11-19T08:00:00Z", "", "https://radio.example/podcast.rss", "https://radio.example/"},
		"Control chars and tabs":             {"https://blog.example/atom.xml", "2025-11-18T00:00:00Z", "", "https://blog.example/atom.xml", ""},
	}
	if len(all.Entries) != len(wants) {
		t.Fatalf("%d entries, want %d", len(all.Entries), len(wants))
	}
	for _, e := range all.Entries {
		w, ok := wants[e.Title]
		if !ok {
			t.Fatalf("unexpected entry %q", e.Title)
		}
		src := e.Source
		if src.ID != w.id || src.Updated != w.updated {
			t.Errorf("%q: source id %q updated %q, want %q and %q", e.Title, src.ID, src.Updated, w.id, w.updated)
		}
		var author string
		if len(src.Authors) > 0 {
			author = src.Authors[0].Name
		}
		if author != w.author {
			t.Errorf("%q: source author %q, want %q", e.Title, author, w.author)
		}
		links := map[string]string{}
		for _, l := range src.Links {
			links[l.Rel] = l.Href
		}
		if links["self"] != w.self || links["alternate"] != w.alternate {
			t.Errorf("%q: source links %v, want self %q alternate %q", e.Title, links, w.self, w.alternate)
		}
	}
	if a := all.Entries[0].Source.Authors; len(a) != 1 || a[0].URI != "https://acme.example/newsroom" || a[0].Email != "desk@acme.example" {
		t.Errorf("acme source author = %+v, want the feed's author with uri and email", a)
	}

	// The private section's sports item names no author: its feed's
	// author stands in, in every format.
	secret := parseAtom(t, body(t, site, "sections/secret.atom"))
	if a := secret.Entries[0].Authors; len(a) != 1 || a[0].Name != "Acme Newsroom" || a[0].URI != "https://acme.example/newsroom" {
		t.Errorf("entry without an author: authors %+v, want the source feed's author Acme Newsroom", a)
	}
	for _, ext := range []string{".rss", ".json"} {
		f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, site, "sections/secret"+ext)))
		if err != nil {
			t.Fatal(err)
		}
		if a := f.Items[0].Authors; len(a) != 1 || a[0].Name != "Acme Newsroom" {
			t.Errorf("secret%s: authors %+v, want Acme Newsroom", ext, a)
		}
	}
}

// TestEmptySectionNotes checks that a section without items says why, on
// its page and on the index: the last error of each source that failed,
// the sources not fetched yet, and where to see more.
func TestEmptySectionNotes(t *testing.T) {
	st, cfg := fixture(t)
	cfg.StatusPath = "status"
	site, err := Render(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for path, link := range map[string]string{"index.html": `<a href="status">status page</a>`, "sections/empty.html": `<a href="../status">status page</a>`} {
		page := string(body(t, site, path))
		for _, want := range []string{
			"<li>no items yet: down: dns: lookup down.example: no such host</li>",
			"<li>no items yet: new: not fetched yet</li>",
			link,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
	}
	// A section with items has nothing to explain.
	if page := string(body(t, site, "sections/all.html")); strings.Contains(page, "no items yet") || strings.Contains(page, "status page") {
		t.Errorf("all.html, which has items, names errors or the status page")
	}
}

// unsafeScheme finds a URL scheme other than http(s) where a link could go.
var unsafeScheme = regexp.MustCompile(`(?i)(java|vb)\s*script\s*:|data\s*:`)

// TestHostileStoredURLs renders from a store that holds what an older
// newsdesk let through (a javascript: home page, feed id, author uri, item
// link and enclosure, and a data: link): no file republishes any of it, an
// item without a usable link gets neither the script nor nothing (the
// section's page stands in), and gofeed reads only http(s) links back.
func TestHostileStoredURLs(t *testing.T) {
	st := &fakeStore{
		items: []newsdesk.Item{
			{SourceID: "evil", ID: "e1", Title: "No link", Published: date("2025-11-20T10:00:00Z")},
			{
				SourceID: "evil", ID: "e2", Title: "Script link", Link: "javascript:alert(1)", Published: date("2025-11-20T11:00:00Z"),
				Authors:    []newsdesk.Person{{Name: "Mallory", URI: "javascript:alert('author')"}},
				Enclosures: []newsdesk.Enclosure{{URL: "javascript:alert(2)", Type: "audio/mpeg"}, {URL: "data:audio/mpeg;base64,AAAA", Type: "audio/mpeg"}},
			},
			{SourceID: "evil", ID: "e3", Title: "Data link", Link: "data:text/html,<script>alert(3)</script>", Published: date("2025-11-20T12:00:00Z")},
		},
		states: []newsdesk.FetchState{{
			SourceID: "evil", FeedTitle: "Evil", FeedLink: "javascript:alert(document.cookie)", FeedID: "javascript:alert('id')",
			FeedAuthors: []newsdesk.Person{{Name: "Eve", URI: "JavaScript:alert('feed author')"}},
		}},
	}
	cfg := Config{
		BaseURL:  "http://localhost:8080/",
		Sources:  []newsdesk.Source{{ID: "evil", URL: "https://evil.example/feed"}},
		Sections: []newsdesk.Section{{ID: "s", Sources: []string{"evil"}}},
		Now:      func() time.Time { return date("2025-11-22T00:00:00Z") },
	}
	site, err := Render(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range allPaths(site) {
		if m := unsafeScheme.Find(body(t, site, path)); m != nil {
			t.Errorf("%s republishes %q", path, m)
		}
	}
	for _, ext := range []string{".rss", ".atom", ".json"} {
		f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, site, "sections/s"+ext)))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range f.Items {
			if it.Link != "https://evil.example/feed" {
				t.Errorf("s%s: item %q link %q, want the source's feed URL (its only http(s) URL)", ext, it.Title, it.Link)
			}
			if len(it.Enclosures) != 0 {
				t.Errorf("s%s: item %q keeps enclosures %+v", ext, it.Title, it.Enclosures)
			}
		}
	}
}
