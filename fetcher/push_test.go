package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
)

// TestSafetyNetWhilePushActive: while the hub pushes, a successful fetch
// makes the source due a SafetyNetInterval later instead of its interval;
// otherwise at its interval; a failure backs off from its own interval;
// Retry-After still applies.
func TestSafetyNetWhilePushActive(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := int(status.Load()); c != 200 {
			w.Header().Set("Retry-After", "86400")
			http.Error(w, "busy", c)
			return
		}
		fmt.Fprintf(w, feedXML, "Origin")
	}))
	defer origin.Close()
	src := newsdesk.Source{ID: "a", URL: origin.URL, Interval: 10 * time.Minute, IntervalSet: true}
	clock := t0
	s, db := newScheduler(t, &clock, src)
	var active atomic.Bool
	s.PushActive = func(id string) bool { return id == "a" && active.Load() }
	pass := func() newsdesk.FetchState {
		t.Helper()
		if _, err := s.RunOnce(context.Background(), []newsdesk.Source{src}, true, nil, nil); err != nil {
			t.Fatal(err)
		}
		st, err := db.State("a")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := pass(); st.NextDue.After(clock.Add(time.Hour)) {
		t.Errorf("push not active: next due %v after the fetch, want about the 10m interval", st.NextDue.Sub(clock))
	}
	active.Store(true)
	if st := pass(); st.NextDue.Before(clock.Add(newsdesk.SafetyNetInterval)) {
		t.Errorf("push active: next due %v after the fetch, want at least %v", st.NextDue.Sub(clock), newsdesk.SafetyNetInterval)
	}
	status.Store(503)
	if st := pass(); st.Result != newsdesk.ResultError || st.NextDue.Before(clock.Add(24*time.Hour)) {
		t.Errorf("push active, 503 with Retry-After a day: result %q, next due %v after, want error and a day", st.Result, st.NextDue.Sub(clock))
	}
}
