package newsdesk

import "time"

// SectionVersion is the version of a section's published content: a hash
// of what every format of the section is rendered from, and the time that
// content last changed. ChangedAt is what readers see as the section's
// Last-Modified and its feeds' updated date; it moves only when the hash
// does, never backwards, and is kept in the store so that it survives
// restarts and is the same for serve, run and export.
type SectionVersion struct {
	Hash      string    `json:"hash"`
	ChangedAt time.Time `json:"changed_at"`
}

// Next is the version that follows v when the section's content hashes to
// hash at time now. The same hash keeps v. A new hash is dated now, to the
// second (the resolution of HTTP dates), and always after v's ChangedAt:
// when the clock has not passed it (a second change in the same second, or
// a clock set back), a nanosecond after it. A ChangedAt that is not a
// whole second says so: its Last-Modified is the same second as the
// version before, so an If-Modified-Since of that second must not be
// answered 304 (see publisher). ChangedAt thus never goes back and never
// runs ahead of the clock.
func (v SectionVersion) Next(hash string, now time.Time) SectionVersion {
	if v.Hash == hash && !v.ChangedAt.IsZero() {
		return v
	}
	at := now.UTC().Truncate(time.Second)
	if !v.ChangedAt.IsZero() && !at.After(v.ChangedAt) {
		at = v.ChangedAt.UTC().Add(time.Nanosecond)
	}
	return SectionVersion{Hash: hash, ChangedAt: at}
}
