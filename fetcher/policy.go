package fetcher

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The polling policy: pure functions of a source's configuration, its
// stored fetch state and the clock, so every rule is testable with a fake
// clock and survives restarts (the state is persisted).

const (
	// maxBackoff caps the wait after repeated failures: a failing source is
	// never dropped, it is retried at least once a day.
	maxBackoff = 24 * time.Hour
	// minTooManyRequests is the least a 429 without Retry-After waits: the
	// publisher said "too often", so back off in hours, not seconds.
	minTooManyRequests = time.Hour
	// maxPhaseWindow caps the window a late poll's source is spread over
	// (phased): what a late start costs a source is at most one interval,
	// and at most this, so a restart never puts a daily feed back by a day.
	maxPhaseWindow = time.Hour
)

// Due reports whether src may be fetched at now given its stored state (ok
// is false when it was never fetched), and otherwise when it may. force
// (run -force) overrides intervals and cache hints, never a publisher's
// Retry-After and never a 410 Gone. A gone source is never due (the time is
// zero) until feeds.yaml gives it another URL.
func Due(src newsdesk.Source, st newsdesk.FetchState, ok bool, now time.Time, force bool) (bool, time.Time) {
	switch {
	case !ok || st.URL != src.URL:
		return true, now
	case st.Gone:
		return false, time.Time{}
	case now.Before(st.RetryAfter):
		return false, st.RetryAfter
	case force || !now.Before(st.NextDue):
		return true, now
	}
	return false, st.NextDue
}

// Interval is how often src is polled when all goes well: its configured
// interval, lengthened by the feed's own ttl or sy:updatePeriod when
// feeds.yaml gives the source no interval of its own, and never shorter than
// newsdesk.MinInterval.
func Interval(src newsdesk.Source, hints newsdesk.FeedHints) time.Duration {
	interval := src.Interval
	if interval <= 0 {
		interval = newsdesk.DefaultInterval
	}
	if !src.IntervalSet {
		interval = max(interval, hints.Interval())
	}
	return max(interval, newsdesk.MinInterval)
}

// nextDue is when src is fetched next after a fetch that ended at now and
// left state st; late is whether the fetch began off the source's schedule
// (late, by the due time it was fetched for and when it began):
//
//   - after a success: the next time of the cron schedule; or, after a
//     fetch that began on time, now + the interval plus a little jitter so
//     sources with equal intervals drift apart; or, after a late one, the
//     source's own phase of the interval after now + the interval (phased),
//     so the sources of a burst (a first pass, a restart, run -force) are
//     spread over the interval at once rather than polled in lockstep;
//     never before the response's max-age/Expires (unless the source
//     ignores cache headers) and, without an explicit interval, outside the
//     feed's skipHours/skipDays;
//   - after the n-th failure in a row: 2^n intervals with jitter, at most a
//     day (at least an hour after a 429);
//   - never before a Retry-After;
//   - never less than newsdesk.MinInterval after now, whatever the
//     source's interval or schedule says (config rejects those, this is the
//     second line).
func nextDue(src newsdesk.Source, st newsdesk.FetchState, late bool, now time.Time) time.Time {
	interval := Interval(src, st.Hints)
	var next time.Time
	if st.Result == newsdesk.ResultError && st.Failures > 0 {
		wait := interval
		for i := 0; i < st.Failures && wait < maxBackoff; i++ {
			wait *= 2
		}
		wait = min(wait, maxBackoff)
		// ±10% so failing sources do not retry in lockstep.
		wait += time.Duration(float64(wait) * (jitter(src.ID, now)*0.2 - 0.1))
		next = now.Add(wait)
	} else {
		next = scheduled(src, interval, late, now)
		if !src.IgnoreCacheHeaders && st.CacheUntil.After(next) {
			next = st.CacheUntil
		}
		if !src.IntervalSet {
			next = skip(next, st.Hints)
		}
	}
	if st.RetryAfter.After(next) {
		next = st.RetryAfter
	}
	if earliest := now.Add(newsdesk.MinInterval); next.Before(earliest) {
		next = earliest
	}
	return next
}

// scheduled is the next regular poll after now: the cron schedule's next
// time; after a late fetch, the source's phase after now + interval; else
// now + interval + up to 5% (at most a minute) of jitter.
func scheduled(src newsdesk.Source, interval time.Duration, late bool, now time.Time) time.Time {
	if src.Schedule != nil {
		if next := src.Schedule.Next(now.Local()); !next.IsZero() {
			return next.UTC()
		}
	}
	if late {
		return phased(src.ID, interval, now.Add(interval))
	}
	spread := min(interval/20, time.Minute)
	return now.Add(interval + time.Duration(jitter(src.ID, now)*float64(spread)))
}

// late reports whether a fetch that began at began, of a source due at due
// (zero: never fetched, or at a new URL), began off the source's schedule:
// a first fetch, one forced before it was due (run -force), or one that
// began more than slack after it was due (overdue after a downtime, or
// queued behind the other sources of a burst).
func late(due, began time.Time, slack time.Duration) bool {
	return due.IsZero() || began.Before(due) || began.Sub(due) > slack
}

// lateSlack is how long after its due time Run's fetch of a source with
// the given interval may begin and still be on time: 5% of the interval,
// at most a minute, as much as the jitter an on-time poll gets (3 s at the
// shortest interval, a minute). A late start costs the source up to an
// interval (phased), so a fetch delayed by a busy moment (slots all taken,
// a loaded machine) must not count as one; a burst that needs no longer
// than that to start is spread by the jitter alone.
func lateSlack(interval time.Duration) time.Duration {
	return min(interval/20, time.Minute)
}

// phased is the first instant at or after t at src's phase of its interval
// (of maxPhaseWindow when the interval is longer): the instants since the
// Unix epoch whose offset in that window is a hash of the source's id, the
// same every time (like Prometheus's per-target scrape offsets), so that
// sources placed there are spread evenly over the window and a source
// placed there twice keeps its offset.
func phased(id string, interval time.Duration, t time.Time) time.Time {
	window := int64(min(interval, maxPhaseWindow))
	h := fnv.New64a()
	h.Write([]byte(id))
	phase := int64(h.Sum64() % uint64(window))
	offset := (t.UnixNano()%window + window) % window
	return t.Add(time.Duration((phase - offset + window) % window))
}

// skip moves t out of the feed's skipHours (GMT) and skipDays, to the start
// of the first hour the publisher does not skip. A feed that skips every
// hour is ignored rather than never polled.
func skip(t time.Time, h newsdesk.FeedHints) time.Time {
	if len(h.SkipHours) == 0 && len(h.SkipDays) == 0 {
		return t
	}
	t = t.UTC()
	for range 8 * 24 {
		if !slices.Contains(h.SkipHours, t.Hour()) && !slices.Contains(h.SkipDays, t.Weekday()) {
			return t
		}
		t = t.Truncate(time.Hour).Add(time.Hour)
	}
	return t
}

// jitter is a number in [0, 1) that differs between sources and between
// fetches, but is the same for the same source at the same instant, so the
// policy stays a pure function.
func jitter(sourceID string, now time.Time) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s@%d", sourceID, now.UnixNano())
	return float64(h.Sum64()>>11) / (1 << 53)
}

// afterFailure returns st updated with what a failed fetch at now teaches
// about the source: gone on 410, the publisher's Retry-After on 429/503.
func afterFailure(st newsdesk.FetchState, err error, now time.Time) newsdesk.FetchState {
	st.RetryAfter = time.Time{}
	var se *StatusError
	if !errors.As(err, &se) {
		return st
	}
	switch se.Code {
	case 410:
		st.Gone = true
	case 429, 503:
		st.RetryAfter = se.RetryAt
		if se.Code == 429 && se.RetryAt.IsZero() {
			st.RetryAfter = now.Add(minTooManyRequests)
		}
	}
	return st
}
