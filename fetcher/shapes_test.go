package fetcher

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Feed shapes seen in the wild that must neither crash nor lose items.

func TestParseEmptyFeeds(t *testing.T) {
	for name, body := range map[string]string{
		"rss":  `<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title><link>https://q.example/</link></channel></rss>`,
		"atom": `<feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title><id>urn:q</id><updated>2026-11-26T00:00:00Z</updated></feed>`,
		"json": `{"version": "https://jsonfeed.org/version/1.1", "title": "Quiet", "items": []}`,
	} {
		resp, err := parse([]byte(body), "", "https://q.example/feed", newsdesk.Source{ID: "q"}, fetchNow)
		if err != nil {
			t.Errorf("%s: empty feed: %v, want no error", name, err)
			continue
		}
		if len(resp.Items) != 0 || resp.FeedTitle != "Quiet" {
			t.Errorf("%s: %d items, title %q; want 0 items and the title", name, len(resp.Items), resp.FeedTitle)
		}
	}
}

func TestParseThousandsOfItems(t *testing.T) {
	const n = 5000
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><link>https://big.example/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Story %d</title><link>https://big.example/%d</link><pubDate>Thu, 26 Nov 2026 %02d:%02d:00 GMT</pubDate></item>`, i, i, i/60%24, i%60)
	}
	b.WriteString(`</channel></rss>`)
	resp, err := parse([]byte(b.String()), "", "https://big.example/rss", newsdesk.Source{ID: "big"}, fetchNow)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, it := range resp.Items {
		ids[it.ID] = true
	}
	if len(resp.Items) != n || len(ids) != n {
		t.Errorf("%d items with %d distinct ids, want %d of each", len(resp.Items), len(ids), n)
	}
}

// TestDatesWithoutTimeZone: a date with no zone is read as UTC, the
// convention of feed readers, rather than dropped.
func TestDatesWithoutTimeZone(t *testing.T) {
	want := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	for name, body := range map[string]string{
		"rss":  `<rss version="2.0"><channel><title>T</title><item><guid>a</guid><title>A</title><pubDate>Thu, 26 Nov 2026 09:30:00</pubDate></item></channel></rss>`,
		"atom": `<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>a</id><title>A</title><updated>2026-11-26T09:30:00</updated></entry></feed>`,
	} {
		resp, err := parse([]byte(body), "", "https://t.example/feed", newsdesk.Source{ID: "t"}, fetchNow)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := resp.Items[0].Published; !got.Equal(want) {
			t.Errorf("%s: Published = %v, want %v", name, got, want)
		}
	}
}
