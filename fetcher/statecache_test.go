package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk"
)

// countingStates is a real store that counts the reads of every state.
type countingStates struct {
	Store
	n atomic.Int32
}

func (c *countingStates) States() ([]newsdesk.FetchState, error) {
	c.n.Add(1)
	return c.Store.States()
}

// TestRunDoesNotReadEveryStatePerFetch: serve's loop reads every source's
// state at start and on a change of sources, not after each fetch (issue
// 11, guarantee 9): hours of fetching cost one read of them all, and what
// it keeps in memory still schedules every source by its interval.
func TestRunDoesNotReadEveryStatePerFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		m := &memOrigin{answer: func(r *http.Request) (int, http.Header, string) {
			return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, r.URL.Host)
		}}
		m.limit, m.exceeded = 100, cancel
		var sources []newsdesk.Source
		for i := range 5 {
			sources = append(sources, newsdesk.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("http://s%d.example/rss", i), Interval: 10 * time.Minute})
		}
		s := newMemScheduler(t, m, sources...)
		st := &countingStates{Store: s.Store}
		s.Store = st
		var commits atomic.Int32
		s.OnCommit = func(Outcome) { commits.Add(1) }
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(2*time.Hour - time.Minute)
		synctest.Wait()
		// Each source every 10m (+ up to 30s): 12 fetches in 2 hours.
		if n := commits.Load(); n < 5*11 || n > 5*12 {
			t.Errorf("%d commits in 2 hours, want 11 or 12 per source", n)
		}
		if n := st.n.Load(); n != 1 {
			t.Errorf("every state read %d times in %d commits, want once", n, commits.Load())
		}
		s.SetSources(sources[:4])
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := st.n.Load(); n != 2 {
			t.Errorf("every state read %d times after a change of sources and an hour more, want twice", n)
		}
		if n := m.requests("s4.example"); n > 12 {
			t.Errorf("the removed source was fetched %d times, want no more after its removal", n)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
}
