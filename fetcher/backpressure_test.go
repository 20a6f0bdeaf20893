package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/store/bolt"
)

// slowSaves is a real bolt store whose saves take a while, as a busy disk
// makes them, and that counts the fetches waiting to be stored.
type slowSaves struct {
	*bolt.DB
	mu              sync.Mutex
	fetched, stored int
	maxWaiting      int
}

func (s *slowSaves) served() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetched++
	s.maxWaiting = max(s.maxWaiting, s.fetched-s.stored)
}

func (s *slowSaves) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	time.Sleep(10 * time.Millisecond) // a slow disk, not a wait for another goroutine
	out, err := s.DB.SaveFetch(st, items, keep)
	s.mu.Lock()
	s.stored++
	s.mu.Unlock()
	return out, err
}

// TestParsedFeedsWaitingForTheStoreAreBounded: a pass whose store is
// slower than its fetches never holds more than fetch.concurrency fetched
// feeds waiting to be stored (issue 12: a pass's memory grew with its
// sources, every parsed feed queued on bbolt's single writer with its
// items).
func TestParsedFeedsWaitingForTheStoreAreBounded(t *testing.T) {
	clock := t0
	s, db := newScheduler(t, &clock)
	store := &slowSaves{DB: db}
	s.Store = store
	s.Concurrency, s.PerHost = 2, 50
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, feedXML, r.URL.Path)
		store.served()
	}))
	defer origin.Close()
	var sources []newsdesk.Source
	for i := range 30 {
		sources = append(sources, newsdesk.Source{ID: fmt.Sprintf("s%02d", i), URL: fmt.Sprintf("%s/%d.xml", origin.URL, i), Interval: time.Hour})
	}
	s.SetSources(sources)
	out, err := s.RunOnce(context.Background(), sources, true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil || o.State.New == 0 {
			t.Fatalf("source %s: %v, %d new; want its items stored", o.Source.ID, o.Err, o.State.New)
		}
	}
	if store.stored != len(sources) || store.maxWaiting > s.Concurrency {
		t.Errorf("stored %d of %d; at most %d fetched feeds waited to be stored at once, want at most fetch.concurrency (%d)", store.stored, len(sources), store.maxWaiting, s.Concurrency)
	}
}
