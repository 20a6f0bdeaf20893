package main

import (
	"slices"
	"sync"
	"testing"
)

// TestRenderQueueCoalesces: commits that come while a render runs do not
// render themselves; the running render takes their sections up in one
// batch, each section once, and wait returns only when all are rendered.
func TestRenderQueueCoalesces(t *testing.T) {
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
