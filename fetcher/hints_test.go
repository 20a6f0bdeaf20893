package fetcher

import (
	"net/http"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

func TestFeedHints(t *testing.T) {
	rss := func(channel string) string {
		return `<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>` +
			channel + `<item><guid>1</guid></item></channel></rss>`
	}
	week := 7 * 24 * time.Hour
	tests := []struct {
		name         string
		doc          string
		want         newsdesk.FeedHints
		wantInterval time.Duration
	}{
		{"ttl a day", rss(`<ttl>1440</ttl>`), newsdesk.FeedHints{TTL: 24 * time.Hour}, 24 * time.Hour},
		{"ttl not a number", rss(`<ttl>10 minutes</ttl>`), newsdesk.FeedHints{}, 0},
		{"ttl negative", rss(`<ttl>-60</ttl>`), newsdesk.FeedHints{}, 0},
		{"ttl zero", rss(`<ttl>0</ttl>`), newsdesk.FeedHints{}, 0},
		{"ttl over a year", rss(`<ttl>99999999999</ttl>`), newsdesk.FeedHints{}, 0},
		{"skip hours out of range", rss(`<skipHours><hour>24</hour><hour>0</hour><hour>7</hour><hour>99</hour></skipHours>`),
			newsdesk.FeedHints{SkipHours: []int{0, 7}}, 0},
		{"skip days abbreviated", rss(`<skipDays><day>Mon</day><day> Friday </day></skipDays>`),
			newsdesk.FeedHints{SkipDays: []time.Weekday{time.Friday}}, 0},
		{"empty skip lists", rss(`<skipHours/><skipDays></skipDays>`), newsdesk.FeedHints{}, 0},
		{"sy frequency alone is per day", rss(`<sy:updateFrequency>24</sy:updateFrequency>`),
			newsdesk.FeedHints{UpdatePeriod: "daily", UpdateFrequency: 24}, time.Hour},
		{"sy period alone", rss(`<sy:updatePeriod>WEEKLY</sy:updatePeriod>`),
			newsdesk.FeedHints{UpdatePeriod: "weekly"}, week},
		{"sy bad frequency", rss(`<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>`),
			newsdesk.FeedHints{UpdatePeriod: "hourly"}, time.Hour},
		{"sy unknown period", rss(`<sy:updatePeriod>fortnightly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>`),
			newsdesk.FeedHints{}, 0},
		{"ttl longer than sy", rss(`<ttl>120</ttl><sy:updatePeriod>hourly</sy:updatePeriod>`),
			newsdesk.FeedHints{TTL: 2 * time.Hour, UpdatePeriod: "hourly"}, 2 * time.Hour},
		{"sy in an item is not the feed's", `<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>` +
			`<item><guid>1</guid><sy:updatePeriod>yearly</sy:updatePeriod></item></channel></rss>`, newsdesk.FeedHints{}, 0},
		{"rss 1.0 channel", `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">` +
			`<channel rdf:about="https://r.example/"><title>t</title><link>https://r.example/</link>` +
			`<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency></channel>` +
			`<item rdf:about="https://r.example/1"><title>1</title><link>https://r.example/1</link></item></rdf:RDF>`,
			newsdesk.FeedHints{UpdatePeriod: "hourly", UpdateFrequency: 1}, time.Hour},
		{"json feed", `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","content_text":"x"}]}`,
			newsdesk.FeedHints{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := parse([]byte(tt.doc), "", "https://example.org/feed", newsdesk.Source{}, fetchNow)
			if err != nil {
				t.Fatalf("parse() error = %v", err)
			}
			if !equalAny(resp.Hints, tt.want) {
				t.Errorf("Hints = %+v, want %+v", resp.Hints, tt.want)
			}
			if got := resp.Hints.Interval(); got != tt.wantInterval {
				t.Errorf("Hints.Interval() = %v, want %v", got, tt.wantInterval)
			}
		})
	}
}

func TestCacheUntil(t *testing.T) {
	const future, farFuture, past = "Thu, 26 Nov 2026 13:00:00 GMT", "Sat, 26 Dec 2026 12:00:00 GMT", "Wed, 25 Nov 2026 12:00:00 GMT"
	hour, week := fetchNow.Add(time.Hour), fetchNow.Add(7*24*time.Hour)
	tests := []struct {
		name   string
		header http.Header
		want   time.Time
	}{
		{"none", nil, time.Time{}},
		{"max-age", header("Cache-Control", "max-age=3600"), hour},
		{"max-age quoted, upper case", header("Cache-Control", `Public, MAX-AGE="3600"`), hour},
		{"max-age over two lines", header("Cache-Control", "public", "Cache-Control", "max-age=3600"), hour},
		{"max-age zero", header("Cache-Control", "private, max-age=0", "Expires", future), time.Time{}},
		{"max-age broken overrides expires", header("Cache-Control", "max-age=soon", "Expires", future), time.Time{}},
		{"max-age overflowing", header("Cache-Control", "max-age=99999999999999999999"), week},
		{"max-age a month", header("Cache-Control", "max-age=2592000"), week},
		{"no-cache", header("Cache-Control", "no-cache", "Expires", future), time.Time{}},
		{"no-store after max-age", header("Cache-Control", "max-age=3600, no-store"), time.Time{}},
		{"s-maxage is for shared caches", header("Cache-Control", "s-maxage=600"), time.Time{}},
		{"s-maxage leaves expires", header("Cache-Control", "s-maxage=600", "Expires", future), hour},
		{"expires", header("Expires", future), hour},
		{"expires rfc 850", header("Expires", "Thursday, 26-Nov-26 13:00:00 GMT"), hour},
		{"expires zero", header("Expires", "0"), time.Time{}},
		{"expires past", header("Expires", past), time.Time{}},
		{"expires now", header("Expires", "Thu, 26 Nov 2026 12:00:00 GMT"), time.Time{}},
		{"expires capped", header("Expires", farFuture), week},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cacheUntil(tt.header, fetchNow); !got.Equal(tt.want) {
				t.Errorf("cacheUntil(%v) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestRetryAt(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"120", fetchNow.Add(2 * time.Minute)},
		{" 120 ", fetchNow.Add(2 * time.Minute)},
		{"0", time.Time{}},
		{"-30", time.Time{}},
		{"1.5", time.Time{}},
		{"tomorrow", time.Time{}},
		{"99999999999999999999", fetchNow.Add(7 * 24 * time.Hour)},
		{"864000", fetchNow.Add(7 * 24 * time.Hour)},
		{"Fri, 27 Nov 2026 10:00:00 GMT", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
		{"Fri Nov 27 10:00:00 2026", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
		{"Wed, 25 Nov 2026 10:00:00 GMT", time.Time{}},
		{"Tue, 01 Dec 2099 10:00:00 GMT", fetchNow.Add(7 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		if got := retryAt(tt.in, fetchNow); !got.Equal(tt.want) {
			t.Errorf("retryAt(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := retryAt(tt.in, fetchNow); !got.IsZero() && got.Location() != time.UTC {
			t.Errorf("retryAt(%q) in %v, want UTC", tt.in, got.Location())
		}
	}
}

// FuzzCacheHeaders feeds arbitrary header values to the cache and
// Retry-After readers: never a panic, never a time in the past or more than
// a week ahead.
func FuzzCacheHeaders(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-cache, max-age=5", "Thu, 26 Nov 2026 13:00:00 GMT", "120", "-1", `max-age="9"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		limit := fetchNow.Add(7 * 24 * time.Hour)
		for name, got := range map[string]time.Time{
			"cacheUntil(Cache-Control)": cacheUntil(header("Cache-Control", v), fetchNow),
			"cacheUntil(Expires)":       cacheUntil(header("Expires", v), fetchNow),
			"retryAt":                   retryAt(v, fetchNow),
		} {
			if !got.IsZero() && (!got.After(fetchNow) || got.After(limit)) {
				t.Errorf("%s %q = %v, want zero or within a week after %v", name, v, got, fetchNow)
			}
		}
	})
}
