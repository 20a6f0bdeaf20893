package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk"
)

// spreadOver checks that the times in got are spread over window: each
// tenth of it (by their offset from the Unix epoch) holds between 5% and
// 15% of them.
func spreadOver(t *testing.T, what string, got []time.Time, window time.Duration) {
	t.Helper()
	var tenths [10]int
	for _, at := range got {
		tenths[at.UnixNano()%int64(window)*10/int64(window)]++
	}
	for i, n := range tenths {
		if n*100 < len(got)*5 || n*100 > len(got)*15 {
			t.Errorf("%s: tenth %d of the %v window holds %d of %d (%v), want 5-15%% in each", what, i, window, n, len(got), tenths)
			return
		}
	}
}

// TestLateBurstIsSpread: a pass of 1,000 sources all due at once (a first
// pass, a restart, run -force) ends with their next due times spread over
// one interval (an hour at most), none earlier than the fetch's end plus
// the interval; on time, the same pass keeps them within the jitter.
func TestLateBurstIsSpread(t *testing.T) {
	for _, interval := range []time.Duration{time.Minute, 15 * time.Minute, 6 * time.Hour} {
		t.Run(interval.String(), func(t *testing.T) {
			window := min(interval, maxPhaseWindow)
			var late, onTime []time.Time
			for i := range 1000 {
				src := newsdesk.Source{ID: fmt.Sprintf("source-%d", i), Interval: interval, IntervalSet: true}
				end := p0.Add(time.Duration(i) * 5 * time.Millisecond) // the pass takes 5s
				st := newsdesk.FetchState{Result: newsdesk.ResultOK}
				next := nextDue(src, st, true, end)
				if next.Before(end.Add(interval)) || !next.Before(end.Add(interval+window)) {
					t.Fatalf("late %s: next due end+%v, want within [%v, %v)", src.ID, next.Sub(end), interval, interval+window)
				}
				late = append(late, next)
				next = nextDue(src, st, false, end)
				if spread := min(interval/20, time.Minute); next.Before(end.Add(interval)) || next.After(end.Add(interval+spread)) {
					t.Fatalf("on time %s: next due end+%v, want the interval and up to %v of jitter", src.ID, next.Sub(end), spread)
				}
				onTime = append(onTime, next)
			}
			spreadOver(t, "late", late, window)
			if first, last := onTime[0], onTime[len(onTime)-1]; last.Sub(first) > window/2 && window > 2*time.Minute {
				t.Errorf("on time: next due times span %v, want the pass and the jitter", last.Sub(first))
			}
		})
	}
}

// TestLateLeavesTheOtherRules: a late start changes only the regular
// poll after a success; a schedule, a failure's backoff, a Retry-After, a
// max-age beyond it, skipHours and the minute floor come out the same.
func TestLateLeavesTheOtherRules(t *testing.T) {
	interval := 10 * time.Minute
	explicit := newsdesk.Source{ID: "a", Interval: interval, IntervalSet: true}
	ok := newsdesk.FetchState{Result: newsdesk.ResultOK}
	tests := []struct {
		name string
		src  newsdesk.Source
		st   newsdesk.FetchState
	}{
		{"schedule", newsdesk.Source{ID: "a", Schedule: every(10 * time.Minute), IntervalSet: true}, ok},
		{"failing", explicit, newsdesk.FetchState{Result: newsdesk.ResultError, Failures: 2}},
		{"retry-after", explicit, newsdesk.FetchState{Result: newsdesk.ResultError, Failures: 1, RetryAfter: p0.Add(5 * time.Hour)}},
		{"max-age beyond the phase", explicit, newsdesk.FetchState{Result: newsdesk.ResultOK, CacheUntil: p0.Add(3 * time.Hour)}},
		// p0 is 12:00 GMT: both land in the skipped hours, moved to 15:00.
		{"skipHours", newsdesk.Source{ID: "a", Interval: interval}, newsdesk.FetchState{Result: newsdesk.ResultOK, Hints: newsdesk.FeedHints{SkipHours: []int{12, 13, 14}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := nextDue(tt.src, tt.st, true, p0), nextDue(tt.src, tt.st, false, p0); !a.Equal(b) {
				t.Errorf("nextDue() late = %v, on time = %v; want the same", a, b)
			}
		})
	}
}

// TestPhasedIsAPureFunction: the same source, interval and time give the
// same instant, and a source keeps its offset in the interval whenever it
// is placed.
func TestPhasedIsAPureFunction(t *testing.T) {
	const interval = 15 * time.Minute
	a1, a2 := phased("a", interval, p0), phased("a", interval, p0)
	if !a1.Equal(a2) {
		t.Errorf("phased() = %v then %v, want the same", a1, a2)
	}
	later := phased("a", interval, p0.Add(7*time.Hour+3*time.Second))
	if a1.UnixNano()%int64(interval) != later.UnixNano()%int64(interval) {
		t.Errorf("phased() offsets %v and %v, want the same", a1, later)
	}
	if got := phased("a", interval, a1); !got.Equal(a1) {
		t.Errorf("phased() at the source's phase = %v, want that instant %v", got, a1)
	}
	if got := phased("a", interval, a1.Add(time.Nanosecond)); !got.Equal(a1.Add(interval)) {
		t.Errorf("phased() just after the phase = %v, want the next one %v", got, a1.Add(interval))
	}
}

func TestLate(t *testing.T) {
	due := p0
	slack := lateSlack(15 * time.Minute)
	tests := []struct {
		name  string
		due   time.Time
		began time.Time
		slack time.Duration
		want  bool
	}{
		{"first fetch", time.Time{}, p0, slack, true},
		{"at its due time", due, due, slack, false},
		{"within the slack", due, due.Add(slack), slack, false},
		{"past the slack", due, due.Add(slack + time.Nanosecond), slack, true},
		{"overdue after a downtime", due, due.Add(2 * time.Hour), slack, true},
		{"forced before its due time", due, due.Add(-time.Minute), slack, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := late(tt.due, tt.began, tt.slack); got != tt.want {
				t.Errorf("late() = %v, want %v", got, tt.want)
			}
		})
	}
	for interval, want := range map[time.Duration]time.Duration{
		time.Minute: 3 * time.Second, 15 * time.Minute: 45 * time.Second, time.Hour: time.Minute, 24 * time.Hour: time.Minute,
	} {
		if got := lateSlack(interval); got != want {
			t.Errorf("lateSlack(%v) = %v, want %v", interval, got, want)
		}
	}
}

// TestJobLate: Run's fetches are late past the slack; a pass's (run from
// cron) only when first or forced before their due time, so that cron's
// period does not push every fetch back by an interval.
func TestJobLate(t *testing.T) {
	src := newsdesk.Source{ID: "a", Interval: 15 * time.Minute, IntervalSet: true}
	known := newsdesk.FetchState{NextDue: p0}
	tests := []struct {
		name  string
		by    trigger
		st    newsdesk.FetchState
		began time.Time
		want  bool
	}{
		{"run, on time", byRun, known, p0.Add(time.Second), false},
		{"run, queued behind a burst", byRun, known, p0.Add(46 * time.Second), true},
		{"run, overdue", byRun, known, p0.Add(time.Minute), true},
		{"run, first fetch", byRun, newsdesk.FetchState{}, p0, true},
		{"pass, overdue by cron's period", byPass, known, p0.Add(5 * time.Minute), false},
		{"pass, first fetch", byPass, newsdesk.FetchState{}, p0, true},
		{"forced pass, before its due time", byForce, known, p0.Add(-time.Minute), true},
		{"forced pass, due anyway", byForce, known, p0.Add(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (job{src: src, by: tt.by}).late(tt.st, tt.began); got != tt.want {
				t.Errorf("job.late() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRunSpreadsTheSecondRound runs serve's loop in fake time over 500
// sources first fetched at once: their second fetches are spread over the
// interval after the first (a tenth of the interval holds 5-15% of them),
// not a burst at the interval, and the third round stays spread.
func TestRunSpreadsTheSecondRound(t *testing.T) {
	const n, interval = 500, 10 * time.Minute
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		at := map[string][]time.Time{} // request times by host
		m := &memOrigin{answer: func(r *http.Request) (int, http.Header, string) {
			mu.Lock()
			defer mu.Unlock()
			at[r.URL.Host] = append(at[r.URL.Host], time.Now())
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, r.URL.Host)
		}}
		var sources []newsdesk.Source
		for i := range n {
			sources = append(sources, newsdesk.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("http://s%d.example/rss", i), Interval: interval, IntervalSet: true})
		}
		s := newMemScheduler(t, m, sources...)
		start := time.Now()
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(3*interval + 2*time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		var second, third []time.Time
		for host, times := range at {
			if len(times) < 3 || !times[0].Equal(start) {
				t.Fatalf("%s fetched at %v, want at start and at least twice more", host, times)
			}
			if gap := times[1].Sub(times[0]); gap < interval || gap >= 2*interval {
				t.Fatalf("%s fetched again %v after its first fetch, want the interval and up to one more", host, gap)
			}
			if gap := times[2].Sub(times[1]); gap < interval || gap > interval+interval/20 {
				t.Fatalf("%s fetched a third time %v after the second, want the interval and the jitter", host, gap)
			}
			second, third = append(second, times[1]), append(third, times[2])
		}
		if len(at) != n {
			t.Fatalf("%d sources fetched, want %d", len(at), n)
		}
		spreadOver(t, "second round", second, interval)
		spreadOver(t, "third round", third, interval)
	})
}
