package newsdesk

import "time"

// Item is one normalized entry of a source feed. Its ID is unique within its
// source; (SourceID, ID) is unique across newsdesk.
type Item struct {
	SourceID   string      `json:",omitempty"`
	ID         string      // guid / Atom id / JSON id, else the resolved link, else a hash of title and date
	Title      string      // plain text, entities decoded
	Link       string      // absolute and canonical (CanonicalLink): no tracking parameters, no fragment
	Summary    string      `json:",omitempty"` // sanitized HTML, URLs absolute
	Content    string      `json:",omitempty"` // sanitized HTML, URLs absolute
	Authors    []Person    `json:",omitempty"`
	Categories []string    `json:",omitempty"`
	Published  time.Time   // UTC; the first-seen time when the feed gave none
	Updated    time.Time   // UTC; equal to Published when the feed gave none
	Enclosures []Enclosure `json:",omitempty"`
	FirstSeen  time.Time   // UTC; when newsdesk first stored the item
	// RawDate is the date as the feed wrote it, kept when newsdesk could not
	// believe it (unparseable, before 1990, in the future) and dated the
	// item by when it first saw it instead.
	RawDate string `json:",omitempty"`

	// Duplicates are the same story from other sources, collapsed into
	// this item in a section (same canonical link, or near-identical title
	// when the section dedupes titles). Filled in by section queries only.
	Duplicates []ItemRef `json:"-"`
}

// ItemRef names an item: its source and its id within the source.
type ItemRef struct {
	SourceID string
	ID       string
}

// Person is an author of an item.
type Person struct {
	Name  string `json:",omitempty"`
	Email string `json:",omitempty"`
}

// Enclosure is a media file attached to an item (a podcast episode, an image).
type Enclosure struct {
	URL    string
	Type   string
	Length int64
}

// Time is the item's time for ordering in sections: when it was published.
func (it *Item) Time() time.Time { return it.Published }
