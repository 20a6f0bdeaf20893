package main

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestRenderQueueCoalesces: commits that come while a render runs do not
// render themselves; the running render takes their sections up in one
// batch, each section once, and wait returns only when all are rendered.
func TestRenderQueueCoalesces(t *testing.T) {
	synctest.Test(t, testRenderQueueCoalesces)
}

func testRenderQueueCoalesces(t *testing.T) {
	var q renderQueue
	var mu sync.Mutex
	var batches [][]string
	entered, release := make(chan struct{}), make(chan struct{})
	render := func(ids []string) {
		mu.Lock()
		batches = append(batches, slices.Clone(ids))
		first := len(batches) == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release // hold the first render while others commit
		}
	}
	done := make(chan struct{})
	go func() { q.add([]string{"a"}, render); close(done) }()
	<-entered
	for _, ids := range [][]string{{"b"}, {"c", "b"}, {"a"}} {
		q.add(ids, func([]string) { t.Error("a commit during a render rendered by itself") })
	}
	waited := make(chan struct{})
	go func() { q.wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("wait returned while a render runs")
	default:
	}
	close(release)
	<-done
	<-waited
	want := [][]string{{"a"}, {"b", "c", "a"}}
	if len(batches) != 2 || !slices.Equal(batches[0], want[0]) || !slices.Equal(batches[1], want[1]) {
		t.Errorf("batches = %q, want %q", batches, want)
	}
}

// TestRenderQueueWindow: however many commits come, renders start at
// least renderEvery apart, and the commits of that window are rendered
// together; the first render after a quiet window starts at once.
func TestRenderQueueWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var q renderQueue
		var starts []time.Time
		var batches [][]string
		render := func(ids []string) {
			starts = append(starts, time.Now())
			batches = append(batches, slices.Clone(ids))
		}
		begin := time.Now()
		q.add([]string{"a"}, render) // at once
		var wg sync.WaitGroup
		for i, id := range []string{"b", "c", "d"} {
			wg.Go(func() {
				time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
				q.add([]string{id}, render)
			})
		}
		wg.Wait()
		q.wait()
		time.Sleep(2 * renderEvery)
		q.add([]string{"e"}, render) // after a quiet window: at once
		if len(starts) != 3 || starts[0] != begin || starts[1].Sub(starts[0]) != renderEvery || starts[2] != begin.Add(3*renderEvery) {
			t.Errorf("renders started at %v after the first commit, want 0, %v, then at once after the quiet window", offsets(begin, starts), renderEvery)
		}
		if want := [][]string{{"a"}, {"b", "c", "d"}, {"e"}}; fmt.Sprint(batches) != fmt.Sprint(want) {
			t.Errorf("batches = %q, want %q", batches, want)
		}
	})
}

func offsets(from time.Time, ts []time.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(from)
	}
	return out
}
