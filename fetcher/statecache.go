package fetcher

import (
	"sync"

	"github.com/newsdesk/newsdesk"
)

// stateCache is Run's copy of the stored fetch states (the file store's
// scheduler, which is the store's one writer): read whole at start, on
// SetSources and after a store error, and kept up to date from each
// commit, so that deciding what is due does not read every state again
// after every fetch.
type stateCache struct {
	mu sync.Mutex
	m  map[string]newsdesk.FetchState // by source id; nil: to be read
	// recent are the states committed while m is being read (nil until
	// track): they are newer than what the read may have seen.
	recent map[string]newsdesk.FetchState
}

// track starts keeping the states (Run).
func (c *stateCache) track() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil && c.recent == nil {
		c.recent = map[string]newsdesk.FetchState{}
	}
}

// valid reports whether the states are known.
func (c *stateCache) valid() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m != nil
}

// invalidate has the states read again.
func (c *stateCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m != nil {
		c.m, c.recent = nil, map[string]newsdesk.FetchState{}
	}
}

// fill sets the states to those read, list, and those committed since the
// read began.
func (c *stateCache) fill(list []newsdesk.FetchState) {
	m := make(map[string]newsdesk.FetchState, len(list))
	for _, st := range list {
		m[st.SourceID] = st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, st := range c.recent {
		m[id] = st
	}
	c.m, c.recent = m, nil
}

// put records st, just committed or read, as its source's state.
func (c *stateCache) put(st newsdesk.FetchState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.m != nil:
		c.m[st.SourceID] = st
	case c.recent != nil:
		c.recent[st.SourceID] = st
	}
}
