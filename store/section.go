package store

import (
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk"
)

// Reading is what every engine decides alike while it reads one section
// (store.Store.Section): which items the rules keep, which are pinned or
// hidden, and which copy of a story is shown. The engines keep only how
// they find items and the candidates for duplicates.
type Reading struct {
	Sources []string // the section's sources, each once
	keep    func(*newsdesk.Item) bool
	verdict map[newsdesk.ItemRef]bool
	skip    map[newsdesk.ItemRef]bool // pinned (shown already) and hidden items
	pinned  map[newsdesk.ItemRef]bool
}

// NewReading starts the reading of q.
func NewReading(q newsdesk.Query) *Reading {
	return &Reading{Sources: dedupe(q.Sources), keep: q.Keep, skip: map[newsdesk.ItemRef]bool{}, pinned: map[newsdesk.ItemRef]bool{}}
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Lookup returns a stored item of the section, nil when it is not stored.
type Lookup func(newsdesk.ItemRef) (*newsdesk.Item, error)

// Pins appends the section's pinned items (edits, most recent first) to
// out, up to limit, whatever the rules say, and notes the pinned and
// hidden items, which the rest of the reading skips. A decision about a
// source that left the section lapses.
func (r *Reading) Pins(edits []Edit, limit int, item Lookup, out []newsdesk.Item) ([]newsdesk.Item, error) {
	for _, e := range edits {
		if !slices.Contains(r.Sources, e.Ref.SourceID) {
			continue // its source left the section
		}
		r.skip[e.Ref] = true
		if e.Decision != newsdesk.Pin {
			continue
		}
		r.pinned[e.Ref] = true
		if len(out) >= limit {
			continue
		}
		it, err := item(e.Ref)
		if err != nil {
			return nil, err
		}
		if it != nil {
			out = append(out, *it)
		}
	}
	return out, nil
}

// Skipped reports whether the merge passes over ref: pinned or hidden.
func (r *Reading) Skipped(ref newsdesk.ItemRef) bool { return r.skip[ref] }

// Kept reports whether the section's rules keep it, asking them once per item.
func (r *Reading) Kept(it *newsdesk.Item) bool {
	if r.keep == nil {
		return true
	}
	ref := newsdesk.ItemRef{SourceID: it.SourceID, ID: it.ID}
	if r.verdict == nil {
		r.verdict = map[newsdesk.ItemRef]bool{}
	}
	v, ok := r.verdict[ref]
	if !ok {
		v = r.keep(it)
		r.verdict[ref] = v
	}
	return v
}

// Candidate is another item that may be the same story, found by link or
// title, with when it was first seen.
type Candidate struct {
	Ref       newsdesk.ItemRef
	FirstSeen time.Time
}

// Story decides whether it is shown: its duplicates are the candidates of
// the section that the rules keep, not pinned or hidden; the one seen
// first (ties: the smaller source id, then item id) is shown, with the
// others, sorted, as its duplicates. shown is false when another is, or
// when the same story is pinned (shown there).
func (r *Reading) Story(it *newsdesk.Item, cands []Candidate, item Lookup) (dups []newsdesk.ItemRef, shown bool, err error) {
	self := newsdesk.ItemRef{SourceID: it.SourceID, ID: it.ID}
	winner, winnerSeen := self, it.FirstSeen
	seen := map[newsdesk.ItemRef]bool{self: true}
	for _, c := range cands {
		if r.pinned[c.Ref] {
			return nil, false, nil
		}
		if seen[c.Ref] || r.skip[c.Ref] || !slices.Contains(r.Sources, c.Ref.SourceID) {
			continue
		}
		seen[c.Ref] = true
		other, err := item(c.Ref)
		if err != nil {
			return nil, false, err
		}
		if other == nil || !r.Kept(other) {
			continue
		}
		dups = append(dups, c.Ref)
		if c.FirstSeen.Before(winnerSeen) || c.FirstSeen.Equal(winnerSeen) && refLess(c.Ref, winner) {
			winner, winnerSeen = c.Ref, c.FirstSeen
		}
	}
	if winner != self {
		return nil, false, nil
	}
	slices.SortFunc(dups, func(a, b newsdesk.ItemRef) int {
		return strings.Compare(a.SourceID+"\x00"+a.ID, b.SourceID+"\x00"+b.ID)
	})
	return dups, true, nil
}

func refLess(a, b newsdesk.ItemRef) bool {
	return a.SourceID < b.SourceID || a.SourceID == b.SourceID && a.ID < b.ID
}
