package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk"
)

// fetchGoroutines counts the goroutines in Scheduler.fetch: one per fetch
// started, whether it waits for the origin, for a slot or for the store.
func fetchGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("fetcher.(*Scheduler).fetch("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// manyHosts returns n sources, each on a host of its own.
func manyHosts(n int) []newsdesk.Source {
	sources := make([]newsdesk.Source, n)
	for i := range sources {
		sources[i] = newsdesk.Source{ID: fmt.Sprintf("s%03d", i), URL: fmt.Sprintf("http://h%03d.example/rss", i), Interval: time.Hour}
	}
	return sources
}

// gatedPass returns a scheduler with n sources, each on a host of its
// own, at most concurrency fetches at once, and an origin whose requests
// wait at its gate.
func gatedPass(t *testing.T, n, concurrency int) (*memOrigin, []newsdesk.Source, *Scheduler) {
	m := &memOrigin{gate: make(chan struct{}), answer: func(r *http.Request) (int, http.Header, string) {
		return http.StatusOK, http.Header{}, fmt.Sprintf(feedXML, r.URL.Host)
	}}
	sources := manyHosts(n)
	s := newMemScheduler(t, m, sources...)
	s.Concurrency = concurrency
	return m, sources, s
}

// letThrough lets n requests through the gate one at a time, and checks
// before each, once everything waits, that at most want fetches are under
// way.
func letThrough(t *testing.T, m *memOrigin, n, want int) {
	t.Helper()
	for range n {
		synctest.Wait() // every fetch started waits at the gate
		if got := fetchGoroutines(); got > want || got == 0 {
			t.Fatalf("%d fetches under way, want 1 to %d (fetch.concurrency), however many sources wait", got, want)
		}
		m.gate <- struct{}{}
	}
}

// TestPassGoroutinesDoNotGrowWithSources: a pass of many sources keeps at
// most fetch.concurrency fetches (each a goroutine, with its stack and
// what it read) under way; the others wait in the queue (issue 12: a
// goroutine parked per due source was 150 MB of stacks at 10,000 sources).
func TestPassGoroutinesDoNotGrowWithSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, sources, s := gatedPass(t, 60, 3)
		done := make(chan []Outcome)
		go func() {
			out, _ := s.RunOnce(context.Background(), sources, true, nil, nil)
			done <- out
		}()
		letThrough(t, m, len(sources), s.Concurrency)
		out := <-done
		if len(out) != len(sources) {
			t.Fatalf("%d outcomes, want %d", len(out), len(sources))
		}
		for i, o := range out {
			if o.Source.ID != sources[i].ID || o.Err != nil || o.State.New != 2 {
				t.Fatalf("outcome %d: %s %v, %d new; want %s fetched, 2 new", i, o.Source.ID, o.Err, o.State.New, sources[i].ID)
			}
		}
	})
}

// TestRunGoroutinesDoNotGrowWithSources: serve's loop, with every source
// due at start, also keeps at most fetch.concurrency fetches under way.
func TestRunGoroutinesDoNotGrowWithSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, sources, s := gatedPass(t, 60, 3)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		letThrough(t, m, len(sources), s.Concurrency)
		synctest.Wait()
		for _, src := range sources {
			if st, err := s.Store.State(src.ID); err != nil || st.New != 2 {
				t.Fatalf("%s: %+v, %v; want fetched, 2 new", src.ID, st, err)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestQueueStartsSourcesInOrder: the queue starts sources in the order
// they are due (a pass: as configured) as slots are given back, and a
// source whose host is busy does not hold up the ones after it.
func TestQueueStartsSourcesInOrder(t *testing.T) {
	s := &Scheduler{Concurrency: 2, PerHost: 1}
	var q queue
	for i, id := range []string{"a1", "a2", "b1", "a3", "c1", "b2"} {
		q.push(i, newsdesk.Source{ID: id}, id[:1])
	}
	var started []string
	grants := map[string]*grant{}
	start := func(w waiting, g *grant) {
		started = append(started, w.src.ID)
		grants[w.src.ID] = g
	}
	freed := q.dispatch(s, start)
	if fmt.Sprint(started) != "[a1 b1]" {
		t.Fatalf("started %v, want [a1 b1]: a2 waits for host a, b1 does not", started)
	}
	for _, id := range []string{"a1", "b1", "a2", "c1"} {
		select {
		case <-freed:
			t.Fatalf("woken before %s gave its slots back", id)
		default:
		}
		grants[id].release()
		<-freed // closed by the release
		freed = q.dispatch(s, start)
	}
	if want := "[a1 b1 a2 c1 a3 b2]"; fmt.Sprint(started) != want || q.len() != 0 || freed != nil {
		t.Errorf("started %v, %d waiting; want %s, none", started, q.len(), want)
	}
	for _, id := range []string{"a3", "b2"} {
		grants[id].release()
		grants[id].release() // a second release gives nothing back twice
	}
	if s.slots.inUse != 0 || len(s.slots.hosts) != 0 {
		t.Errorf("after every release: %d slots in use, hosts %v; want none", s.slots.inUse, s.slots.hosts)
	}
}

// TestCancelledPassLeavesTheRestDue: a pass cut short returns, for each
// source it never started, the context's error, and leaves it unclaimed
// and due, so the next pass fetches it.
func TestCancelledPassLeavesTheRestDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, sources, s := gatedPass(t, 10, 2)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan []Outcome)
		go func() {
			out, _ := s.RunOnce(ctx, sources, false, nil, nil)
			done <- out
		}()
		synctest.Wait() // two fetches wait at the gate, eight in the queue
		cancel()
		out := <-done
		var cut []string
		for i, o := range out {
			if o.Source.ID != sources[i].ID {
				t.Fatalf("outcome %d is %s's, want %s's", i, o.Source.ID, sources[i].ID)
			}
			if errors.Is(o.Err, context.Canceled) {
				cut = append(cut, o.Source.ID)
			}
		}
		if len(out) != len(sources) || len(cut) < len(sources)-s.Concurrency {
			t.Fatalf("%d outcomes, %d cut short; want %d, at least %d", len(out), len(cut), len(sources), len(sources)-s.Concurrency)
		}
		m.gate = nil
		out, err := s.RunOnce(context.Background(), sources, false, nil, nil)
		var fetched []string
		for _, o := range out {
			if o.Err == nil && o.State.New == 2 {
				fetched = append(fetched, o.Source.ID)
			}
		}
		if err != nil || fmt.Sprint(fetched) != fmt.Sprint(cut) {
			t.Errorf("next pass fetched %v, %v; want those cut short, %v", fetched, err, cut)
		}
	})
}
