package fetcher

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
)

func sha1ID(key string) string {
	sum := sha1.Sum([]byte(key))
	return "sha1:" + hex.EncodeToString(sum[:])
}

func timePtr(t time.Time) *time.Time { return &t }

func TestNormalizeID(t *testing.T) {
	const feedURL = "https://example.org/feeds/news.xml"
	tests := []struct {
		name string
		feed *gofeed.Feed
		want []string
	}{
		{"guid", &gofeed.Feed{Items: []*gofeed.Item{
			{GUID: "tag:example.org,2026:1", Link: "https://example.org/1"},
		}}, []string{"tag:example.org,2026:1"}},
		{"guid trimmed", &gofeed.Feed{Items: []*gofeed.Item{
			{GUID: " \n\ttag:example.org,2026:1 \n", Link: "https://example.org/1"},
		}}, []string{"tag:example.org,2026:1"}},
		{"blank guid falls back to the link", &gofeed.Feed{Items: []*gofeed.Item{
			{GUID: "   ", Link: "https://example.org/1"},
		}}, []string{"https://example.org/1"}},
		{"link resolved against the feed url", &gofeed.Feed{Items: []*gofeed.Item{
			{Link: "/news/2"}, {Link: "3.html"},
		}}, []string{"https://example.org/news/2", "https://example.org/feeds/3.html"}},
		{"link resolved against the feed's home page", &gofeed.Feed{Link: "https://www.example.org/blog/", Items: []*gofeed.Item{
			{Link: "post-1"},
		}}, []string{"https://www.example.org/blog/post-1"}},
		{"hash of title and raw date", &gofeed.Feed{Items: []*gofeed.Item{
			{Title: "Untitled &amp; undated?", Published: "Mon, 23 Nov 2026 12:00:00 GMT"},
			{Title: "Bad date", Published: "yesterday"},
			{Title: "Only a title"},
		}}, []string{
			sha1ID("Untitled & undated?\nMon, 23 Nov 2026 12:00:00 GMT"),
			sha1ID("Bad date\nyesterday"),
			sha1ID("Only a title\n"),
		}},
		{"no title and no date hash the text", &gofeed.Feed{Items: []*gofeed.Item{
			{Description: "first"}, {Description: "second"},
		}}, []string{sha1ID("first\n"), sha1ID("second\n")}},
		{"duplicates keep the first", &gofeed.Feed{Items: []*gofeed.Item{
			{GUID: "a", Title: "first"}, {GUID: "b"}, {GUID: " a ", Title: "second"}, {Link: "https://example.org/b"}, {GUID: "https://example.org/b"},
		}}, []string{"a", "b", "https://example.org/b"}},
		{"nil items skipped", &gofeed.Feed{Items: []*gofeed.Item{nil, {GUID: "x"}}}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := Normalize(newsdesk.Source{ID: "src"}, feedURL, tt.feed, fetchNow)
			var got []string
			for _, it := range items {
				got = append(got, it.ID)
				if it.SourceID != "src" {
					t.Errorf("item %q SourceID = %q, want src", it.ID, it.SourceID)
				}
			}
			if !equalAny(got, tt.want) {
				t.Errorf("Normalize() ids = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Normalize(newsdesk.Source{}, feedURL, nil, fetchNow); got != nil {
		t.Errorf("Normalize(nil feed) = %v, want nil", got)
	}
}

func TestNormalizeLinks(t *testing.T) {
	const feedURL = "https://example.org/feeds/news.xml"
	f := &gofeed.Feed{Items: []*gofeed.Item{
		{Link: "/news/1?utm_source=rss&id=7#comments", Enclosures: []*gofeed.Enclosure{
			{URL: " /media/1.mp3?utm_source=rss ", Type: "audio/mpeg", Length: "12"},
			{URL: "javascript:alert(1)", Type: "audio/mpeg"},
		}},
		// The same story with other tracking tags is the same item.
		{Title: "again", Link: "HTTPS://Example.ORG:443/news/1?id=7&utm_medium=feed&fbclid=x"},
		{GUID: "tag:example.org,2026:2", Link: "https://example.org/news/2?utm_campaign=c"},
		{GUID: "g3", Link: "javascript:alert(1)"},
		{GUID: "  tag:example.org,\n\t2026:4 ", Link: "https://example.org/news/\n4"},
	}}
	items := Normalize(newsdesk.Source{ID: "src"}, feedURL, f, fetchNow)
	type got struct{ ID, Link string }
	var gots []got
	for _, it := range items {
		gots = append(gots, got{it.ID, it.Link})
	}
	want := []got{
		{"https://example.org/news/1?id=7", "https://example.org/news/1?id=7"},
		{"tag:example.org,2026:2", "https://example.org/news/2"},
		{"g3", ""},
		{"tag:example.org,  2026:4", "https://example.org/news/4"},
	}
	if !equalAny(gots, want) {
		t.Errorf("Normalize() ids, links = %q, want %q", gots, want)
	}
	// Enclosure URLs are absolute but not canonical: the query may be
	// what the media server needs.
	wantEnc := []newsdesk.Enclosure{{URL: "https://example.org/media/1.mp3?utm_source=rss", Type: "audio/mpeg", Length: 12}}
	if !equalAny(items[0].Enclosures, wantEnc) {
		t.Errorf("Enclosures = %+v, want %+v", items[0].Enclosures, wantEnc)
	}
}

func TestNormalizeResolvesHTML(t *testing.T) {
	const feedURL = "https://feeds.example/rss/news.xml"
	tests := []struct {
		name, feedLink, link, html, want string
	}{
		{
			name: "href against the item link",
			link: "https://site.example/2026/11/story.html",
			html: `<a href="more.html">more</a> <a href="/about">about</a> <a href="#top">top</a>`,
			want: `<a href="https://site.example/2026/11/more.html" rel="nofollow">more</a> ` +
				`<a href="https://site.example/about" rel="nofollow">about</a> ` +
				`<a href="https://site.example/2026/11/story.html#top" rel="nofollow">top</a>`,
		},
		{
			name:     "relative item link is resolved first",
			feedLink: "https://site.example/blog/",
			link:     "posts/one.html",
			html:     `<img src="img/a.jpg" alt="a">`,
			want:     `<img src="https://site.example/blog/posts/img/a.jpg" alt="a"/>`,
		},
		{
			name:     "no item link: the feed's home page",
			feedLink: "https://site.example/blog/",
			html:     `<img src="/img/a.jpg"><a href="x.html">x</a>`,
			want:     `<img src="https://site.example/img/a.jpg"/><a href="https://site.example/blog/x.html" rel="nofollow">x</a>`,
		},
		{
			name: "no item link, no home page: the feed url",
			html: `<img src="a.jpg">`,
			want: `<img src="https://feeds.example/rss/a.jpg"/>`,
		},
		{
			name: "srcset each candidate",
			link: "https://site.example/news/story",
			html: `<img src="/a-400.jpg" srcset="/a-400.jpg 400w,a-800.jpg   800w, //cdn.example/a-1600.jpg 1600w" alt="">`,
			want: `<img src="https://site.example/a-400.jpg" srcset="https://site.example/a-400.jpg 400w, ` +
				`https://site.example/news/a-800.jpg 800w, https://cdn.example/a-1600.jpg 1600w" alt=""/>`,
		},
		{
			name: "cite of a quote",
			link: "https://site.example/news/story",
			html: `<blockquote cite="/speech.html">Words</blockquote>`,
			want: `<blockquote cite="https://site.example/speech.html">Words</blockquote>`,
		},
		{
			name: "absolute urls kept",
			link: "https://site.example/news/story",
			html: `<a href="https://other.example/x?a=1&amp;b=2">x</a>`,
			want: `<a href="https://other.example/x?a=1&amp;b=2" rel="nofollow">x</a>`,
		},
		{
			name: "an item link that is no web page is no base",
			link: "urn:uuid:1234",
			html: `<img src="a.jpg">`,
			want: `<img src="https://feeds.example/rss/a.jpg"/>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &gofeed.Feed{Link: tt.feedLink, Items: []*gofeed.Item{{GUID: "x", Link: tt.link, Description: tt.html, Content: tt.html}}}
			it := Normalize(newsdesk.Source{}, feedURL, f, fetchNow)[0]
			if it.Summary != tt.want {
				t.Errorf("Summary = %q, want %q", it.Summary, tt.want)
			}
			if it.Content != tt.want {
				t.Errorf("Content = %q, want %q", it.Content, tt.want)
			}
		})
	}
}

func TestParseAtomXMLBase(t *testing.T) {
	// gofeed resolves URLs in Atom HTML against xml:base (a path in it is
	// taken as a directory); what it leaves, srcset, is resolved against
	// the entry's link, itself resolved against xml:base.
	body := `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/base/">
  <title>B</title>
  <entry xml:base="https://cdn.example/2026/">
    <id>tag:blog.example,2026:1</id>
    <title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; brave</title>
    <link href="posts/one.html?utm_source=atom" rel="alternate"/>
    <updated>2026-11-20T09:00:00Z</updated>
    <summary type="html">&lt;a href="../about"&gt;about&lt;/a&gt;</summary>
    <content type="html">&lt;img src="pic.jpg" srcset="pic-2x.jpg 2x"&gt;</content>
  </entry>
</feed>`
	resp, err := parse([]byte(body), "application/atom+xml", "https://feeds.example/blog.atom", newsdesk.Source{ID: "b"}, fetchNow)
	if err != nil {
		t.Fatalf("parse() error = %v", err)
	}
	if len(resp.Items) != 1 {
		t.Fatalf("got %d items, want 1", len(resp.Items))
	}
	it := resp.Items[0]
	want := newsdesk.Item{
		SourceID:  "b",
		ID:        "tag:blog.example,2026:1",
		Title:     "Bold & brave",
		Link:      "https://cdn.example/2026/posts/one.html",
		Summary:   `<a href="https://cdn.example/about" rel="nofollow">about</a>`,
		Content:   `<img src="https://cdn.example/2026/pic.jpg" srcset="https://cdn.example/2026/posts/pic-2x.jpg 2x"/>`,
		Published: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		Updated:   time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
	}
	if diff := diffItem(it, want); diff != "" {
		t.Error(diff)
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Plain title", "Plain title"},
		{"  Lots   of\n\tspace  ", "Lots of space"},
		{"AT&amp;T", "AT&T"},
		{"AT&T", "AT&T"},
		{"Q&amp;A &#8212; news &hellip;", "Q&A \u2014 news \u2026"},
		{"&amp;lt;b&amp;gt; decoded once", "&lt;b&gt; decoded once"},
		{"&lt;b&gt;escaped&lt;/b&gt; markup", "<b>escaped</b> markup"},
		{"<b>Bold</b> move", "Bold move"},
		{"Hello <em>World</em>!", "Hello World!"},
		{"<p>Para one</p><p>Para two</p>", "Para one Para two"},
		{"line<br/>break", "line break"},
		{"<script>alert(1)</script>Safe <style>p{}</style>title", "Safe title"},
		{"5 < 6 and 7 > 3", "5 < 6 and 7 > 3"},
		{"<i>Fish &amp; Chips</i>", "Fish & Chips"},
		{"non\u00a0breaking", "non breaking"},
		{"bell\x07 and nul\x00", "bell and nul"},
		{"escaped control&#1;char", "escaped controlchar"},
		{"<b>nul\x00</b> in markup", "nul in markup"},
		{"bad \xff utf-8", "bad \ufffd utf-8"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := plainText(tt.in); got != tt.want {
			t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeDates(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	at := time.Date(2026, 11, 25, 18, 42, 0, 0, msk)
	later := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name                 string
		published, updated   *time.Time
		rawPub, rawUpd       string // the strings the feed gave
		wantPublished, wantU time.Time
		wantRaw              string
	}{
		{"published in utc", timePtr(at), nil, "Wed, 25 Nov 2026 18:42:00 +0300", "", at.UTC(), at.UTC(), ""},
		{"both", timePtr(at), timePtr(later), "", "", at.UTC(), later, ""},
		{"only updated", nil, timePtr(later), "", "", later, later, ""},
		{"none stays zero", nil, nil, "", "", time.Time{}, time.Time{}, ""},
		{"unparseable kept raw", nil, nil, "  the 5th of\tNovember\x01 ", "", time.Time{}, time.Time{}, "the 5th of November"},
		{"unparseable updated kept raw", nil, nil, "", "someday", time.Time{}, time.Time{}, "someday"},
		{"raw cut to 64 bytes", nil, nil, strings.Repeat("ю", 40), "", time.Time{}, time.Time{}, strings.Repeat("ю", 32)},
		{"raw cut on a rune boundary", nil, nil, "a" + strings.Repeat("ю", 40), "", time.Time{}, time.Time{}, "a" + strings.Repeat("ю", 31)},
		// Future dates count as missing: the store dates the item by when it
		// first saw it, the fetch time, and keeps that date on later fetches.
		{"future is missing", timePtr(fetchNow.Add(72 * time.Hour)), nil, "Sun, 29 Nov 2026 12:00:00 GMT", "", time.Time{}, time.Time{}, "Sun, 29 Nov 2026 12:00:00 GMT"},
		{"year 9999 is missing", timePtr(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), nil, "9999-12-31", "", time.Time{}, time.Time{}, "9999-12-31"},
		{"before 1990 is missing", timePtr(time.Date(1989, 12, 31, 23, 59, 59, 0, time.UTC)), nil, "1989-12-31T23:59:59Z", "", time.Time{}, time.Time{}, "1989-12-31T23:59:59Z"},
		{"unix epoch is missing", timePtr(time.Unix(0, 0)), nil, "Thu, 01 Jan 1970 00:00:00 +0000", "", time.Time{}, time.Time{}, "Thu, 01 Jan 1970 00:00:00 +0000"},
		{"1990 is believed", timePtr(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)), nil, "1990-01-01T00:00:00Z", "", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"year 1 is missing, updated used", timePtr(time.Time{}.Add(time.Hour)), timePtr(later), "0001-01-01T01:00:00Z", "", later, later, "0001-01-01T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &gofeed.Feed{Items: []*gofeed.Item{{GUID: "x",
				Published: tt.rawPub, PublishedParsed: tt.published,
				Updated: tt.rawUpd, UpdatedParsed: tt.updated}}}
			it := Normalize(newsdesk.Source{}, "https://example.org/", f, fetchNow)[0]
			if !it.Published.Equal(tt.wantPublished) || !it.Updated.Equal(tt.wantU) {
				t.Errorf("Published, Updated = %v, %v, want %v, %v", it.Published, it.Updated, tt.wantPublished, tt.wantU)
			}
			if it.Published.Location() != time.UTC || it.Updated.Location() != time.UTC {
				t.Errorf("times not in UTC: %v, %v", it.Published.Location(), it.Updated.Location())
			}
			if it.RawDate != tt.wantRaw {
				t.Errorf("RawDate = %q, want %q", it.RawDate, tt.wantRaw)
			}
			if !it.FirstSeen.IsZero() {
				t.Errorf("FirstSeen = %v, want zero (the store sets it)", it.FirstSeen)
			}
		})
	}
}

func TestParseMessy(t *testing.T) {
	const feedURL = "https://messy.example/feeds/all.rss"
	resp, err := parse(fixture(t, "messy.rss"), "application/rss+xml", feedURL, newsdesk.Source{ID: "messy"}, fetchNow)
	if err != nil {
		t.Fatalf("parse() error = %v", err)
	}
	if want := "Messy & Co"; resp.FeedTitle != want {
		t.Errorf("FeedTitle = %q, want %q", resp.FeedTitle, want)
	}
	byID := map[string]newsdesk.Item{}
	var ids []string
	for _, it := range resp.Items {
		byID[it.ID] = it
		ids = append(ids, it.ID)
	}
	wantIDs := []string{
		"tag:messy.example,2026:1",
		"https://messy.example/news/2",
		sha1ID("No link here\nMon, 23 Nov 2026 12:00:00 GMT"),
		sha1ID("Undated\n"),
		"tag:messy.example,2026:future",
		"tag:messy.example,2026:past",
		"https://messy.example/episodes/7",
	}
	if !equalAny(ids, wantIDs) {
		t.Fatalf("ids = %q, want %q", ids, wantIDs)
	}

	first := byID["tag:messy.example,2026:1"]
	if want := "AT&T merges with rival"; first.Title != want {
		t.Errorf("Title = %q, want %q", first.Title, want)
	}
	if want := []string{"Politics", "World"}; !equalAny(first.Categories, want) {
		t.Errorf("Categories = %q, want %q", first.Categories, want)
	}
	if got := byID[sha1ID("Undated\n")]; !got.Published.IsZero() || got.Link != "" {
		t.Errorf("undated item Published, Link = %v, %q, want zero, empty", got.Published, got.Link)
	}
	if got := byID["tag:messy.example,2026:future"]; !got.Published.IsZero() || got.RawDate != "Thu, 01 Jan 2099 00:00:00 GMT" {
		t.Errorf("future item Published, RawDate = %v, %q, want zero (dated by the store when first seen), the pubDate", got.Published, got.RawDate)
	}
	if got := byID["tag:messy.example,2026:past"]; !got.Published.IsZero() || got.RawDate != "Mon, 01 Jan 1900 00:00:00 GMT" {
		t.Errorf("1900 item Published, RawDate = %v, %q, want zero, the pubDate", got.Published, got.RawDate)
	}
	if got := byID["tag:messy.example,2026:1"].RawDate; got != "" {
		t.Errorf("dated item RawDate = %q, want empty", got)
	}
	pod := byID["https://messy.example/episodes/7"]
	if pod.Title != "Bold podcast" || pod.Link != "https://messy.example/episodes/7" || !pod.Published.IsZero() || pod.RawDate != "not a date" {
		t.Errorf("podcast item = %q, %q, %v, %q, want Bold podcast, its guid as link, zero date, raw date not a date", pod.Title, pod.Link, pod.Published, pod.RawDate)
	}
	wantEnc := []newsdesk.Enclosure{{URL: "https://messy.example/media/7.mp3", Type: "audio/mpeg", Length: 0}}
	if !equalAny(pod.Enclosures, wantEnc) {
		t.Errorf("Enclosures = %+v, want %+v", pod.Enclosures, wantEnc)
	}
}

func TestParseAtomRelative(t *testing.T) {
	resp, err := parse(fixture(t, "relative.atom"), "application/atom+xml", "https://feeds.example/blog.atom", newsdesk.Source{ID: "blog"}, fetchNow)
	if err != nil {
		t.Fatalf("parse() error = %v", err)
	}
	if resp.FeedTitle != "Example Blog" || resp.FeedLink != "https://blog.example/" {
		t.Errorf("feed title, link = %q, %q, want Example Blog, https://blog.example/", resp.FeedTitle, resp.FeedLink)
	}
	published := time.Date(2026, 11, 19, 7, 0, 0, 0, time.UTC)
	want := []newsdesk.Item{
		{
			SourceID: "blog",
			ID:       "tag:blog.example,2026:1",
			Title:    "One",
			Link:     "https://blog.example/base/posts/one.html",
			// gofeed resolves URLs in Atom HTML content against xml:base.
			Content:   `<p>First <a href="https://blog.example/base/one/more.html" rel="nofollow">post</a></p>`,
			Authors:   []newsdesk.Person{{Name: "Ann Author", Email: "ann@blog.example"}},
			Published: published,
			Updated:   time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		},
		{
			SourceID:  "blog",
			ID:        "tag:blog.example,2026:2",
			Title:     "Two",
			Link:      "https://other.example/x/two.html",
			Published: time.Date(2026, 11, 18, 8, 0, 0, 0, time.UTC),
			Updated:   time.Date(2026, 11, 18, 8, 0, 0, 0, time.UTC),
		},
		{
			SourceID:  "blog",
			ID:        "https://blog.example/three.html",
			Title:     "Three",
			Link:      "https://blog.example/three.html",
			Published: time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC),
			Updated:   time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC),
		},
	}
	if len(resp.Items) != len(want) {
		t.Fatalf("got %d items, want %d", len(resp.Items), len(want))
	}
	for i := range want {
		if diff := diffItem(resp.Items[i], want[i]); diff != "" {
			t.Errorf("item %d: %s", i, diff)
		}
	}
}

func TestParseJSONFeed(t *testing.T) {
	body := []byte(`{"version": "https://jsonfeed.org/version/1.1", "title": "JSON &amp; Co",
		"home_page_url": "https://json.example/",
		"items": [
			{"id": " 1 ", "url": "/one", "title": "One", "content_html": "<p>x</p>", "date_published": "2026-11-20T10:00:00+02:00",
			 "attachments": [{"url": "/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 42}]},
			{"url": "https://json.example/two", "content_text": "no id"}
		]}`)
	resp, err := parse(body, "application/feed+json", "https://json.example/feed.json", newsdesk.Source{ID: "j"}, fetchNow)
	if err != nil {
		t.Fatalf("parse() error = %v", err)
	}
	if len(resp.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(resp.Items))
	}
	one := resp.Items[0]
	if one.ID != "1" || one.Link != "https://json.example/one" || !one.Published.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("item 1 = %q, %q, %v", one.ID, one.Link, one.Published)
	}
	if len(one.Enclosures) != 1 || one.Enclosures[0].URL != "https://json.example/a.mp3" || one.Enclosures[0].Length != 42 {
		t.Errorf("item 1 enclosures = %+v", one.Enclosures)
	}
	if resp.Items[1].ID != "https://json.example/two" {
		t.Errorf("item 2 ID = %q, want its url", resp.Items[1].ID)
	}
	if resp.FeedTitle != "JSON & Co" {
		t.Errorf("FeedTitle = %q", resp.FeedTitle)
	}
}

func TestParseLongPrologue(t *testing.T) {
	// gofeed detects the feed type in the first 4096 bytes only.
	body := `<?xml version="1.0" encoding="utf-8"?>` + "\n<!-- " + strings.Repeat("generated by a chatty CMS ", 300) + "-->\n" +
		`<rss version="2.0"><channel><title>Late root</title><item><guid>g1</guid><title>t</title></item></channel></rss>`
	resp, err := parse([]byte(body), "", "https://example.org/rss", newsdesk.Source{}, fetchNow)
	if err != nil {
		t.Fatalf("parse() error = %v", err)
	}
	if resp.FeedTitle != "Late root" || len(resp.Items) != 1 {
		t.Errorf("parse() = %q with %d items, want Late root with 1", resp.FeedTitle, len(resp.Items))
	}
}

// panicTranslator stands in for a gofeed bug.
type panicTranslator struct{}

func (panicTranslator) Translate(any) (*gofeed.Feed, error) { panic("boom") }

func TestParsePanic(t *testing.T) {
	p := gofeed.NewParser()
	p.RSSTranslator = panicTranslator{}
	_, err := parseWith(p, fixture(t, "moscowtimes.rss"), "", "https://example.org/", newsdesk.Source{}, fetchNow)
	if err == nil || err.Error() != "parser panic: boom" {
		t.Errorf("parseWith() error = %v, want parser panic: boom", err)
	}
}

// corpusExts are the extensions of feed files in the corpora. Expected-value
// JSON beside a feed (x.xml + x.json, x.serde.json) is not a feed and is
// skipped; so are HTML pages, OPML, standalone Atom entries and licences.
var corpusExts = map[string]bool{
	".xml": true, ".rss": true, ".atom": true, ".rdf": true, ".json": true, ".feed": true,
}

// corporaRoot is the folder of the shared test corpora beside the
// checkout; the test is skipped without them.
func corporaRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpora"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Skip("../shared/corpora not found: conformance corpus absent (it ships only beside the project checkout)")
	}
	return root
}

func corpusFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !corpusExts[strings.ToLower(filepath.Ext(path))] {
			return nil
		}
		if strings.HasSuffix(path, ".json") && isExpectation(path) {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	sort.Strings(files)
	return files
}

// isExpectation reports whether a .json file holds the expected parse of a
// feed beside it rather than a JSON Feed.
func isExpectation(path string) bool {
	if strings.HasSuffix(path, ".serde.json") {
		return true
	}
	stem := strings.TrimSuffix(path, ".json")
	for _, ext := range []string{".xml", ".rss", ".atom", ".rdf", ".feed"} {
		if _, err := os.Stat(stem + ext); err == nil {
			return true
		}
	}
	return false
}

// TestCorpora runs parse, the code Fetch runs after HTTP, over other
// projects' feed test suites: no panic, no hang, items or a clear error,
// and every item fit to republish (checkItem).
func TestCorpora(t *testing.T) {
	root := corporaRoot(t)
	files := corpusFiles(t, root)
	if len(files) == 0 {
		t.Fatalf("no feed files under %s", root)
	}

	const perFile = 10 * time.Second
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	src := newsdesk.Source{ID: "corpus"}

	type outcome struct {
		path  string
		items int
		err   error
		bad   string // what was wrong with the result, if anything
	}
	check := func(path string) outcome {
		body, err := os.ReadFile(path)
		if err != nil {
			return outcome{path: path, bad: err.Error()}
		}
		body, err = readBody(strings.NewReader(string(body)), newsdesk.DefaultMaxBody, -1)
		if err != nil {
			return outcome{path: path, err: err}
		}
		done := make(chan outcome, 1)
		go func() {
			resp, err := parse(body, "", "https://corpus.example/feed", src, now)
			o := outcome{path: path, err: err}
			switch {
			case err != nil && err.Error() == "":
				o.bad = "empty error message"
			case err != nil && strings.Contains(err.Error(), "parser panic"):
				o.bad = err.Error()
			case err == nil && resp == nil:
				o.bad = "nil response without error"
			case err == nil:
				o.items = len(resp.Items)
				for i, it := range resp.Items {
					if it.ID == "" {
						o.bad = fmt.Sprintf("item %d has an empty ID", i)
					}
					if !utf8.ValidString(it.Title) {
						o.bad = fmt.Sprintf("item %d title %q is not UTF-8", i, it.Title)
					}
					if msg := checkItem(it); msg != "" {
						o.bad = fmt.Sprintf("item %d: %s", i, msg)
					}
				}
				if !utf8.ValidString(resp.FeedTitle) {
					o.bad = fmt.Sprintf("feed title %q is not UTF-8", resp.FeedTitle)
				}
			}
			done <- o
		}()
		timer := time.NewTimer(perFile)
		defer timer.Stop()
		select {
		case o := <-done:
			return o
		case <-timer.C:
			return outcome{path: path, bad: fmt.Sprintf("still parsing after %s", perFile)}
		}
	}

	jobs := make(chan string)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range jobs {
				results <- check(path)
			}
		}()
	}
	go func() {
		for _, f := range files {
			jobs <- f
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()

	var parsed, errored, empty int
	for o := range results {
		rel, _ := filepath.Rel(root, o.path)
		switch {
		case o.bad != "":
			t.Errorf("%s: %s", rel, o.bad)
		case o.err != nil:
			errored++
			if testing.Verbose() && os.Getenv("CORPORA_ERRORS") != "" {
				t.Logf("%s: %v", rel, o.err)
			}
		default:
			parsed++
			if o.items == 0 {
				empty++
				if os.Getenv("CORPORA_EMPTY") != "" {
					t.Logf("%s: no items", rel)
				}
			}
		}
	}
	t.Logf("corpora: %d files, %d parsed, %d errored", len(files), parsed, errored)
	t.Logf("corpora: %d of the parsed feeds have no items", empty)
}
