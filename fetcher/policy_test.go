package fetcher

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

var p0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) // a Thursday

func TestDuePolicy(t *testing.T) {
	src := newsdesk.Source{ID: "a", URL: "https://a.example/rss", Interval: 10 * time.Minute}
	fetched := newsdesk.FetchState{URL: src.URL, NextDue: p0.Add(10 * time.Minute)}
	gone := fetched
	gone.Gone = true
	limited := fetched
	limited.RetryAfter = p0.Add(2 * time.Hour)
	tests := []struct {
		name    string
		st      newsdesk.FetchState
		ok      bool
		now     time.Time
		force   bool
		wantDue bool
		wantAt  time.Time
	}{
		{"never fetched", newsdesk.FetchState{}, false, p0, false, true, p0},
		{"before next due", fetched, true, p0.Add(9 * time.Minute), false, false, p0.Add(10 * time.Minute)},
		{"at next due", fetched, true, p0.Add(10 * time.Minute), false, true, p0.Add(10 * time.Minute)},
		{"force before next due", fetched, true, p0, true, true, p0},
		{"url changed in feeds.yaml", newsdesk.FetchState{URL: "https://old.example/rss", NextDue: p0.Add(time.Hour), Gone: true}, true, p0, false, true, p0},
		{"gone", gone, true, p0.Add(48 * time.Hour), false, false, time.Time{}},
		{"gone, even forced", gone, true, p0.Add(48 * time.Hour), true, false, time.Time{}},
		{"retry-after", limited, true, p0.Add(time.Hour), false, false, p0.Add(2 * time.Hour)},
		{"retry-after, even forced", limited, true, p0.Add(time.Hour), true, false, p0.Add(2 * time.Hour)},
		{"retry-after passed", limited, true, p0.Add(2 * time.Hour), false, true, p0.Add(2 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, at := Due(src, tt.st, tt.ok, tt.now, tt.force)
			if due != tt.wantDue || !at.Equal(tt.wantAt) {
				t.Errorf("Due() = %v, %v; want %v, %v", due, at, tt.wantDue, tt.wantAt)
			}
		})
	}
}

// schedule is a newsdesk.Schedule made of a function; config builds the
// real ones from cron expressions (config/TestScheduleNext).
type schedule func(time.Time) time.Time

func (f schedule) Next(t time.Time) time.Time { return f(t) }
func (schedule) String() string               { return "test schedule" }

// every fires on the multiples of d (since the zero time).
func every(d time.Duration) schedule {
	return func(t time.Time) time.Time { return t.Truncate(d).Add(d) }
}

// dailyAt fires every day at hour:00 UTC.
func dailyAt(hour int) schedule {
	return func(t time.Time) time.Time {
		t = t.UTC()
		next := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, time.UTC)
		if !next.After(t) {
			next = next.AddDate(0, 0, 1)
		}
		return next
	}
}

func TestNextDuePolicy(t *testing.T) {
	interval := 10 * time.Minute
	explicit := newsdesk.Source{ID: "a", Interval: interval, IntervalSet: true}
	byDefault := newsdesk.Source{ID: "a", Interval: interval}
	ok := newsdesk.FetchState{Result: newsdesk.ResultOK}
	failed := func(n int) newsdesk.FetchState {
		return newsdesk.FetchState{Result: newsdesk.ResultError, Failures: n}
	}
	with := func(st newsdesk.FetchState, f func(*newsdesk.FetchState)) newsdesk.FetchState {
		f(&st)
		return st
	}
	tests := []struct {
		name     string
		src      newsdesk.Source
		st       newsdesk.FetchState
		min, max time.Duration // the wait after now, jitter included
	}{
		{"success: interval plus up to 5% jitter", explicit, ok, interval, interval + 30*time.Second},
		{"not modified: the same", explicit, newsdesk.FetchState{Result: newsdesk.ResultNotModified}, interval, interval + 30*time.Second},
		{"long interval: jitter at most a minute", newsdesk.Source{ID: "a", Interval: 6 * time.Hour, IntervalSet: true}, ok, 6 * time.Hour, 6*time.Hour + time.Minute},
		{"max-age longer than interval", explicit, with(ok, func(s *newsdesk.FetchState) { s.CacheUntil = p0.Add(time.Hour) }), time.Hour, time.Hour},
		{"max-age shorter than interval", explicit, with(ok, func(s *newsdesk.FetchState) { s.CacheUntil = p0.Add(time.Minute) }), interval, interval + 30*time.Second},
		{"max-age ignored by honor_cache_headers: false", newsdesk.Source{ID: "a", Interval: interval, IgnoreCacheHeaders: true}, with(ok, func(s *newsdesk.FetchState) { s.CacheUntil = p0.Add(time.Hour) }), interval, interval + 30*time.Second},
		{"ttl honoured without an explicit interval", byDefault, with(ok, func(s *newsdesk.FetchState) { s.Hints.TTL = 10 * time.Hour }), 10 * time.Hour, 10*time.Hour + time.Minute},
		{"ttl ignored with an explicit interval", explicit, with(ok, func(s *newsdesk.FetchState) { s.Hints.TTL = 10 * time.Hour }), interval, interval + 30*time.Second},
		{"sy:updatePeriod hourly x2", byDefault, with(ok, func(s *newsdesk.FetchState) { s.Hints.UpdatePeriod, s.Hints.UpdateFrequency = "hourly", 2 }), 30 * time.Minute, 31 * time.Minute},
		// p0 is 12:00 GMT Thursday: skipping 12-14 moves the poll to 15:00.
		{"skipHours", byDefault, with(ok, func(s *newsdesk.FetchState) { s.Hints.SkipHours = []int{12, 13, 14} }), 3 * time.Hour, 3 * time.Hour},
		{"skipDays", byDefault, with(ok, func(s *newsdesk.FetchState) { s.Hints.SkipDays = []time.Weekday{time.Thursday} }), 12 * time.Hour, 12 * time.Hour},
		{"first failure: 2x interval ±10%", explicit, failed(1), 18 * time.Minute, 22 * time.Minute},
		{"third failure: 8x", explicit, failed(3), 72 * time.Minute, 88 * time.Minute},
		{"many failures: a day ±10%", explicit, failed(40), 21*time.Hour + 36*time.Minute, 26*time.Hour + 24*time.Minute},
		{"retry-after beats backoff", explicit, with(failed(1), func(s *newsdesk.FetchState) { s.RetryAfter = p0.Add(5 * time.Hour) }), 5 * time.Hour, 5 * time.Hour},
		{"retry-after beats honor_cache_headers: false", newsdesk.Source{ID: "a", Interval: interval, IgnoreCacheHeaders: true}, with(failed(1), func(s *newsdesk.FetchState) { s.RetryAfter = p0.Add(5 * time.Hour) }), 5 * time.Hour, 5 * time.Hour},
		// p0 is Thursday 12:00 UTC: the schedule's next time, exactly.
		{"schedule", newsdesk.Source{ID: "a", Schedule: every(10 * time.Minute), IntervalSet: true}, ok, 10 * time.Minute, 10 * time.Minute},
		{"schedule overnight", newsdesk.Source{ID: "a", Schedule: dailyAt(6), IntervalSet: true}, ok, 18 * time.Hour, 18 * time.Hour},
		{"schedule that never fires: the interval", newsdesk.Source{ID: "a", Interval: interval, Schedule: schedule(func(time.Time) time.Time { return time.Time{} }), IntervalSet: true}, ok, interval, interval + 30*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextDue(tt.src, tt.st, false, p0).Sub(p0)
			if got < tt.min || got > tt.max {
				t.Errorf("nextDue() = now+%v, want between %v and %v", got, tt.min, tt.max)
			}
		})
	}
}

// TestJitterSpreadsSources: sources with the same interval fetched at the
// same instant are not all due at the same instant again.
func TestJitterSpreadsSources(t *testing.T) {
	seen := map[time.Time]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		seen[nextDue(newsdesk.Source{ID: id, Interval: time.Hour}, newsdesk.FetchState{Result: newsdesk.ResultOK}, false, p0)] = true
	}
	if len(seen) < 7 {
		t.Errorf("8 sources got %d distinct next-due times, want them spread", len(seen))
	}
	a1 := nextDue(newsdesk.Source{ID: "a", Interval: time.Hour}, newsdesk.FetchState{Result: newsdesk.ResultOK}, false, p0)
	a2 := nextDue(newsdesk.Source{ID: "a", Interval: time.Hour}, newsdesk.FetchState{Result: newsdesk.ResultOK}, false, p0)
	if !a1.Equal(a2) {
		t.Errorf("nextDue is not a pure function: %v then %v", a1, a2)
	}
}

func TestAfterFailure(t *testing.T) {
	retryAt := p0.Add(90 * time.Minute)
	tests := []struct {
		name      string
		err       error
		wantGone  bool
		wantRetry time.Time
	}{
		{"410", &StatusError{Code: 410}, true, time.Time{}},
		{"429 with Retry-After", &StatusError{Code: 429, RetryAt: retryAt}, false, retryAt},
		{"429 without: an hour at least", &StatusError{Code: 429}, false, p0.Add(time.Hour)},
		{"503 with Retry-After", &StatusError{Code: 503, RetryAt: retryAt}, false, retryAt},
		{"503 without: backoff only", &StatusError{Code: 503}, false, time.Time{}},
		{"404", &StatusError{Code: 404}, false, time.Time{}},
		{"network", errors.New("connection refused"), false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := afterFailure(newsdesk.FetchState{RetryAfter: p0.Add(-time.Hour)}, tt.err, p0)
			if st.Gone != tt.wantGone || !st.RetryAfter.Equal(tt.wantRetry) {
				t.Errorf("afterFailure() gone=%v retry=%v; want %v %v", st.Gone, st.RetryAfter, tt.wantGone, tt.wantRetry)
			}
		})
	}
}

// TestNeverPollsMoreThanOnceAMinute: whatever the source says (a schedule
// of @every 1s, an interval of 1s that did not come through feeds.yaml's
// check), the next poll is at least newsdesk.MinInterval after the last one.
func TestNeverPollsMoreThanOnceAMinute(t *testing.T) {
	tests := []struct {
		name string
		src  newsdesk.Source
		st   newsdesk.FetchState
	}{
		{"schedule every 1s", newsdesk.Source{ID: "a", Schedule: every(time.Second), IntervalSet: true}, newsdesk.FetchState{Result: newsdesk.ResultOK}},
		{"interval 1s", newsdesk.Source{ID: "a", Interval: time.Second, IntervalSet: true}, newsdesk.FetchState{Result: newsdesk.ResultOK}},
		{"interval 1s, failing", newsdesk.Source{ID: "a", Interval: time.Second, IntervalSet: true}, newsdesk.FetchState{Result: newsdesk.ResultError, Failures: 1}},
		{"interval 1ns from the feed's default", newsdesk.Source{ID: "a", Interval: 1}, newsdesk.FetchState{Result: newsdesk.ResultNotModified}},
	}
	for _, tt := range tests {
		for _, late := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/late=%v", tt.name, late), func(t *testing.T) {
				now := p0
				for range 100 {
					next := nextDue(tt.src, tt.st, late, now)
					if gap := next.Sub(now); gap < newsdesk.MinInterval {
						t.Fatalf("nextDue(%s) = now + %s, want at least %s", tt.name, gap, newsdesk.MinInterval)
					}
					now = next
				}
			})
		}
	}
}
