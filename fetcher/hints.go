package fetcher

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"

	"github.com/newsdesk/newsdesk"
)

// maxNotBefore caps every "not before" a publisher gives (max-age, Expires,
// Retry-After): a typo of a few zeros must not silence a source for years.
const maxNotBefore = 7 * 24 * time.Hour

// maxTTL is the longest RSS ttl believed; longer ones are garbage (and
// would overflow a Duration before long).
const maxTTL = 365 * 24 * time.Hour

// feedHints reads the polling hints of a parsed feed: RSS ttl, skipHours
// and skipDays (from the original RSS feed, which the shared parser keeps),
// and the syndication module's updatePeriod and updateFrequency at channel
// level (RSS 1.0 and 2.0, Atom). Values that make no sense are dropped
// silently: hints are advice, and a broken one must not fail the feed.
func feedHints(f *gofeed.Feed) newsdesk.FeedHints {
	var h newsdesk.FeedHints
	if f == nil {
		return h
	}
	if rf, ok := f.OriginalFeed().(*rss.Feed); ok && rf != nil {
		h.TTL = parseTTL(rf.TTL)
		h.SkipHours = parseSkipHours(rf.SkipHours)
		h.SkipDays = parseSkipDays(rf.SkipDays)
	}
	h.UpdatePeriod, h.UpdateFrequency = syndication(f.Extensions)
	return h
}

// parseTTL reads an RSS ttl, a whole number of minutes.
func parseTTL(s string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || time.Duration(n) > maxTTL/time.Minute {
		return 0
	}
	return time.Duration(n) * time.Minute
}

// parseSkipHours reads RSS skipHours: GMT hours 0-23, sorted, without
// duplicates. Some feeds count 1-24; 24 is midnight, hour 0.
func parseSkipHours(raw []string) []int {
	var hours []int
	for _, s := range raw {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 24 {
			continue
		}
		hours = append(hours, n%24)
	}
	slices.Sort(hours)
	return slices.Compact(hours)
}

// parseSkipDays reads RSS skipDays: English day names in any case, sorted
// Sunday first, without duplicates.
func parseSkipDays(raw []string) []time.Weekday {
	var days []time.Weekday
	for _, s := range raw {
		s = strings.ToLower(strings.TrimSpace(s))
		for d := time.Sunday; d <= time.Saturday; d++ {
			if s == strings.ToLower(d.String()) {
				days = append(days, d)
			}
		}
	}
	slices.Sort(days)
	return slices.Compact(days)
}

// syndication reads sy:updatePeriod and sy:updateFrequency. The module
// says a missing period means daily and a missing frequency means once; a
// period it does not define drops both.
func syndication(exts ext.Extensions) (period string, frequency int) {
	sy := exts["sy"]
	rawPeriod := extValue(sy, "updatePeriod")
	rawFreq := extValue(sy, "updateFrequency")
	if n, err := strconv.Atoi(strings.TrimSpace(rawFreq)); err == nil && n > 0 {
		frequency = n
	}
	switch p := strings.ToLower(strings.TrimSpace(rawPeriod)); p {
	case "hourly", "daily", "weekly", "monthly", "yearly":
		period = p
	case "":
		if frequency > 0 {
			period = "daily"
		}
	default:
		return "", 0
	}
	return period, frequency
}

// extValue returns the text of the first element called name (in any case)
// among one namespace's extension elements.
func extValue(elems map[string][]ext.Extension, name string) string {
	for k, list := range elems {
		if strings.EqualFold(k, name) && len(list) > 0 {
			return list[0].Value
		}
	}
	return ""
}

// cacheUntil is when a response stops being fresh, from the headers of a
// response received at now: Cache-Control max-age, else Expires. It is zero
// when the response may be fetched again at once (no-cache, no-store,
// max-age=0, an Expires that is invalid or past) or says nothing, and at
// most a week away.
func cacheUntil(h http.Header, now time.Time) time.Time {
	maxAge, hasMaxAge := int64(-1), false
	for _, line := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				return time.Time{}
			case "max-age":
				hasMaxAge = true
				if n, ok := deltaSeconds(strings.Trim(strings.TrimSpace(value), `"`)); ok && maxAge < 0 {
					maxAge = n
				}
			}
		}
	}
	if hasMaxAge {
		// A max-age, even a broken one, overrides Expires (RFC 9111 5.3).
		if maxAge <= 0 {
			return time.Time{}
		}
		return now.Add(time.Duration(maxAge) * time.Second).UTC()
	}
	if v := h.Get("Expires"); v != "" {
		return notBefore(v, now)
	}
	return time.Time{}
}

// retryAt reads a Retry-After of a response received at now: delay-seconds
// or an HTTP-date. It is zero when absent, unparseable or not in the
// future, and at most a week away.
func retryAt(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if n, ok := deltaSeconds(v); ok {
		if n == 0 {
			return time.Time{}
		}
		return now.Add(time.Duration(n) * time.Second).UTC()
	}
	return notBefore(v, now)
}

// deltaSeconds reads a non-negative whole number of seconds, capped at a
// week; a number too large to read is the cap too (RFC 9111 1.2.2).
func deltaSeconds(s string) (int64, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return min(n, int64(maxNotBefore/time.Second)), true
}

// notBefore reads an HTTP-date that should lie in the future: zero when it
// is invalid or not after now, capped at a week from now.
func notBefore(date string, now time.Time) time.Time {
	t, err := http.ParseTime(strings.TrimSpace(date))
	if err != nil || !t.After(now) {
		return time.Time{}
	}
	if limit := now.Add(maxNotBefore); t.After(limit) {
		t = limit
	}
	return t.UTC()
}
