package fetcher

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/internal/charset"
)

// benchFeeds are realistic news feeds of 50 items, made by
// cmd/newsdesk-bench's generator (seed 12): every summary is a paragraph
// of HTML, every third item has content with links, a relative image and
// the odd script a sanitizer must remove. bench-1251.rss is Russian text
// in windows-1251.
var benchFeeds = []string{"bench.rss", "bench-1251.rss"}

// benchEach runs a sub-benchmark per feed of benchFeeds; prepare reads the
// feed's body and returns one op.
func benchEach(b *testing.B, prepare func(b *testing.B, body []byte) func(b *testing.B)) {
	for _, name := range benchFeeds {
		op := prepare(b, fixture(b, name))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				op(b)
			}
		})
	}
}

// parsedFeed is body parsed as Fetch parses it, before Normalize.
func parsedFeed(b *testing.B, body []byte) *gofeed.Feed {
	b.Helper()
	f, err := parseFeed(body)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkNormalize is Normalize over one feed of 50 items: one op is a
// feed.
func BenchmarkNormalize(b *testing.B) {
	src := newsdesk.Source{ID: "bench"}
	benchEach(b, func(b *testing.B, body []byte) func(*testing.B) {
		f := parsedFeed(b, body)
		return func(*testing.B) { Normalize(src, "https://s00000.example/feed", f, fetchNow) }
	})
}

// BenchmarkCleanHTML is cleanHTML over the summaries and contents of one
// feed of 50 items: one op is a feed.
func BenchmarkCleanHTML(b *testing.B) {
	base, _ := url.Parse("https://s00000.example/news/2026/s00000-1")
	benchEach(b, func(b *testing.B, body []byte) func(*testing.B) {
		f := parsedFeed(b, body)
		return func(*testing.B) {
			for _, it := range f.Items {
				cleanHTML(it.Description, base)
				cleanHTML(it.Content, base)
			}
		}
	})
}

// BenchmarkParse is what Fetch does with a body of 50 items after the
// HTTP exchange: charset, gofeed and Normalize. One op is a feed.
func BenchmarkParse(b *testing.B) {
	src := newsdesk.Source{ID: "bench"}
	benchEach(b, func(_ *testing.B, body []byte) func(*testing.B) {
		return func(b *testing.B) {
			if _, err := parse(body, "", "https://s00000.example/feed", src, fetchNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFloor is the least a republisher does with the same feed:
// gofeed and the sanitizer (SanitizeHTML) over each summary and content,
// as cmd/newsdesk-bench's floor does. One op is a feed.
func BenchmarkFloor(b *testing.B) {
	benchEach(b, func(b *testing.B, body []byte) func(*testing.B) {
		text, err := charset.ToUTF8(body, "")
		if err != nil {
			b.Fatal(err)
		}
		p := gofeed.NewParser()
		return func(b *testing.B) {
			f, err := p.Parse(bytes.NewReader(text))
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range f.Items {
				SanitizeHTML(it.Description)
				SanitizeHTML(it.Content)
			}
		}
	})
}
