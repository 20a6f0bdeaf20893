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
		wantPublished, wantU time.Time
	}{
		{"published in utc", timePtr(at), nil, at.UTC(), at.UTC()},
		{"both", timePtr(at), timePtr(later), at.UTC(), later},
		{"only updated", nil, timePtr(later), later, later},
		{"none stays zero", nil, nil, time.Time{}, time.Time{}},
		// Future dates count as missing: the store dates the item by when it
		// first saw it, the fetch time, and keeps that date on later fetches.
		{"future is missing", timePtr(fetchNow.Add(72 * time.Hour)), nil, time.Time{}, time.Time{}},
		{"year 9999 is missing", timePtr(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), nil, time.Time{}, time.Time{}},
		{"before 1970 is missing", timePtr(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)), nil, time.Time{}, time.Time{}},
		{"year 1 is missing, updated used", timePtr(time.Time{}.Add(time.Hour)), timePtr(later), later, later},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &gofeed.Feed{Items: []*gofeed.Item{{GUID: "x", PublishedParsed: tt.published, UpdatedParsed: tt.updated}}}
			it := Normalize(newsdesk.Source{}, "https://example.org/", f, fetchNow)[0]
			if !it.Published.Equal(tt.wantPublished) || !it.Updated.Equal(tt.wantU) {
				t.Errorf("Published, Updated = %v, %v, want %v, %v", it.Published, it.Updated, tt.wantPublished, tt.wantU)
			}
			if it.Published.Location() != time.UTC || it.Updated.Location() != time.UTC {
				t.Errorf("times not in UTC: %v, %v", it.Published.Location(), it.Updated.Location())
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
	if got := byID["tag:messy.example,2026:future"].Published; !got.IsZero() {
		t.Errorf("future item Published = %v, want zero (dated by the store when first seen)", got)
	}
	if got := byID["tag:messy.example,2026:past"].Published; !got.IsZero() {
		t.Errorf("1900 item Published = %v, want zero", got)
	}
	pod := byID["https://messy.example/episodes/7"]
	if pod.Title != "Bold podcast" || pod.Link != "https://messy.example/episodes/7" || !pod.Published.IsZero() {
		t.Errorf("podcast item = %q, %q, %v, want Bold podcast, its guid as link, zero date", pod.Title, pod.Link, pod.Published)
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
			Content:   `<p>First <a href="https://blog.example/base/one/more.html">post</a></p>`,
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
// and every item with an ID and a valid UTF-8 title.
func TestCorpora(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpora"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Skip("../shared/corpora not found: conformance corpus absent (it ships only beside the project checkout)")
	}
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
		body, err = readBody(strings.NewReader(string(body)), defaultMaxBody)
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
