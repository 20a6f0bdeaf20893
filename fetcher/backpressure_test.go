package fetcher

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
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
// slower than its fetches never holds more than 2 x fetch.concurrency
// fetched feeds waiting to be stored (fetch.concurrency in flight, as many
// parked: slots.go) (issue 12: a pass's memory grew with its
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
	if store.stored != len(sources) || store.maxWaiting > 2*s.Concurrency {
		t.Errorf("stored %d of %d; at most %d fetched feeds waited to be stored at once, want at most 2 x fetch.concurrency (%d)", store.stored, len(sources), store.maxWaiting, 2*s.Concurrency)
	}
}

// heldSaves is a real bolt store whose saves wait until the test lets them
// go, and that counts the saves waiting.
type heldSaves struct {
	*bolt.DB
	waiting atomic.Int32
	release chan struct{}
}

func (h *heldSaves) SaveFetch(st newsdesk.FetchState, items []newsdesk.Item, keep newsdesk.Retention) (newsdesk.FetchState, error) {
	h.waiting.Add(1)
	<-h.release
	return h.DB.SaveFetch(st, items, keep)
}

// TestAFetchWaitingForTheStoreLetsTheNextStart: with fetch.concurrency 1,
// a parsed feed waiting for the store parks, so a second source is
// fetched meanwhile; the second keeps its slot (one parking place), so a
// third is not fetched until a save is done.
func TestAFetchWaitingForTheStoreLetsTheNextStart(t *testing.T) {
	clock := t0
	s, db := newScheduler(t, &clock)
	store := &heldSaves{DB: db, release: make(chan struct{})}
	s.Store = store
	s.Concurrency, s.PerHost = 1, 50
	var served atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		fmt.Fprintf(w, feedXML, r.URL.Path)
	}))
	defer origin.Close()
	var sources []newsdesk.Source
	for i := range 3 {
		sources = append(sources, newsdesk.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("%s/%d.xml", origin.URL, i), Interval: time.Hour})
	}
	s.SetSources(sources)
	done := make(chan []Outcome)
	go func() {
		out, err := s.RunOnce(context.Background(), sources, true, nil, nil)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	for deadline := time.Now().Add(10 * time.Second); store.waiting.Load() < 2; {
		if time.Now().After(deadline) {
			close(store.release)
			t.Fatalf("%d saves waiting, want 2: the first fetch's wait for the store held up the second", store.waiting.Load())
		}
		runtime.Gosched()
	}
	if n := served.Load(); n != 2 {
		t.Errorf("%d sources fetched while two saves wait, want 2 (one in flight, one parked)", n)
	}
	close(store.release)
	for _, o := range <-done {
		if o.Err != nil || o.State.New == 0 {
			t.Errorf("source %s: %v, %d new; want its items stored", o.Source.ID, o.Err, o.State.New)
		}
	}
}
