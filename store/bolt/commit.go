package bolt

import (
	"fmt"
	"slices"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// Group commit. A bbolt commit writes its pages, then its meta page, with
// an fdatasync after each: a few milliseconds on a disk, more than the
// rest of saving a typical fetch. The fetcher saves from many goroutines
// at once, so the saves that queue while one commit is writing share the
// next transaction: one commit, one pair of fsyncs, for all of them. There
// is no timer: a save that finds no commit running is committed at once,
// alone.
//
// bbolt's DB.Batch does this too, but runs the functions on a timer's
// goroutine, outside guarded (damage.go), where a damaged file would crash
// the process. Here a caller commits its group in its own goroutine,
// through DB.update: a panic or a memory fault in any function of the
// group is a DamagedError for every caller in it.
//
// Each function stays atomic: it commits with the others or not at all.
// When one returns an error, the group's transaction is rolled back and
// each function runs again in a transaction of its own, so one failing
// save neither fails nor loses the others and each caller gets its own
// result. A function may therefore run twice: it must reset whatever it
// sets outside the transaction each time it starts.

// A group holds at most maxGroupCalls functions and, beyond its first,
// at most maxGroupWeight of weight (items to write): dirty pages stay in
// memory until the commit, and bbolt inserts into an unsplit node in
// linear time, so a transaction must stay bounded. With the fetcher's
// default 8 fetches at once a group is far below both.
const (
	maxGroupCalls  = 128
	maxGroupWeight = 4096
)

// committer is the queue of functions waiting to commit, shared by a DB and
// the handles Borrow makes of it. Its zero value is ready to use.
type committer struct {
	mu      sync.Mutex
	queue   []*pending
	leading bool // a caller is committing a group; it hands over when done
	closed  bool // the database was closed: queued functions fail
}

// pending is one queued function and, once it has run, its result.
type pending struct {
	fn     func(*bbolt.Tx) error
	weight int
	err    error
	// done receives true when err is the result, false when the caller is
	// to commit the next group (its function is first in the queue).
	done chan bool
}

// commit runs fn in a write transaction that it may share with other
// callers' (see above); weight is about how many items fn writes.
func (db *DB) commit(weight int, fn func(*bbolt.Tx) error) error {
	c := &db.health.commits
	p := &pending{fn: fn, weight: weight, done: make(chan bool, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return db.closedError()
	}
	c.queue = append(c.queue, p)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if !lead && <-p.done {
		return p.err
	}
	// p is first in the queue: the group taken from its front holds it.
	group, closed := c.take()
	if closed {
		finish(group, db.closedError())
	} else {
		db.commitGroup(group)
	}
	c.handOver()
	return p.err
}

// take removes the next group from the front of the queue.
func (c *committer) take() (group []*pending, closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, weight := 0, 0
	for n < len(c.queue) && n < maxGroupCalls {
		if weight += c.queue[n].weight; n > 0 && weight > maxGroupWeight {
			break
		}
		n++
	}
	group = slices.Clone(c.queue[:n])
	clear(c.queue[:n]) // the queue's array outlives them: let their items go
	c.queue = c.queue[n:]
	return group, c.closed
}

// handOver makes the first queued caller commit the next group, or
// records that nobody is committing.
func (c *committer) handOver() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.leading = false
		return
	}
	c.queue[0].done <- false
}

// close makes queued and later functions fail instead of running.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// commitGroup runs a group's functions in one transaction, or when one of
// them fails, each in its own.
func (db *DB) commitGroup(group []*pending) {
	failed := false
	err := db.update(func(tx *bbolt.Tx) error {
		for _, p := range group {
			if err := p.fn(tx); err != nil {
				failed = true
				return err
			}
		}
		return nil
	})
	if !failed || len(group) == 1 {
		finish(group, err)
		return
	}
	for _, p := range group {
		p.err = db.update(p.fn)
		p.done <- true
	}
}

// finish gives every function of group the result err.
func finish(group []*pending, err error) {
	for _, p := range group {
		p.err = err
		p.done <- true
	}
}

func (db *DB) closedError() error {
	return fmt.Errorf("database %s is closed", db.path)
}
