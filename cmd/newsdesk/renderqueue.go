package main

import (
	"slices"
	"sync"
	"time"
)

// renderEvery is the shortest time between the starts of two renders of
// the commits' sections: however many sources commit, a section renders
// at most once per renderEvery, and the commits of that second are
// rendered together.
const renderEvery = time.Second

// renderQueue coalesces the re-renders that commits ask for. A commit adds
// its sections and, unless a render is running, renders them itself; one
// that arrives during a render only adds its sections, which the running
// render takes up when it ends, all together. A render starts at least
// renderEvery after the one before it (the first after a quiet second at
// once), so a busy pass renders a section about once a second, not once
// per source (a section of many sources takes a while to read), and no
// fetch waits for another's render.
type renderQueue struct {
	mu      sync.Mutex
	idle    sync.Cond
	dirty   []string // section ids waiting
	running bool
	last    time.Time // when the last render started
}

// add queues ids and, unless a render is running, renders with render
// until nothing waits. render gets each batch once.
func (q *renderQueue) add(ids []string, render func(ids []string)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.idle.L == nil {
		q.idle.L = &q.mu
	}
	for _, id := range ids {
		if !slices.Contains(q.dirty, id) {
			q.dirty = append(q.dirty, id)
		}
	}
	if q.running {
		return
	}
	q.running = true
	for len(q.dirty) > 0 {
		if wait := renderEvery - time.Since(q.last); wait > 0 {
			q.mu.Unlock()
			time.Sleep(wait) // the window in which further commits join this render
			q.mu.Lock()
		}
		batch := q.dirty
		q.dirty = nil
		q.last = time.Now()
		q.mu.Unlock()
		render(batch)
		q.mu.Lock()
	}
	q.running = false
	q.idle.Broadcast()
}

// wait returns once nothing is queued or rendering: what was committed
// before it was called is rendered.
func (q *renderQueue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.idle.L == nil {
		q.idle.L = &q.mu
	}
	for q.running || len(q.dirty) > 0 {
		q.idle.Wait()
	}
}
