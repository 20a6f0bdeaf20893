package fetcher

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestHostileURLs parses feeds that put scripts and data: URLs where links
// go (the channel's link, items' links, enclosures, the feed's id and its
// author's uri) and checks that nothing but http(s) URLs is kept: a
// javascript: channel link is not stored as the feed's home page, so no
// item can inherit it at render.
func TestHostileURLs(t *testing.T) {
	for _, name := range []string{"hostile.rss", "hostile.atom"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := parse(body, "", "https://hostile.example/"+name, newsdesk.Source{ID: "hostile"}, fetchNow)
			if err != nil {
				t.Fatalf("parse() error = %v", err)
			}
			if resp.FeedLink != "" {
				t.Errorf("FeedLink = %q, want none (not an http(s) URL)", resp.FeedLink)
			}
			if resp.FeedID != "" {
				t.Errorf("FeedID = %q, want none", resp.FeedID)
			}
			for _, p := range resp.FeedAuthors {
				if p.URI != "" {
					t.Errorf("feed author %q URI = %q, want none", p.Name, p.URI)
				}
			}
			if len(resp.Items) == 0 {
				t.Fatal("no items")
			}
			for _, it := range resp.Items {
				if it.Link != "" {
					t.Errorf("item %q: Link = %q, want none", it.Title, it.Link)
				}
				for _, e := range it.Enclosures {
					if !strings.HasPrefix(e.URL, "https://") {
						t.Errorf("item %q: enclosure %q kept", it.Title, e.URL)
					}
				}
				for _, p := range it.Authors {
					if p.URI != "" {
						t.Errorf("item %q: author URI %q kept", it.Title, p.URI)
					}
				}
			}
		})
	}
}

// TestFeedIdentity checks what the fetcher keeps of a feed for atom:source:
// an Atom feed's own id, updated and authors (with their uri); for RSS no
// id, and lastBuildDate (else pubDate) as updated.
func TestFeedIdentity(t *testing.T) {
	tests := []struct {
		name, doc string
		id        string
		updated   time.Time
		authors   []newsdesk.Person
	}{
		{
			name: "atom",
			doc: `<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>tag:example.org,2026:feed</id>
<updated>2026-11-25T08:30:00+01:00</updated>
<author><name>Jane Roe</name><email>jane@example.org</email><uri>https://example.org/jane</uri></author>
<author><name>Desk</name></author>
<entry><id>e1</id><title>x</title><updated>2026-11-25T07:00:00Z</updated></entry></feed>`,
			id:      "tag:example.org,2026:feed",
			updated: time.Date(2026, 11, 25, 7, 30, 0, 0, time.UTC),
			authors: []newsdesk.Person{{Name: "Jane Roe", Email: "jane@example.org", URI: "https://example.org/jane"}, {Name: "Desk"}},
		},
		{
			name: "rss lastBuildDate",
			doc: `<rss version="2.0"><channel><title>R</title><link>https://example.org/</link>
<pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate><lastBuildDate>Tue, 24 Nov 2026 10:00:00 GMT</lastBuildDate>
<managingEditor>ed@example.org (The Editor)</managingEditor>
<item><guid>1</guid><title>x</title></item></channel></rss>`,
			updated: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
			authors: []newsdesk.Person{{Name: "The Editor", Email: "ed@example.org"}},
		},
		{
			name: "rss pubDate only",
			doc: `<rss version="2.0"><channel><title>R</title><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
<item><guid>1</guid><title>x</title></item></channel></rss>`,
			updated: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		},
		{
			name: "rss date in the future is not believed",
			doc: `<rss version="2.0"><channel><title>R</title><lastBuildDate>Mon, 23 Nov 2099 10:00:00 GMT</lastBuildDate>
<item><guid>1</guid><title>x</title></item></channel></rss>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := parse([]byte(tt.doc), "", "https://example.org/feed", newsdesk.Source{ID: "s"}, fetchNow)
			if err != nil {
				t.Fatalf("parse() error = %v", err)
			}
			if resp.FeedID != tt.id {
				t.Errorf("FeedID = %q, want %q", resp.FeedID, tt.id)
			}
			if !resp.FeedUpdated.Equal(tt.updated) {
				t.Errorf("FeedUpdated = %s, want %s", resp.FeedUpdated, tt.updated)
			}
			if len(resp.FeedAuthors) != len(tt.authors) {
				t.Fatalf("FeedAuthors = %+v, want %+v", resp.FeedAuthors, tt.authors)
			}
			for i := range tt.authors {
				if resp.FeedAuthors[i] != tt.authors[i] {
					t.Errorf("FeedAuthors[%d] = %+v, want %+v", i, resp.FeedAuthors[i], tt.authors[i])
				}
			}
		})
	}
}

// TestNonHTTPLinkKeepsID checks that an item without a guid whose link is
// not http(s) (so not republished) keeps the link as its id, as before
// links were checked, so that it does not come back as new; a script link
// was never an id.
func TestNonHTTPLinkKeepsID(t *testing.T) {
	doc := `<rss version="2.0"><channel><title>R</title>
<item><title>a</title><link>ftp://files.example.org/a.txt</link></item>
<item><title>b</title><link>javascript:alert(1)</link></item></channel></rss>`
	resp, err := parse([]byte(doc), "", "https://example.org/feed", newsdesk.Source{ID: "s"}, fetchNow)
	if err != nil {
		t.Fatal(err)
	}
	if it := resp.Items[0]; it.ID != "ftp://files.example.org/a.txt" || it.Link != "" {
		t.Errorf("ftp item: ID %q Link %q, want the link as id and no link", it.ID, it.Link)
	}
	if it := resp.Items[1]; !strings.HasPrefix(it.ID, "sha1:") || it.Link != "" {
		t.Errorf("javascript item: ID %q Link %q, want a hash id and no link", it.ID, it.Link)
	}
}
