package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"

	"github.com/newsdesk/newsdesk"
)

// The parts of a fetch's storing that every engine decides alike; the
// engines keep only their reads and writes.

// Record is an item as every engine stores it (as JSON). Dated records
// whether the feed gave the item a date of its own, so that a re-fetch of
// an undated item keeps its first-seen date instead of looking changed.
type Record struct {
	newsdesk.Item
	Dated bool `json:",omitempty"`
}

// Same reports whether two records would be stored alike. Records that
// are deeply equal are (a re-fetched item that did not change, the common
// case: no encoding needed); others are compared by their JSON, which
// tells apart only what storing does (a nil and an empty list, the
// in-memory Duplicates are alike).
func Same(a, b Record) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// Classify works out what storing one fetched item of source src means,
// given its stored version (old, nil when none) and whether a tombstone
// holds its id: nil for an unchanged item, renew for one pruned before
// (the feed still carries it: its tombstone is renewed), else the record
// to write. A new item is first seen at now, and an undated one is dated
// by that; a stored one keeps both, and its Updated moves to now when
// anything changed but the feed did not move it.
func Classify(src string, it newsdesk.Item, old *Record, tombstoned bool, now time.Time) (rec *Record, renew bool) {
	it.SourceID = src
	it.Duplicates = nil
	it.Title = newsdesk.CapTitle(it.Title)
	it.Published, it.Updated = it.Published.UTC(), it.Updated.UTC()
	r := Record{Item: it, Dated: !it.Published.IsZero()}
	if old != nil {
		r.FirstSeen = old.FirstSeen
		if !r.Dated {
			r.Published = old.Published
		}
	} else {
		if tombstoned {
			return nil, true
		}
		r.FirstSeen = now
		if !r.Dated {
			r.Published = now
		}
	}
	if r.Updated.IsZero() || r.Updated.Before(r.Published) {
		r.Updated = r.Published
	}
	if old != nil {
		if !r.Updated.After(old.Updated) {
			r.Updated = old.Updated
		}
		if Same(r, *old) {
			return nil, false
		}
		if !r.Updated.After(old.Updated) {
			r.Updated = now
		}
	}
	r.FirstSeen = r.FirstSeen.UTC()
	return &r, false
}

// Pruner decides, from a source's oldest item to its newest (stored and
// incoming together, as if all were stored), which items retention drops:
// those older than MaxAge before the newest item, or beyond the newest
// MaxItems, but never the newest MinItems.
type Pruner struct {
	keep   newsdesk.Retention
	cutoff time.Time
	// Count is how many items the source has: the stored and new ones
	// when made, one fewer for each item Drop drops.
	Count int64
}

// NewPruner is a Pruner for a source of count items whose newest item is
// published at newest.
func NewPruner(keep newsdesk.Retention, count int64, newest time.Time) *Pruner {
	return &Pruner{keep: keep, cutoff: newest.Add(-keep.MaxAge), Count: count}
}

// Active reports whether keep can drop anything at all.
func Active(keep newsdesk.Retention) bool { return keep.MaxAge > 0 || keep.MaxItems > 0 }

// Drop reports whether the next item, oldest first, published at t, goes,
// and counts it out when it does. Once it says no, every newer item stays.
func (p *Pruner) Drop(t time.Time) bool {
	if p.Count <= int64(max(p.keep.MinItems, 0)) {
		return false
	}
	tooOld := p.keep.MaxAge > 0 && t.Before(p.cutoff)
	tooMany := p.keep.MaxItems > 0 && p.Count > int64(p.keep.MaxItems)
	if !tooOld && !tooMany {
		return false
	}
	p.Count--
	return true
}

// Tally counts what a fetch did to a source's items, for its FetchState.
type Tally struct {
	Added, Changed, Skipped int
	SkipReason              string // the first skipped item's
}

// Skip counts out an item that cannot be stored (err): it was counted as
// added (isNew) or changed.
func (t *Tally) Skip(id string, isNew bool, err error) {
	if isNew {
		t.Added--
	} else {
		t.Changed--
	}
	if t.Skipped == 0 {
		t.SkipReason = SkipReason(id, err)
	}
	t.Skipped++
}

// Fill puts the tally into st: New, Updated, Skipped and SkipReason, New
// also in its last History entry.
func (t Tally) Fill(st *newsdesk.FetchState) {
	st.New, st.Updated, st.Skipped, st.SkipReason = t.Added, t.Changed, t.Skipped, t.SkipReason
	if n := len(st.History); n > 0 {
		st.History[n-1].New = st.New // known only now
	}
}

// Storable is the items of a fetch that can be stored, each under its
// StoredID: those without an id are left out, and when the feed carries an
// id twice, the first wins.
func Storable(items []newsdesk.Item) []newsdesk.Item {
	seen := make(map[string]bool, len(items))
	out := make([]newsdesk.Item, 0, len(items)) // growing a slice of 100,000 items by appends cost seconds
	for _, it := range items {
		if it.ID == "" {
			continue
		}
		it.ID = StoredID(it.ID)
		if !seen[it.ID] {
			seen[it.ID] = true
			out = append(out, it)
		}
	}
	return out
}
