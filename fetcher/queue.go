package fetcher

import (
	"container/heap"

	"github.com/newsdesk/newsdesk"
)

// queue holds the due sources of a pass (or of Run) until slots are free
// for them, and starts each, in due order, as soon as its host's and a
// global slot are: no goroutine waits for a slot, so a source waiting
// costs its place in the queue however many there are. (A goroutine per
// due source parked on its slots cost each its stack, about 16 KB: 150 MB
// for a pass of 10,000 sources, issue 12.)
//
// Sources wait by host, in the order they came; the hosts wait in the
// order of their first waiting source, so a source whose host is busy
// never holds up one whose host is free.
type queue struct {
	hosts map[string]*hostQueue
	order hostHeap // the hosts with sources waiting, by their first one's place
	seq   int      // places given so far
	n     int      // sources waiting
}

// hostQueue is the sources waiting for one host.
type hostQueue struct {
	host    string
	waiting []waiting
}

// waiting is a source in the queue: its place, the index the caller gave
// it (RunOnce: in its due sources) and the host it is fetched from.
type waiting struct {
	place int
	i     int
	src   newsdesk.Source
	host  string
}

// push queues src, fetched from host, as the caller's i.
func (q *queue) push(i int, src newsdesk.Source, host string) {
	if q.hosts == nil {
		q.hosts = map[string]*hostQueue{}
	}
	w := waiting{place: q.seq, i: i, src: src, host: host}
	if hq := q.hosts[host]; hq != nil {
		hq.waiting = append(hq.waiting, w)
	} else {
		hq = &hostQueue{host: host, waiting: []waiting{w}}
		q.hosts[host] = hq
		heap.Push(&q.order, hq)
	}
	q.seq++
	q.n++
}

// len is how many sources wait.
func (q *queue) len() int { return q.n }

// dispatch takes slots for the waiting sources, first come first, and
// starts each that got them with start (which must give its grant back).
// It stops at the first that finds every global slot taken. It returns a
// channel closed when a slot is given back after it looked (nil when
// nothing waits): what could not start may then.
func (q *queue) dispatch(s *Scheduler, start func(w waiting, g *grant)) <-chan struct{} {
	var wait <-chan struct{}
	var full []*hostQueue // hosts whose slots are taken; back in order at the end
	for q.order.Len() > 0 {
		hq := q.order[0]
		g, hostFull, freed := s.tryAcquire(hq.host)
		if g == nil {
			if wait == nil { // the first: a slot given back after it is missed by none
				wait = freed
			}
			if !hostFull {
				break
			}
			full = append(full, heap.Pop(&q.order).(*hostQueue))
			continue
		}
		w := hq.waiting[0]
		hq.waiting[0] = waiting{} // the queue no longer keeps it
		hq.waiting = hq.waiting[1:]
		q.n--
		if len(hq.waiting) == 0 {
			heap.Pop(&q.order)
			delete(q.hosts, hq.host)
		} else {
			heap.Fix(&q.order, 0)
		}
		start(w, g)
	}
	for _, hq := range full {
		heap.Push(&q.order, hq)
	}
	if q.n == 0 {
		return nil
	}
	return wait
}

// drain empties the queue and returns what waited, in no order.
func (q *queue) drain() []waiting {
	var out []waiting
	for _, hq := range q.hosts {
		out = append(out, hq.waiting...)
	}
	*q = queue{}
	return out
}

// hostHeap orders hosts by the place of their first waiting source
// (container/heap).
type hostHeap []*hostQueue

func (h hostHeap) Len() int           { return len(h) }
func (h hostHeap) Less(i, j int) bool { return h[i].waiting[0].place < h[j].waiting[0].place }
func (h hostHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hostHeap) Push(x any)        { *h = append(*h, x.(*hostQueue)) }
func (h *hostHeap) Pop() any {
	old := *h
	hq := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return hq
}
